import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WriteResult } from "../../domain/commands";
import { type DocumentState, decide, type WriteOperation } from "../../domain/document";
import type { JsonObject } from "../../domain/json";
import { type DocumentKey, objectName } from "../../domain/keys";
import type { Preconditions } from "../../domain/preconditions";
import type { DocumentObject } from "../../durable-objects/DocumentObject";
import { documentStub } from "../../workers/documents-client";
import { settleAlarms, uniqueId } from "../helpers";
import { requestFor } from "../write-requests";

/** A document of this test's own, whose object's alarm (every commit sets one) is deleted when the test finishes. */
function keyFor(id: string): DocumentKey {
  const key = { tenant: "default", collection: "objects", id };
  settleAlarms(key);
  return key;
}

function rawStub(key: DocumentKey): DurableObjectStub<DocumentObject> {
  return env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
}

interface Stored {
  /** Names of the object's tables: none until a write has committed something. */
  tables: string[];
  meta: Array<Record<string, SqlStorageValue>>;
  events: Array<{ version: number; type: string; data: string | null; idempotency_key: string | null }>;
  outbox: number[];
  idempotency: Array<{ key: string; outcome: string }>;
  unsent: number | undefined;
}

function readTables(key: DocumentKey): Promise<Stored> {
  return runInDurableObject(rawStub(key), (instance, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
      )
      .toArray()
      .map((t) => t.name)
      .sort();
    if (tables.length === 0)
      return { tables, meta: [], events: [], outbox: [], idempotency: [], unsent: undefined };
    return {
      tables,
      meta: sql.exec("SELECT * FROM meta").toArray(),
      events: sql
        .exec<Stored["events"][number]>(
          "SELECT version, type, data, idempotency_key FROM events ORDER BY version",
        )
        .toArray(),
      outbox: sql
        .exec<{ version: number }>(
          `SELECT version FROM events WHERE version > (SELECT confirmed_through FROM meta)
         UNION SELECT version FROM holes ORDER BY version`,
        )
        .toArray()
        .map((r) => r.version),
      idempotency: sql
        .exec<{ key: string; outcome: string }>("SELECT key, outcome FROM idempotency")
        .toArray(),
      unsent: instance.outboxStatus()?.unsent,
    };
  });
}

/** Replaces the object's queue with a recorder: the versions it would have sent, in order. */
async function recordSends(key: DocumentKey): Promise<number[]> {
  const sent: number[] = [];
  await runInDurableObject(rawStub(key), (instance) => {
    instance.deps.publish = async (batch) => {
      sent.push(...batch.map((m) => m.version));
    };
  });
  return sent;
}

const smallObject = fc
  .dictionary(fc.constantFrom("a", "b", "n", "list"), fc.oneof(fc.integer(), fc.string(), fc.boolean()), {
    maxKeys: 3,
  })
  // fast-check builds null-prototype objects, which RPC cannot clone; requests always carry JSON.parse's objects.
  .map((value) => JSON.parse(JSON.stringify(value)) as JsonObject);

const operation: fc.Arbitrary<WriteOperation> = fc.oneof(
  smallObject.map((data) => ({ type: "put" as const, data: { ...data, n: 0 } })),
  smallObject.map((patch) => ({ type: "merge-patch" as const, patch })),
  fc.integer({ min: -3, max: 3 }).map((value) => ({
    type: "json-patch" as const,
    operations: [{ op: "increment" as const, path: ["n"], value, min: -5, max: 5 }],
  })),
  fc.constant({ type: "delete" as const }),
);

const preconditions: fc.Arbitrary<Preconditions> = fc.oneof(
  fc.constant({}),
  fc.integer({ min: 1, max: 6 }).map((v) => ({ ifMatch: [{ weak: false, opaque: String(v) }] })),
  fc.constant({ ifNoneMatch: "*" as const }),
);

