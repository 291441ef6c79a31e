/**
 * GET /v1/_export and POST /v1/_import, through the client and raw: an export is consistent as of the position
 * its first line states (documents changed, deleted or created after it are exported as they were, or left
 * out), large states come from R2, memory stays at a page; an import applies each line once whatever is sent
 * again, reports every bad line by number and never fails on one, and an export imported into an empty tenant
 * exports the same documents.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type ExportedDocument, ndjsonLines, type Tessera } from "../../client/src/index";
import { dbFor } from "../../platform/databases";
import { bearer, call, eventually, makeKey, send, uniqueId } from "../helpers";
import { BASE, client, workerFetch } from "./harness";

/** A tenant of its own, so that an export holds only what the test wrote. */
async function tenantClient(
  options: { collections?: string[]; scopes?: Array<"read" | "write" | "admin"> } = {},
) {
  const tenant = uniqueId("tenant")
    .toLowerCase()
    .replaceAll(/[^a-z0-9-]/g, "");
  const key = await makeKey({ tenant, ...options });
  return { tenant, key, db: client({ key }) };
}

async function exported(db: Tessera, collection?: string) {
  const e = await db.export(collection === undefined ? {} : { collection });
  const docs: ExportedDocument[] = [];
  for await (const doc of e) docs.push(doc);
  return { position: e.position, estimate: e.estimate, end: e.end, docs };
}

/** Waits until the tenant's read model has every change the feed will have (the feed's end is stable). */
async function projected(db: Tessera, changes: number) {
  await eventually(async () => {
    let n = 0;
    for await (const _ of db.changes({ follow: false })) n += 1;
    expect(n).toBe(changes);
  });
}

const ndjson = (lines: unknown[]) =>
  `${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`;

function importRequest(key: string, body: string, headers: Record<string, string> = {}) {
  return send("/v1/_import", {
    method: "POST",
    headers: {
      ...bearer(key),
      "content-type": "application/x-ndjson",
      "import-id": "test-import",
      ...headers,
    },
    body,
  });
}

