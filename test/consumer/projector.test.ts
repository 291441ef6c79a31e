import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { indexSignature } from "../../domain/collections";
import type { WriteOperation } from "../../domain/document";
import type { EventMessage } from "../../domain/event-message";
import type { JsonObject } from "../../domain/json";
import { type DocumentKey, objectName } from "../../domain/keys";
import type { DocumentObject } from "../../durable-objects/DocumentObject";
import { QUEUES } from "../../platform/queue";
import { documentStub } from "../../workers/documents-client";
import { type ProjectorDeps, projectBatch } from "../../workers/projector/project-events";
import { MAX_PARAMETER_CHARS } from "../../workers/projector/projections/types";
import { deliver, messageBatch, type Outcome, outcomeOf, settleAlarms } from "../helpers";
import { requestFor } from "../write-requests";

/** Projects `bodies` as one batch through projectBatch with these deps (a wrapped D1, an injected clock). */
async function projectWith(deps: ProjectorDeps, bodies: readonly unknown[], attempts = 1): Promise<Outcome> {
  const delivery = messageBatch(QUEUES.events, bodies, attempts);
  await projectBatch(delivery.batch, deps);
  return outcomeOf(delivery);
}

/** A D1 binding whose batches fail when `fail()` says so: the partial failures a real D1 can have. */
function flakyDb(fail: () => boolean): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (fail()) throw new Error("D1 unavailable (injected)");
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function rawStub(key: DocumentKey): DurableObjectStub<DocumentObject> {
  return env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
}

/** An event as an object's outbox sends it: its index values computed under the declaration in force. */
function event(overrides: Partial<EventMessage> & { id: string; version: number }): EventMessage {
  return {
    v: 1,
    tenant: "default",
    collection: "unit",
    type: "put",
    eventId: `e-${overrides.id}-${overrides.version}`,
    committedAt: 1_700_000_000_000 + overrides.version,
    createdAt: 1_700_000_000_000,
    data: JSON.stringify({ v: overrides.version }),
    index: [],
    ix: indexSignature(overrides.collection ?? "unit"),
    ...overrides,
  };
}

async function documentRow(collection: string, id: string) {
  return env.DB.prepare("SELECT version, deleted, data FROM documents WHERE collection = ? AND id = ?")
    .bind(collection, id)
    .first<{ version: number; deleted: number; data: string | null }>();
}

async function changeVersions(collection: string, id: string): Promise<number[]> {
  const { results } = await env.DB.prepare(
    "SELECT version FROM changes WHERE collection = ? AND id = ? ORDER BY version",
  )
    .bind(collection, id)
    .all<{ version: number }>();
  return results.map((r) => r.version);
}

const smallObject = fc
  .dictionary(fc.constantFrom("a", "b", "n"), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), {
    maxKeys: 3,
  })
  .map((value) => JSON.parse(JSON.stringify(value)) as JsonObject);

const operation: fc.Arbitrary<WriteOperation> = fc.oneof(
  smallObject.map((data) => ({ type: "put" as const, data })),
  smallObject.map((patch) => ({ type: "merge-patch" as const, patch })),
  fc.constant({ type: "delete" as const }),
);

let run = 0;

