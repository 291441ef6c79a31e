/**
 * What the code assumes about wrangler.toml, checked against wrangler's own reading of it: the queues the
 * consumer tells apart by name, and the rate-limit tiers whose limits the 429 answers quote.
 */
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { QUEUES } from "../../platform/queue";
import { TIERS, UNAUTHENTICATED } from "../../workers/security/rate-limits";

/** The parts of wrangler's reading this test looks at (its own types resolve loosely here). */
interface Read {
  queues: {
    consumers?: Array<{ queue: string; dead_letter_queue?: string }>;
    producers?: Array<{ queue: string }>;
  };
  ratelimits: Array<{ name: string; simple: { limit: number; period: number } }>;
}
const config = unstable_readConfig({ config: "wrangler.toml" }) as unknown as Read;

describe("wrangler.toml and the code", () => {
  it("declare the same queues: the events queue, its dead-letter queue, a consumer and a producer for each", () => {
    const consumers = config.queues.consumers ?? [];
    expect(consumers.map((c) => c.queue).sort()).toEqual([QUEUES.events, QUEUES.deadLetters].sort());
    expect(consumers.find((c) => c.queue === QUEUES.events)?.dead_letter_queue).toBe(QUEUES.deadLetters);
    expect((config.queues.producers ?? []).map((p) => p.queue).sort()).toEqual(
      [QUEUES.events, QUEUES.deadLetters].sort(),
    );
  });

  it("declare every rate-limit tier with the limit and period the code quotes", () => {
    const declared = new Map(config.ratelimits.map((r) => [r.name, r.simple]));
    for (const tier of [...Object.values(TIERS), UNAUTHENTICATED]) {
      expect(declared.get(tier.binding), tier.binding).toEqual({ limit: tier.limit, period: tier.period });
    }
    expect(declared.size).toBe(Object.keys(TIERS).length + 1);
  });
});
