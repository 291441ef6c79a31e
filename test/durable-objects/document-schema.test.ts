import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventMessage } from "../../domain/event-message";
import { objectName } from "../../domain/keys";
import type { DocumentObject } from "../../durable-objects/DocumentObject";
import { migrate, SCHEMA_VERSION, schemaVersion, VERSION_1 } from "../../durable-objects/document-schema";
import { documentStub } from "../../workers/documents-client";
import { eventually, get, send, settleAlarms, uniqueId } from "../helpers";
import { requestFor } from "../write-requests";

function stubFor(id: string): DurableObjectStub<DocumentObject> {
  return env.DOCUMENTS.get(
    env.DOCUMENTS.idFromName(objectName({ tenant: "default", collection: "schema", id })),
  );
}

/** Every user table's columns and every index, as SQLite reports them: comparable whatever DDL made them. */
function shape(sql: SqlStorage) {
  const tables = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name",
    )
    .toArray();
  return {
    columns: tables.map(({ name }) => ({
      table: name,
      columns: sql
        .exec('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)', name)
        .toArray(),
    })),
    indexes: sql
      .exec("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
      .toArray(),
  };
}

function userTables(id: string): Promise<string[]> {
  return runInDurableObject(stubFor(id), (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\'",
      )
      .toArray()
      .map((t) => t.name),
  );
}

/**
 * Stores a `todos` document as a version 3 object left it: the key, and puts 1..`versions` (the outbox rows are
 * the caller's).
 */
function storeAtVersion3(sql: SqlStorage, id: string, versions: number): void {
  sql.exec(VERSION_1);
  migrate(sql, 1, 3);
  sql.exec("INSERT INTO meta VALUES (1, 'default', 'todos', ?)", id);
  for (let v = 1; v <= versions; v++) {
    sql.exec(
      "INSERT INTO events VALUES (?, ?, 'put', ?, 1700000000000, 1700000000000, NULL, NULL)",
      v,
      `e${v}`,
      JSON.stringify({ title: `t${v}`, status: "open" }),
    );
  }
}