describe("projector", () => {
  it("converges to the objects' state with each version in the feed once, whatever the delivery order, duplication and failures", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), operation), { minLength: 1, maxLength: 15 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
        async (steps, randomness) => {
          run += 1;
          const collection = `conv${run}`;
          const keys = [0, 1, 2].map((i): DocumentKey => ({ tenant: "default", collection, id: `d${i}` }));
          // The recording publisher confirms nothing: each object's alarm keeps polling the feed.
          settleAlarms(...keys);
          const sent: EventMessage[] = [];
          for (const key of keys) {
            await runInDurableObject(rawStub(key), (instance) => {
              instance.deps.publish = async (batch) => {
                sent.push(...batch);
              };
            });
          }
          for (const [which, op] of steps) {
            const key = keys[which] ?? keys[0];
            if (key === undefined) continue;
            await documentStub(env.DOCUMENTS, key).write(requestFor(key, op));
          }
          for (const key of keys) await runDurableObjectAlarm(rawStub(key));

          // Every event delivered one to three times, in a shuffled order, in batches of random sizes.
          const random = randomness[Symbol.iterator]();
          const next = () => random.next().value ?? 0;
          let pending = sent.flatMap((m) => Array.from({ length: 1 + Math.floor(next() * 3) }, () => m));
          pending = pending
            .map((m) => ({ m, k: next() }))
            .sort((a, b) => a.k - b.k)
            .map(({ m }) => m);
          let rounds = 0;
          while (pending.length > 0) {
            rounds += 1;
            const size = 1 + Math.floor(next() * 10);
            const bodies = pending.slice(0, size);
            pending = pending.slice(size);
            const failing = rounds < 30; // failures stop eventually, as a real outage does
            const { retried } = await projectWith(
              { db: flakyDb(() => failing && next() < 0.3), archive: env.ARCHIVE },
              bodies,
            );
            // Retried messages come back later, as the queue redelivers them.
            pending.push(...retried.map((i) => bodies[i]).filter((m): m is EventMessage => m !== undefined));
          }

          for (const key of keys) {
            const primary = await documentStub(env.DOCUMENTS, key).history(key, { after: 0, limit: 1000 });
            const row = await documentRow(collection, key.id);
            if (primary.kind === "not-found") {
              expect(row).toBeNull();
              expect(await changeVersions(collection, key.id)).toEqual([]);
              continue;
            }
            const last = primary.events.at(-1);
            expect(row?.version).toBe(last?.version);
            expect(row?.deleted).toBe(last?.type === "delete" ? 1 : 0);
            expect(row?.data === null ? null : JSON.parse(row?.data ?? "null")).toEqual(last?.data ?? null);
            expect(await changeVersions(collection, key.id)).toEqual(primary.events.map((e) => e.version));
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it("ignores a duplicate and an older, late event", async () => {
    const id = "dup";
    const { acked, retried } = await deliver(QUEUES.events, [
      event({ id, version: 2 }),
      event({ id, version: 2 }),
      event({ id, version: 1 }),
    ]);
    expect(acked).toEqual([0, 1, 2]);
    expect(retried).toEqual([]);
    expect(await documentRow("unit", id)).toMatchObject({ version: 2, data: '{"v":2}' });
    expect(await changeVersions("unit", id)).toEqual([1, 2]);
  });

  it("numbers the feed without gaps when events arrive again, in a later batch or twice in one", async () => {
    const id = "renumbered";
    const maxSeq = async () =>
      (await env.DB.prepare("SELECT max(seq) AS s FROM changes").first<{ s: number | null }>())?.s ?? 0;
    const before = await maxSeq();
    for (const versions of [[1, 2], [1, 2, 3], [3, 3, 4], [2]]) {
      const { acked } = await deliver(
        QUEUES.events,
        versions.map((version) => event({ id, version })),
      );
      expect(acked).toHaveLength(versions.length);
    }
    const { results } = await env.DB.prepare("SELECT seq, version FROM changes WHERE id = ? ORDER BY seq")
      .bind(id)
      .all<{ seq: number; version: number }>();
    expect(results).toEqual([1, 2, 3, 4].map((version) => ({ seq: before + version, version })));
    // What /v1/_stats reports as the events projected: four, however many deliveries.
    expect(await maxSeq()).toBe(before + 4);
  });

  it("keeps a deleted document deleted when an older put arrives late", async () => {
    const id = "tomb";
    expect(
      (await deliver(QUEUES.events, [event({ id, version: 3, type: "delete", data: null })])).acked,
    ).toEqual([0]);
    expect((await deliver(QUEUES.events, [event({ id, version: 2 })])).acked).toEqual([0]);
    expect(await documentRow("unit", id)).toMatchObject({ version: 3, deleted: 1, data: null });
  });

  it("acks good messages and retries a malformed one", async () => {
    const { acked, retried, result } = await deliver(QUEUES.events, [
      event({ id: "good", version: 1 }),
      { not: "an event" },
      event({ id: "large", version: 1, data: null, dataRef: "states/default/unit/e-large-1.json" }),
    ]);
    expect(acked).toEqual([0, 2]);
    expect(retried).toEqual([1]);
    // Per message: neither the whole batch acked nor the whole batch sent back.
    expect(result).toMatchObject({ ackAll: false, retryBatch: { retry: false } });
    // A large state is stored by reference, without loading it: the outbox put it in R2 before sending.
    expect(await documentRow("unit", "large")).toMatchObject({ version: 1, data: null });
  });

  it("retries a message it could not apply after a delay that doubles with its attempts, up to five minutes", async () => {
    const failing = flakyDb(() => true);
    for (const [attempts, delay] of [
      [1, 1],
      [2, 2],
      [4, 8],
      [9, 256],
      [10, 300],
    ] as const) {
      const { acked, retried, delays } = await projectWith(
        { db: failing, archive: env.ARCHIVE },
        [event({ id: `late-${attempts}`, version: 1 })],
        attempts,
      );
      expect(acked).toEqual([]);
      expect(retried).toEqual([0]);
      expect(delays).toEqual([delay]);
    }
  });

  it("stores the index values the event carries, without parsing its state", async () => {
    await deliver(QUEUES.events, [
      event({ id: "indexed", version: 1, data: "not parsed", index: ["open", 3] }),
    ]);
    const row = await env.DB.prepare("SELECT k0, k1, k2, data FROM documents WHERE id = 'indexed'").first();
    expect(row).toEqual({ k0: "open", k1: 3, k2: null, data: "not parsed" });
  });

  it("keeps every value's type and text exactly through the batch's JSON parameter", async () => {
    const data = JSON.stringify({ s: 'quote " backslash \\ tab \t nul \u0000 é 😀', n: 1.5e300, i: -7 });
    const index = ['é 😀 \u0000 "q"', 9007199254740991, 2.5, null];
    await deliver(QUEUES.events, [event({ id: "typed", version: 1, data, index })]);
    const row = await env.DB.prepare(
      `SELECT data, k0, k1, k2, k3, typeof(k0) AS t0, typeof(k1) AS t1, typeof(k2) AS t2, typeof(k3) AS t3
       FROM documents WHERE id = 'typed'`,
    ).first();
    expect(row).toEqual({
      data,
      k0: index[0],
      k1: 9007199254740991,
      k2: 2.5,
      k3: null,
      t0: "text",
      t1: "integer",
      t2: "real",
      t3: "null",
    });
    const change = await env.DB.prepare(
      "SELECT data, type, event_id FROM changes WHERE id = 'typed'",
    ).first();
    expect(change).toEqual({ data, type: "put", event_id: "e-typed-1" });
  });

  it("projects a hot document's burst in one batch: the newest version wins, the feed keeps every version in batch order", async () => {
    const id = "burst";
    const versions = Array.from({ length: 100 }, (_, i) => i + 1);
    const shuffled = [...versions].sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));
    const { acked } = await deliver(
      QUEUES.events,
      shuffled.map((version) => event({ id, version })),
    );
    expect(acked).toHaveLength(100);
    expect(await documentRow("unit", id)).toMatchObject({ version: 100, data: '{"v":100}' });
    const { results } = await env.DB.prepare("SELECT version FROM changes WHERE id = ? ORDER BY seq")
      .bind(id)
      .all<{ version: number }>();
    expect(results.map((r) => r.version)).toEqual(shuffled);
  });

  it("applies a batch too large for one statement's parameter, in several statements of one transaction", async () => {
    // 100 states of 60 KB: about 6 MB, where one parameter holds at most 1 MB.
    const events = Array.from({ length: 100 }, (_, i) =>
      event({ id: `big-${i}`, version: 1, data: JSON.stringify({ pad: "é".repeat(30_000), i }) }),
    );
    const parameters: string[] = [];
    let batches = 0;
    const recording = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") {
          return (statements: D1PreparedStatement[]) => {
            batches += 1;
            return target.batch(statements);
          };
        }
        if (prop === "prepare") {
          return (query: string) => {
            const statement = target.prepare(query);
            return new Proxy(statement, {
              get(s, p) {
                if (p === "bind")
                  return (...values: unknown[]) => {
                    if (typeof values[0] === "string") parameters.push(values[0]);
                    return s.bind(...values);
                  };
                const value = Reflect.get(s, p);
                return typeof value === "function" ? value.bind(s) : value;
              },
            });
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { acked } = await projectWith({ db: recording, archive: env.ARCHIVE }, events);
    expect(acked).toHaveLength(100);
    // One transaction of several statements, none of whose parameters exceeds the limit (at most 1 MB in UTF-8).
    expect(batches).toBe(1);
    expect(parameters.length).toBeGreaterThan(2);
    for (const json of parameters) expect(json.length).toBeLessThanOrEqual(MAX_PARAMETER_CHARS);
    const counts = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM documents WHERE id LIKE 'big-%') AS docs,
              (SELECT count(*) FROM changes WHERE id LIKE 'big-%') AS feed`,
    ).first();
    expect(counts).toEqual({ docs: 100, feed: 100 });
    expect((await documentRow("unit", "big-99"))?.data).toBe(events[99]?.data);
  });

  it("records projection and commit time for each change", async () => {
    const { acked } = await projectWith({ db: env.DB, archive: env.ARCHIVE, now: () => 1_700_000_005_000 }, [
      event({ id: "timed", version: 1 }),
    ]);
    expect(acked).toEqual([0]);
    const row = await env.DB.prepare(
      "SELECT committed_at, projected_at FROM changes WHERE id = 'timed'",
    ).first();
    expect(row).toEqual({ committed_at: 1_700_000_000_001, projected_at: 1_700_000_005_000 });
  });

  it("archives every event to R2 as NDJSON under its tenant and commit hour", async () => {
    const committedAt = Date.parse("2026-03-04T05:06:07Z");
    expect(
      (await deliver(QUEUES.events, [event({ id: "archived", version: 1, committedAt })])).acked,
    ).toEqual([0]);
    const listed = await env.ARCHIVE.list({ prefix: "events/default/2026/03/04/05/" });
    expect(listed.objects).toHaveLength(1);
    const text = await (await env.ARCHIVE.get(listed.objects[0]?.key ?? ""))?.text();
    const lines = (text ?? "")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as EventMessage);
    expect(lines.map((l) => [l.id, l.version])).toEqual([["archived", 1]]);
  });
});