describe("export", () => {
  it("streams the documents in (collection, id) order between a first line with the position and a last with the count", async () => {
    const { db } = await tenantClient();
    await db.collection("notes").put("b", { n: 2 });
    await db.collection("notes").put("a", { n: 1 });
    await db.collection("alerts").put("z", { level: "high" });
    await db.collection("todos").put("t", { title: "x" });
    await db.collection("notes").put("gone", { n: 0 });
    await db.collection("notes").delete("gone");
    await projected(db, 6);
    const all = await exported(db);
    expect(all.docs.map((d) => `${d.collection}/${d.id}`)).toEqual([
      "alerts/z",
      "notes/a",
      "notes/b",
      "todos/t",
    ]);
    expect(all.docs[1]).toMatchObject({ version: 1, data: { n: 1 } });
    expect(all.position).toMatch(/^s[0-9a-z]+$/);
    expect(all.end).toEqual({ tessera: "end", position: all.position, documents: 4 });
    expect(all.estimate).toBe(4);
    const notes = await exported(db, "notes");
    expect(notes.docs.map((d) => d.id)).toEqual(["a", "b"]);
  });

  it("is consistent as of its position: later changes, deletes and creations are exported as they were", async () => {
    const { key, db } = await tenantClient();
    const notes = db.collection("notes");
    await notes.put("changed", { v: 1 });
    await notes.put("deleted", { v: 1 });
    await notes.put("kept", { v: 1 });
    await notes.put("recreated", { v: 1 });
    await projected(db, 4);
    const response = await call("/v1/_export", { headers: bearer(key) });
    expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const position = response.headers.get("export-position");
    await response.body?.cancel();
    // Open an export, read only its first line (the stream pulls a page at a time), then change everything.
    const streaming = await workerFetch(
      new Request(`${BASE}/v1/_export`, { headers: { authorization: `Bearer ${key}` } }),
    );
    const lines = ndjsonLines(streaming.body as ReadableStream<Uint8Array>)[Symbol.asyncIterator]();
    const first = JSON.parse((await lines.next()).value as string) as { position: string };
    expect(first.position).toBe(position);
    await notes.put("changed", { v: 2 });
    await notes.delete("deleted");
    await notes.put("created", { v: 1 });
    await notes.delete("recreated");
    await notes.put("recreated", { v: 2 });
    await projected(db, 9);
    const rest: string[] = [];
    for (let next = await lines.next(); next.done !== true; next = await lines.next()) rest.push(next.value);
    const docs = rest.slice(0, -1).map((l) => JSON.parse(l) as ExportedDocument);
    expect(docs.map((d) => [d.id, d.version, d.data])).toEqual([
      ["changed", 1, { v: 1 }],
      ["deleted", 1, { v: 1 }],
      ["kept", 1, { v: 1 }],
      ["recreated", 1, { v: 1 }],
    ]);
    expect(JSON.parse(rest.at(-1) as string)).toEqual({ tessera: "end", position, documents: 4 });
    // A new export is at the new position.
    const now = await exported(db);
    expect(now.docs.map((d) => [d.id, d.version])).toEqual([
      ["changed", 2],
      ["created", 1],
      ["kept", 1],
      ["recreated", 3],
    ]);
    expect(now.position).not.toBe(position);
  });

  it("exports large states from R2, and only the collections a limited credential may use", async () => {
    const { tenant, db } = await tenantClient();
    const big = { text: "x".repeat(200 * 1024) };
    await db.collection("notes").put("big", big);
    await db.collection("secret").put("s", { a: 1 });
    await projected(db, 2);
    const row = await (await dbFor(env, tenant))
      .prepare("SELECT data, data_ref FROM documents WHERE tenant = ? AND id = 'big'")
      .bind(tenant)
      .first<{ data: string | null; data_ref: string | null }>();
    expect(row?.data).toBeNull();
    expect(row?.data_ref).not.toBeNull();
    const { docs } = await exported(db);
    expect(docs.find((d) => d.id === "big")?.data).toEqual(big);
    const limited = client({ key: await makeKey({ tenant, collections: ["notes"] }) });
    expect((await exported(limited)).docs.map((d) => d.collection)).toEqual(["notes"]);
    await expect(limited.export({ collection: "secret" })).rejects.toMatchObject({ status: 403 });
    const writer = client({ key: await makeKey({ tenant, scopes: ["write"] }) });
    await expect(writer.export()).rejects.toMatchObject({ status: 403, code: "insufficient-scope" });
  });

  it("exports documents whose changes feed retention moved out of D1, as they are", async () => {
    const { tenant, db } = await tenantClient();
    await db.collection("notes").put("old", { v: 1 });
    await db.collection("notes").put("old", { v: 2 });
    await db.collection("notes").put("new", { v: 1 });
    await projected(db, 3);
    // What the hourly retention does to changes past its window (workers/maintenance/retention.ts): out of D1.
    const database = await dbFor(env, tenant);
    await database.prepare("DELETE FROM changes WHERE tenant = ? AND id = 'old'").bind(tenant).run();
    const { docs } = await exported(db);
    expect(docs.map((d) => [d.id, d.version, d.data])).toEqual([
      ["new", 1, { v: 1 }],
      ["old", 2, { v: 2 }],
    ]);
  });
});

