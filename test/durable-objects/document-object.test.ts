import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WriteCommand } from "../../domain/commands";
import { type DocumentState, decide, type WriteOperation } from "../../domain/document";
import type { JsonObject } from "../../domain/json";
import { type DocumentKey, objectName } from "../../domain/keys";
import type { Preconditions } from "../../domain/preconditions";
import type { DocumentObject } from "../../durable-objects/DocumentObject";
import { documentStub } from "../../workers/documents-client";
import { uniqueId } from "../helpers";

function keyFor(id: string): DocumentKey {
  return { tenant: "default", collection: "objects", id };
}

function rawStub(key: DocumentKey): DurableObjectStub<DocumentObject> {
  return env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
}

interface Stored {
  document: Array<Record<string, SqlStorageValue>>;
  events: Array<{ version: number; type: string; data: string | null }>;
  outbox: Array<{ version: number; sent_at: number | null }>;
}

function readTables(key: DocumentKey): Promise<Stored> {
  return runInDurableObject(rawStub(key), (_instance, state) => ({
    document: state.storage.sql.exec("SELECT * FROM document").toArray(),
    events: state.storage.sql
      .exec<{ version: number; type: string; data: string | null }>(
        "SELECT version, type, data FROM events ORDER BY version",
      )
      .toArray(),
    outbox: state.storage.sql
      .exec<{ version: number; sent_at: number | null }>(
        "SELECT version, sent_at FROM outbox ORDER BY version",
      )
      .toArray(),
  }));
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
  it("keeps event log, outbox, sent events and state in agreement with the domain's fold after any sequence of writes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(operation, preconditions), { minLength: 1, maxLength: 12 }),
        async (steps) => {
          const key = keyFor(uniqueId("prop"));
          const stub = documentStub(env.DOCUMENTS, key);
          const sent: number[] = [];
          await runInDurableObject(rawStub(key), (instance) => {
            instance.publish = async (batch) => {
              sent.push(...batch.map((m) => m.version));
            };
          });
          let model: DocumentState | null = null;
          for (const [op, pre] of steps) {
            const result = await stub.write({ key, operation: op, preconditions: pre });
            const decision = decide(model, { operation: op, preconditions: pre }, 0, {
              maxDocumentBytes: 1 << 20,
            });
            expect(result.kind).toBe(decision.kind === "commit" ? "committed" : decision.rejection.kind);
            if (decision.kind === "commit") model = decision.state;
          }
          // The alarm drains whatever the sends after each commit have not yet delivered.
          await runDurableObjectAlarm(rawStub(key));
          const stored = await readTables(key);
          const versions = stored.events.map((e) => e.version);
          // Gap-free versions from 1, each sent exactly once, the document row at the last.
          expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
          expect([...sent].sort((a, b) => a - b)).toEqual(versions);
          // Sent, and kept until the change feed confirms them (this test's publisher only records).
          expect(stored.outbox.filter((o) => o.sent_at === null)).toEqual([]);
          const last = stored.events.at(-1);
          if (model === null) {
            expect(stored.document).toEqual([]);
            expect(last).toBeUndefined();
            return;
          }
          expect(stored.document[0]).toMatchObject({
            version: model.version,
            deleted: model.data === null ? 1 : 0,
          });
          expect(last?.version).toBe(model.version);
          expect(last?.data === null ? null : JSON.parse(last?.data ?? "null")).toEqual(model.data);
          const read = await stub.read(key);
          if (model.data === null) expect(read.kind).toBe("not-found");
          else {
            expect(read).toMatchObject({ kind: "found", version: model.version });
            const body = read.kind === "found" ? JSON.parse(read.body) : null;
            expect(body).toMatchObject({ version: model.version, data: model.data });
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("reloads its state from SQLite after the object is reset", async () => {
    const key = keyFor(uniqueId());
    const stub = documentStub(env.DOCUMENTS, key);
    await stub.write({ key, operation: { type: "put", data: { kept: true } }, preconditions: {} });
    await stub.write({ key, operation: { type: "merge-patch", patch: { more: 1 } }, preconditions: {} });
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
    const base = Date.parse("2026-01-01T00:00:00Z");
    let now = base;
    await runInDurableObject(rawStub(key), (instance) => {
      instance.clock = () => now;
    });
    const command = (data: JsonObject): WriteCommand => ({
      key,
      operation: { type: "put", data },
      preconditions: {},
      idempotency: { key: "ttl", fingerprint: JSON.stringify(data) },
    });
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

  it("refuses to serve a key that is not its own", async () => {
    const key = keyFor(uniqueId());
    const stub = documentStub(env.DOCUMENTS, key);
    await stub.write({ key, operation: { type: "put", data: {} }, preconditions: {} });
    // Called on the instance: a throw across RPC in the test pool also surfaces as an unhandled rejection.
    await runInDurableObject(rawStub(key), (instance) => {
      expect(() => instance.read({ ...key, id: "someone-else" })).toThrow(/not its own/);
    });
  });
});
