/**
 * What the chaos harness's saga workload found (bench/chaos/sagas.ts, the check `saga-stuck`: "its workflow
 * instance is errored", or running with its next step never returning): a saga record's transition is written
 * with a fixed Idempotency-Key (`{saga}-record-{label}`) but a body that carries the time of the call (`updatedAt`,
 * and `finishedAt` in workers/sagas/workflow.ts). When Workflows runs the step again after its first run committed
 * (the process stopped before the step's result was stored, or the answer was lost past the client's deadline),
 * the second run sends the same key with another body: the document refuses it as a reused key, the step throws
 * on every retry, and once they are spent the workflow errors with the saga left `running` or `compensating`.
 *
 * Fixed: a transition's key names it once per saga, so a key already used is taken as the transition recorded.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordKey, SagaRecordStore } from "../../workers/sagas/record";
import { uniqueId } from "../helpers";

describe("a saga record's transition run twice, as a step Workflows runs again", () => {
  it("is applied once and taken as done the second time", async () => {
    const store = new SagaRecordStore(env, recordKey("default", uniqueId("saga")));
    const created = await store.create("place-order", [], "2026-01-01T00:00:00.000Z", "fingerprint");
    expect(created.kind).toBe("committed");
    const compensating = [{ op: "replace" as const, path: "/status", value: "compensating" }];

    // The first run: committed, but its result never reached the workflow.
    await store.transition("compensating", compensating, "2026-01-01T00:00:01.000Z");
    // The step runs again a moment later, with the same label and the time of its own call.
    await expect(
      store.transition("compensating", compensating, "2026-01-01T00:00:02.000Z"),
    ).resolves.toBeUndefined();
    expect((await store.read())?.status).toBe("compensating");
  });
});