describe("import", () => {
  it("writes each line once: sending the same lines again replays them, and counts every kind of line", async () => {
    const { key, db } = await tenantClient();
    const body = ndjson([
      { tessera: "export", position: "s1", collection: null, estimate: 2 },
      { collection: "notes", id: "a", data: { n: 1 } },
      "",
      { collection: "notes", id: "b", version: 7, data: { n: 2 }, createdAt: "2020-01-01T00:00:00.000Z" },
      { tessera: "end", position: "s1", documents: 2 },
    ]);
    const first = await importRequest(key, body);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      importId: "test-import",
      first: 1,
      lines: 5,
      written: 2,
      replayed: 0,
      skipped: 3,
      refused: [],
    });
    const again = await importRequest(key, body);
    expect(again.body).toMatchObject({ written: 0, replayed: 2, refused: [] });
    const b = await db.collection("notes").get("b", { consistency: "strong" });
    expect(b).toMatchObject({ version: 1, data: { n: 2 } });
    // The same line number with other content, under the same import id, is refused rather than applied.
    const changed = await importRequest(key, ndjson([{ collection: "notes", id: "a", data: { n: 9 } }]), {
      "import-line": "2",
    });
    expect(changed.body).toMatchObject({
      written: 0,
      refused: [{ line: 2, code: "idempotency-key-reused" }],
    });
    // Another import id is another import: it writes.
    const other = await importRequest(key, ndjson([{ collection: "notes", id: "a", data: { n: 9 } }]), {
      "import-id": "another",
    });
    expect(other.body).toMatchObject({ written: 1 });
  });

  it("reports bad lines by their number in the file and applies the rest", async () => {
    const { tenant, key } = await tenantClient();
    const limited = await makeKey({ tenant, collections: ["notes"] });
    const body = ndjson([
      "{not json",
      "[1,2]",
      { collection: "Bad Name", id: "x", data: {} },
      { collection: "notes", id: "", data: {} },
      { collection: "notes", id: "ok", data: [1] },
      { collection: "todos", id: "t", data: { title: "" } },
      { collection: "notes", id: "fine", data: { ok: true } },
    ]);
    const result = await importRequest(key, body, { "import-line": "101" });
    expect(result.status).toBe(200);
    const { refused, written } = result.body as {
      refused: Array<{ line: number; code: string; status: number }>;
      written: number;
    };
    expect(written).toBe(1);
    expect(refused.map((r) => [r.line, r.status, r.code])).toEqual([
      [101, 400, "malformed-json"],
      [102, 400, "invalid-line"],
      [103, 400, "invalid-collection"],
      [104, 400, "invalid-id"],
      [105, 422, "document-not-object"],
      [106, 422, "document-invalid"],
    ]);
    const scoped = await importRequest(
      limited,
      ndjson([{ collection: "todos", id: "t", data: { title: "t" } }]),
    );
    expect(scoped.body).toMatchObject({
      written: 0,
      refused: [{ line: 1, status: 403, code: "insufficient-scope" }],
    });
  });

  it("refuses a request it cannot read: no Import-Id, another media type, too many lines", async () => {
    const { key } = await tenantClient();
    const line = ndjson([{ collection: "notes", id: "a", data: {} }]);
    const noId = await send("/v1/_import", {
      method: "POST",
      headers: { ...bearer(key), "content-type": "application/x-ndjson" },
      body: line,
    });
    expect(noId.status).toBe(400);
    expect((await importRequest(key, line, { "content-type": "application/json" })).status).toBe(415);
    expect((await importRequest(key, line, { "import-line": "0" })).status).toBe(400);
    const tooMany = await importRequest(key, line.repeat(1001));
    expect(tooMany.status).toBe(400);
    expect((tooMany.body as { code: string }).code).toBe("invalid-import");
    const reader = await makeKey({ scopes: ["read"] });
    expect((await importRequest(reader, line)).status).toBe(403);
  });
});

describe("a round trip", () => {
  it("export, import into an empty tenant, export again: the same documents", async () => {
    const source = await tenantClient();
    const notes = source.db.collection("notes");
    const todos = source.db.collection("todos");
    for (let i = 0; i < 30; i++)
      await notes.put(`n-${String(i).padStart(2, "0")}`, { i, tags: ["a", i], nested: { ok: i % 2 === 0 } });
    await todos.put("t-1", { title: "round trip", status: "open", priority: 2 });
    await notes.put("n-05", { i: 5, edited: true });
    await notes.delete("n-06");
    await projected(source.db, 33);
    const before = await source.db.export();
    const lines: string[] = [];
    for await (const line of before.lines()) lines.push(line);
    expect(lines).toHaveLength(30);

    const target = await tenantClient();
    const totals = await target.db.import(lines, { importId: "round-trip", chunkLines: 7 });
    expect(totals).toMatchObject({ lines: 30, written: 30, replayed: 0, refused: [] });
    // A re-run applies nothing twice.
    expect(await target.db.import(lines, { importId: "round-trip", chunkLines: 11 })).toMatchObject({
      written: 0,
      replayed: 30,
    });
    await projected(target.db, 30);
    const after = await exported(target.db);
    const strip = (d: ExportedDocument) => [d.collection, d.id, d.data];
    expect(after.docs.map(strip)).toEqual(lines.map((l) => strip(JSON.parse(l) as ExportedDocument)));
    expect(after.docs.every((d) => d.version === 1)).toBe(true);
  });
});
