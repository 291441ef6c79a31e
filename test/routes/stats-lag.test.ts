import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventMessage } from "../../domain/event-message";
import { QUEUES } from "../../platform/queue";
import { projectBatch } from "../../workers/projector/project-events";
import { get, messageBatch, outcomeOf } from "../helpers";

const committed = 1_750_000_000_000;

function event(id: string, version: number): EventMessage {
  return {
    v: 1,
    tenant: "default",
    collection: "lag",
    id,
    version,
    type: "put",
    eventId: `e-${id}-${version}`,
    committedAt: committed,
    createdAt: committed,
    data: "{}",
    index: [],
  };
}

/** Projects one event at a chosen moment, so its lag (projection time minus commit time) is known. */
async function projectAt(ms: number, message: EventMessage) {
  const delivery = messageBatch(QUEUES.events, [message]);
  await projectBatch(delivery.batch, { db: env.DB, archive: env.ARCHIVE, now: () => committed + ms });
  expect((await outcomeOf(delivery)).acked).toEqual([0]);
}

describe("projection lag in GET /v1/_stats", () => {
  it("is the p50 and p99 of projection time minus commit time over the recent changes, counting each once", async () => {
    // Lags of 10, 20, ..., 1000 ms: p50 is the 50th (500 ms), p99 the 99th (990 ms).
    for (let i = 1; i <= 100; i++) await projectAt(i * 10, event(`d${i}`, 1));
    // A duplicate delivery, late, changes nothing.
    await projectAt(60_000, event("d1", 1));
    const stats = (await get("/v1/_stats")).body;
    expect(stats).toMatchObject({
      lagMs: { p50: 500, p99: 990, window: 100 },
      eventsProjected: 100,
      documents: 100,
    });
  });
});