describe("document object schema", () => {
  it("upgrades an object created at version 1 to exactly the schema a new object gets", async () => {
    const upgraded = await runInDurableObject(stubFor(uniqueId("v1")), (_instance, state) => {
      state.storage.sql.exec(VERSION_1);
      expect(schemaVersion(state.storage.sql)).toBe(1);
      state.storage.transactionSync(() => migrate(state.storage.sql, 1));
      expect(schemaVersion(state.storage.sql)).toBe(SCHEMA_VERSION);
      return shape(state.storage.sql);
    });
    const created = await runInDurableObject(stubFor(uniqueId("new")), (_instance, state) => {
      state.storage.transactionSync(() => migrate(state.storage.sql, 0));
      return shape(state.storage.sql);
    });
    expect(upgraded).toEqual(created);
    expect(created.columns.map((t) => t.table)).toEqual([
      "events",
      "holes",
      "idempotency",
      "meta",
      "tx_done",
      "tx_lock",
    ]);
  });

  it("keeps documents written before an upgrade readable and writable after it", async () => {
    const id = uniqueId("old");
    const key = { tenant: "default", collection: "schema", id };
    settleAlarms(key);
    await runInDurableObject(stubFor(id), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(VERSION_1);
      sql.exec(
        "INSERT INTO document VALUES (1, 'default', 'schema', ?, 1, 0, 1700000000000, 1700000000000)",
        id,
      );
      sql.exec(
        "INSERT INTO events VALUES (1, 'e1', 'put', '{\"old\":true}', 1700000000000, 1700000000000, NULL, NULL)",
      );
    });
    // A fresh instance (as after a deploy) migrates in its constructor.
    await abortAllDurableObjects();
    const stub = documentStub(env.DOCUMENTS, key);
    const read = await stub.read(key);
    expect(read).toMatchObject({ kind: "found", version: 1 });
    expect(await stub.write(requestFor(key, { type: "merge-patch", patch: { new: true } }))).toMatchObject({
      kind: "committed",
      version: 2,
    });
  });

  it("turns an outbox left by version 3 into the log's tail: what waited is sent with its index values, nothing else", async () => {
    const id = uniqueId("v3");
    const key = { tenant: "default", collection: "todos", id };
    settleAlarms(key);
    // A fresh stub for each call: one made before abortAllDurableObjects() stays broken after it.
    const raw = () => env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
    await runInDurableObject(raw(), async (_instance, state) => {
      const sql = state.storage.sql;
      state.storage.transactionSync(() => storeAtVersion3(sql, id, 3));
      // Version 1 reached the change feed (its row went); 2 and 3 wait, with the index values of their commit.
      sql.exec(`INSERT INTO outbox VALUES (2, '["doing",null,null,null]'), (3, '["done",null,null,null]')`);
      // The alarm their writes set, which runs after the upgrade.
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    // A fresh instance (as after a deploy) migrates in its constructor.
    await abortAllDurableObjects();
    const sent: EventMessage[] = [];
    const upgraded = await runInDurableObject(raw(), (instance, state) => {
      const real = instance.deps.publish;
      instance.deps.publish = async (batch) => {
        sent.push(...batch);
        await real(batch);
      };
      return {
        schema: schemaVersion(state.storage.sql),
        mark: state.storage.sql.exec("SELECT confirmed_through FROM meta").one().confirmed_through,
        slots: state.storage.sql
          .exec("SELECT version, slots FROM events ORDER BY version")
          .toArray()
          .map((r) => r.slots),
        status: instance.outboxStatus(),
      };
    });
    expect(upgraded).toMatchObject({
      schema: SCHEMA_VERSION,
      mark: 1,
      slots: [null, '["doing",null,null,null]', '["done",null,null,null]'],
      // Whether 2 and 3 were ever sent is unknown: the alarm asks the change feed, which lacks both.
      status: { unsent: 0, unconfirmed: 2 },
    });
    expect(await runDurableObjectAlarm(raw())).toBe(true);
    // Exactly what waited went, with the index values of its commit (not the state's, which says "open"), and
    // with no index signature: they were computed before signatures existed.
    expect(sent.map(({ version, index, ix }) => ({ version, index, ix }))).toEqual([
      { version: 2, index: ["doing", null, null, null], ix: undefined },
      { version: 3, index: ["done", null, null, null], ix: undefined },
    ]);
    await eventually(async () => {
      const row = await env.DB.prepare("SELECT version, k0 FROM documents WHERE id = ?")
        .bind(id)
        .first<{ version: number; k0: string }>();
      // The projector computes such values again from the state, under the declaration in force.
      expect(row).toEqual({ version: 3, k0: "open" });
    });
    const feed = await env.DB.prepare("SELECT version FROM changes WHERE id = ? ORDER BY version")
      .bind(id)
      .all<{ version: number }>();
    expect(feed.results.map((r) => r.version)).toEqual([2, 3]);
  });

  it("puts the mark of a version 3 object whose outbox is empty at its newest event, and sends nothing", async () => {
    const id = uniqueId("v3-empty");
    const key = { tenant: "default", collection: "todos", id };
    const raw = () => env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
    await runInDurableObject(raw(), (_instance, state) => {
      state.storage.transactionSync(() => storeAtVersion3(state.storage.sql, id, 2));
    });
    await abortAllDurableObjects();
    const upgraded = await runInDurableObject(raw(), (instance, state) => ({
      mark: state.storage.sql.exec("SELECT confirmed_through FROM meta").one().confirmed_through,
      status: instance.outboxStatus(),
    }));
    expect(upgraded).toEqual({
      mark: 2,
      status: { unsent: 0, unconfirmed: 0, failures: 0, retryAt: null, confirmedThrough: 2 },
    });
  });

  it("leaves no storage behind for strong reads and refused writes of a document that never existed", async () => {
    const id = uniqueId("probe");
    settleAlarms({ tenant: "default", collection: "schema", id });
    const path = `/v1/schema/${id}`;
    expect((await get(path, { consistency: "strong" })).status).toBe(404);
    expect((await get(`${path}/_history`)).status).toBe(404);
    const refused = await send(path, {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: "{}",
    });
    expect(refused.status).toBe(404);
    const malformed = await send(path, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    const invalid = await send(path, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "[1]",
    });
    expect(invalid.status).toBe(422);
    expect(await userTables(id)).toEqual([]);
    // The first write that commits creates the schema with it.
    expect(
      (await send(path, { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" }))
        .status,
    ).toBe(201);
    expect((await userTables(id)).sort()).toEqual([
      "_schema",
      "events",
      "holes",
      "idempotency",
      "meta",
      "tx_done",
      "tx_lock",
    ]);
  });
});
