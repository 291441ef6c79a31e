import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectName } from "../../domain/keys";
import type { DocumentObject } from "../../durable-objects/DocumentObject";
import { migrate, SCHEMA_VERSION, schemaVersion, VERSION_1 } from "../../durable-objects/document-schema";
import { documentStub } from "../../workers/documents-client";
import { get, send, uniqueId } from "../helpers";
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
    expect(created.columns.map((t) => t.table)).toEqual(["events", "idempotency", "meta", "outbox"]);
  });

  it("keeps documents written before an upgrade readable and writable after it", async () => {
    const id = uniqueId("old");
    const key = { tenant: "default", collection: "schema", id };
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

  it("leaves no storage behind for strong reads and refused writes of a document that never existed", async () => {
    const id = uniqueId("probe");
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
    expect((await userTables(id)).sort()).toEqual(["_schema", "events", "idempotency", "meta", "outbox"]);
  });
});