describe("DocumentObject", () => {
  it("keeps event log, outbox, idempotency records, sent events and state in agreement with the domain's fold after any sequence of writes", async () => {
    const idempotencyKey = fc.option(fc.constantFrom("k1", "k2", "k3"), { nil: undefined, freq: 2 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(operation, preconditions, idempotencyKey), { minLength: 1, maxLength: 12 }),
        async (steps) => {
          const key = keyFor(uniqueId("prop"));
          const stub = documentStub(env.DOCUMENTS, key);
          const sent = await recordSends(key);
          let model: DocumentState | null = null;
          const events: Array<{
            version: number;
            type: string;
            data: unknown;
            idempotency_key: string | null;
          }> = [];
          const firstUse = new Map<string, { request: string; result: WriteResult }>();
          for (const [op, pre, idem] of steps) {
            const request = requestFor(key, op, pre, idem === undefined ? {} : { idempotencyKey: idem });
            const result = await stub.write(request);
            const earlier = idem === undefined ? undefined : firstUse.get(idem);
            if (earlier !== undefined) {
              // A key seen before: the same request replays the first answer, another one is refused.
              if (earlier.request === JSON.stringify([request.body, pre])) {
                expect(result).toEqual({ ...earlier.result, replayed: true });
              } else {
                expect(result).toEqual({ kind: "idempotency-key-reused", replayed: false });
              }
              continue;
            }
            const decision = decide(model, { operation: op, preconditions: pre }, 0, {
              maxDocumentBytes: 1 << 20,
            });
            expect(result.kind).toBe(decision.kind === "commit" ? "committed" : decision.rejection.kind);
            expect(result.replayed).toBe(false);
            if (idem !== undefined)
              firstUse.set(idem, { request: JSON.stringify([request.body, pre]), result });
            if (decision.kind === "commit") {
              model = decision.state;
              events.push({
                version: model.version,
                type: decision.type,
                data: model.data,
                idempotency_key: idem ?? null,
              });
            }
          }
          // The alarm drains whatever the sends after each commit have not yet delivered.
          await runDurableObjectAlarm(rawStub(key));
          const stored = await readTables(key);
          // Every commit is in the log, in order, with its state, type and key; each was sent exactly once.
          expect(
            stored.events.map((e) => ({ ...e, data: e.data === null ? null : JSON.parse(e.data) })),
          ).toEqual(events);
          const versions = events.map((e) => e.version);
          expect([...sent].sort((a, b) => a - b)).toEqual(versions);
          expect(stored.unsent ?? 0).toBe(0);
          // Sent, and kept until the change feed confirms them (this test's publisher only records).
          expect(stored.outbox).toEqual(versions);
          // One idempotency record per key used, holding the first answer's outcome.
          expect(stored.idempotency.map((r) => r.key).sort()).toEqual([...firstUse.keys()].sort());
          for (const record of stored.idempotency) {
            expect(JSON.parse(record.outcome).kind).toBe(firstUse.get(record.key)?.result.kind);
          }
          if (model === null) {
            // Nothing committed: no schema at all, unless a refusal had to be remembered under a key.
            expect(stored.tables).toEqual(
              firstUse.size === 0 ? [] : ["events", "holes", "idempotency", "meta", "tx_done", "tx_lock"],
            );
            return;
          }
          expect(stored.meta).toEqual([{ singleton: 1, ...key, confirmed_through: 0 }]);
          const read = await stub.read(key);
          if (model.data === null) expect(read.kind).toBe("not-found");
          else {
            expect(read).toMatchObject({ kind: "found", version: model.version });
            const body = read.kind === "found" ? JSON.parse(read.body) : null;
            expect(body).toMatchObject({ version: model.version, data: model.data });
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("reloads its state from SQLite after the object is reset", async () => {
    const key = keyFor(uniqueId());
    const stub = documentStub(env.DOCUMENTS, key);
    // Sends recorded, not queued: one the reset cut off would only add the queue broker's complaint to the output.
    await recordSends(key);
    await stub.write(requestFor(key, { type: "put", data: { kept: true } }));
    await stub.write(requestFor(key, { type: "merge-patch", patch: { more: 1 } }));
    await abortAllDurableObjects();
    const read = await documentStub(env.DOCUMENTS, key).read(key);
    expect(read).toMatchObject({ kind: "found", version: 2 });
    expect(read.kind === "found" ? JSON.parse(read.body) : null).toMatchObject({
      data: { kept: true, more: 1 },
    });
  });

  it("forgets an idempotency key after its time to live, by the object's clock", async () => {
    const key = keyFor(uniqueId());
    const stub = documentStub(env.DOCUMENTS, key);
    // An hour ahead of the runtime's clock: the alarms its writes set are not due while the test runs.
    const base = Date.now() + 3_600_000;
    let now = base;
    await runInDurableObject(rawStub(key), (instance) => {
      instance.deps.clock = () => now;
    });
    const command = (data: JsonObject) =>
      requestFor(key, { type: "put", data }, {}, { idempotencyKey: "ttl" });
    expect(await stub.write(command({ n: 1 }))).toMatchObject({ kind: "committed", version: 1 });
    now = base + 23 * 3600_000;
    expect(await stub.write(command({ n: 2 }))).toMatchObject({ kind: "idempotency-key-reused" });
    expect(await stub.write(command({ n: 1 }))).toMatchObject({
      kind: "committed",
      version: 1,
      replayed: true,
    });
    now = base + 24 * 3600_000 + 1;
    expect(await stub.write(command({ n: 2 }))).toMatchObject({
      kind: "committed",
      version: 2,
      replayed: false,
    });
  });

  it("deletes expired idempotency records in its alarm, also in an incarnation that did not store them", async () => {
    const key = keyFor(uniqueId("expiry"));
    await recordSends(key);
    const keyed = (idempotencyKey: string, n: number) =>
      requestFor(key, { type: "put", data: { n } }, {}, { idempotencyKey });
    const stored = () =>
      runInDurableObject(rawStub(key), (_instance, state) =>
        state.storage.sql
          .exec<{ key: string }>("SELECT key FROM idempotency ORDER BY key")
          .toArray()
          .map((r) => r.key),
      );
    const base = Date.now();
    await runInDurableObject(rawStub(key), (instance) => {
      instance.deps.clock = () => base;
    });
    expect(await rawStub(key).write(keyed("old", 1))).toMatchObject({ kind: "committed", version: 1 });
    await runInDurableObject(rawStub(key), (instance) => {
      instance.deps.clock = () => base + 3600_000;
    });
    expect(await rawStub(key).write(keyed("new", 2))).toMatchObject({ kind: "committed", version: 2 });
    expect(await stored()).toEqual(["new", "old"]);

    // A new incarnation learns from storage that it holds records; a day after the first, its alarm forgets it.
    await abortAllDurableObjects();
    await runInDurableObject(rawStub(key), (instance) => {
      instance.deps.clock = () => base + 24 * 3600_000 + 1;
    });
    expect(await runDurableObjectAlarm(rawStub(key))).toBe(true);
    expect(await stored()).toEqual(["new"]);
    // The alarm comes back, at the latest when the one left expires.
    const alarm = await runInDurableObject(rawStub(key), (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(base + 3600_000 + 24 * 3600_000);
  });

  it("commits a burst of concurrent writes as a group, deciding each alone and in order", async () => {
    const key = keyFor(uniqueId("group"));
    const stub = documentStub(env.DOCUMENTS, key);
    const sent = await recordSends(key);
    await stub.write(requestFor(key, { type: "put", data: { n: 0 } }));
    // Ten writers race to replace version 1: the first to arrive wins, every other one sees version 2.
    const racers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stub.write(
          requestFor(key, { type: "put", data: { winner: i } }, { ifMatch: [{ weak: false, opaque: "1" }] }),
        ),
      ),
    );
    expect(racers.filter((r) => r.kind === "committed")).toHaveLength(1);
    expect(racers.filter((r) => r.kind === "precondition-failed")).toHaveLength(9);
    const winner = racers.findIndex((r) => r.kind === "committed");
    // Twenty unconditional patches, each to its own field: all commit, with unique, gap-free versions.
    const patches = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stub.write(requestFor(key, { type: "merge-patch", patch: { [`f${i}`]: i } })),
      ),
    );
    const versions = patches.map((r) => (r.kind === "committed" ? r.version : 0)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 3));
    const read = await stub.read(key);
    expect(read).toMatchObject({ kind: "found", version: 22 });
    const data = read.kind === "found" ? JSON.parse(read.body).data : null;
    expect(data).toEqual({
      winner,
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i])),
    });
    await runDurableObjectAlarm(rawStub(key));
    expect([...sent].sort((a, b) => a - b)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    const stored = await readTables(key);
    expect(stored.events.map((e) => e.version)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    // The bursts did go through group commits, with more than one write in a group.
    const groups = await runInDurableObject(rawStub(key), (instance) => ({ ...instance.groupCommits }));
    expect(groups.groups).toBeGreaterThan(0);
    expect(groups.writes).toBeGreaterThan(groups.groups);
  });

  it("fails one write of a group alone when its statement fails, and commits the others", async () => {
    const key = keyFor(uniqueId("group-fault"));
    const stub = documentStub(env.DOCUMENTS, key);
    await recordSends(key);
    await stub.write(requestFor(key, { type: "put", data: { n: 0 } }));
    // A real SQLite failure in the write path: the event INSERT of a state marked poison aborts.
    await runInDurableObject(rawStub(key), (_instance, state) => {
      state.storage.sql.exec(
        `CREATE TRIGGER poison BEFORE INSERT ON events WHEN json_extract(NEW.data, '$.poison') = 1
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
      );
    });
    // Called on the instance, all in one turn: a write rejected across RPC in the test pool also surfaces as an
    // unhandled rejection.
    const outcomes = await runInDurableObject(rawStub(key), (instance) =>
      Promise.allSettled(
        Array.from({ length: 9 }, async (_, i) =>
          instance.write(
            requestFor(key, { type: "merge-patch", patch: i === 4 ? { poison: 1 } : { [`f${i}`]: i } }),
          ),
        ),
      ),
    );
    const failed = outcomes.filter((o) => o.status === "rejected");
    expect(failed).toHaveLength(1);
    expect(String((failed[0] as PromiseRejectedResult).reason)).toContain("injected failure");
    const versions = outcomes
      .map((o) => (o.status === "fulfilled" && o.value.kind === "committed" ? o.value.version : 0))
      .filter((v) => v > 0)
      .sort((a, b) => a - b);
    expect(versions).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    // Memory and storage agree after the failure, also once the object starts again from storage.
    const expected = { n: 0, ...Object.fromEntries([0, 1, 2, 3, 5, 6, 7, 8].map((i) => [`f${i}`, i])) };
    const before = await stub.read(key);
    expect(before.kind === "found" ? JSON.parse(before.body).data : null).toEqual(expected);
    // The writes did share groups: the failure was isolated inside one, not by committing each alone.
    const groups = await runInDurableObject(rawStub(key), (instance) => ({ ...instance.groupCommits }));
    expect(groups.writes).toBeGreaterThan(groups.groups);
    await abortAllDurableObjects();
    const after = await documentStub(env.DOCUMENTS, key).read(key);
    expect(after).toMatchObject({ kind: "found", version: 9 });
    expect(after.kind === "found" ? JSON.parse(after.body).data : null).toEqual(expected);
    expect((await readTables(key)).events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("refuses to serve a key that is not its own", async () => {
    const key = keyFor(uniqueId());
    const stub = documentStub(env.DOCUMENTS, key);
    await stub.write(requestFor(key, { type: "put", data: {} }));
    // Called on the instance: a throw across RPC in the test pool also surfaces as an unhandled rejection.
    await runInDurableObject(rawStub(key), (instance) => {
      expect(() => instance.read({ ...key, id: "someone-else" })).toThrow(/not its own/);
    });
  });
});
