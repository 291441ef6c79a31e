/**
 * Rebuilding the read model from the R2 archive: a corrupted read model comes back equal to the fold of every
 * object's log while queries and the feed keep answering; writes during the rebuild are not lost; a tenant moves to
 * another database; a rebuild can be cancelled, resumes after a failed step, and is the operator's alone.
 */
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { defaultBinding, readModelBindings } from "../../platform/databases";
import { TEST_ADMIN_SECRET } from "../credentials";
import {
  bearer,
  del,
  eventually,
  get,
  makeKey,
  mergePatch,
  post,
  problem,
  put,
  type Sent,
  send,
  uniqueId,
} from "../helpers";

const OPERATOR = bearer(TEST_ADMIN_SECRET);

interface RebuildView {
  id: string;
  status: string;
  mode: string;
  target: string;
  progress: {
    objectsTotal: number | null;
    objectsRead: number;
    eventsRead: number;
    secondsLeft: number | null;
  };
}

function dbOf(tenant: string): D1Database {
  const binding = defaultBinding(readModelBindings(env), tenant);
  return (env as unknown as Record<string, D1Database>)[binding] as D1Database;
}

/** A tenant with a key of its own, and the database it lives in. */
async function tenantWithKey() {
  const tenant = uniqueId("rb");
  const headers = bearer(await makeKey({ tenant }));
  return { tenant, headers, db: dbOf(tenant) };
}

async function startRebuild(body: Record<string, unknown>): Promise<RebuildView> {
  const sent = await post("/v1/_admin/rebuild", body, OPERATOR);
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  expect(sent.headers.get("location")).toBe(`/v1/_admin/rebuild/${(sent.body as RebuildView).id}`);
  return sent.body as RebuildView;
}

async function rebuildStatus(id: string): Promise<RebuildView> {
  const sent = await send(`/v1/_admin/rebuild/${id}`, { headers: OPERATOR });
  expect(sent.status).toBe(200);
  return sent.body as RebuildView;
}

async function finished(id: string, status = "done"): Promise<RebuildView> {
  return eventually(
    async () => {
      const view = await rebuildStatus(id);
      expect(view.status).toBe(status);
      return view;
    },
    40_000,
    200,
  );
}

interface Row {
  id: string;
  version: number;
  deleted: number;
  data: string | null;
  data_ref: string | null;
}

async function rowsOf(db: D1Database, tenant: string): Promise<Row[]> {
  const { results } = await db
    .prepare("SELECT id, version, deleted, data, data_ref FROM documents WHERE tenant = ? ORDER BY id")
    .bind(tenant)
    .all<Row>();
  return results;
}

/** Waits until the read model holds `versions` (id → version) for the tenant's todos. */
async function projected(db: D1Database, tenant: string, versions: Record<string, number>): Promise<void> {
  await eventually(async () => {
    const rows = await rowsOf(db, tenant);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.version]))).toEqual(versions);
  }, 20_000);
}

/** Every document as its object has it: version and state, from a strong read. */
async function truth(ids: readonly string[], headers: Record<string, string>) {
  const entries = await Promise.all(
    ids.map(async (id) => {
      const sent: Sent = await get(`/v1/todos/${id}`, headers);
      if (sent.status === 404) return [id, null] as const;
      expect(sent.status).toBe(200);
      const envelope = sent.body as { version: number; data: unknown };
      return [id, { version: envelope.version, data: envelope.data }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** The read model's rows as the same map: a large state read from R2 by its reference. */
async function asTruth(rows: readonly Row[]) {
  const entries = await Promise.all(
    rows.map(async (r) => {
      if (r.deleted === 1) return [r.id, null] as const;
      const stored = r.data_ref === null ? null : await env.ARCHIVE.get(r.data_ref);
      const text = r.data ?? (stored === null ? null : await stored.text());
      return [
        r.id,
        { version: r.version, data: text === null ? null : (JSON.parse(text) as unknown) },
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}

describe("rebuild from the archive", () => {
  it("brings a corrupted read model back to the fold of every object's log, serving throughout", async () => {
    const { tenant, headers, db } = await tenantWithKey();
    const ids = Array.from({ length: 30 }, (_, i) => `d${String(i).padStart(2, "0")}`);
    for (const id of ids)
      expect((await put(`/v1/todos/${id}`, { title: id, status: "open" }, headers)).status).toBe(201);
    for (const id of ids.slice(0, 10))
      expect((await mergePatch(`/v1/todos/${id}`, { status: "done" }, headers)).status).toBe(200);
    for (const id of ids.slice(25)) expect((await del(`/v1/todos/${id}`, headers)).status).toBe(204);
    const large = "big";
    expect(
      (await put(`/v1/todos/${large}`, { title: "big", notes: "x".repeat(70_000), status: "open" }, headers))
        .status,
    ).toBe(201);
    const versions = Object.fromEntries([
      ...ids.map((id, i) => [id, i < 10 || i >= 25 ? 2 : 1] as const),
      [large, 1] as const,
    ]);
    await projected(db, tenant, versions);
    const seqsBefore = await db
      .prepare("SELECT id, version, seq FROM changes WHERE tenant = ? ORDER BY seq")
      .bind(tenant)
      .all<{ id: string; version: number; seq: number }>();

    // Corrupt it: rows lost, a row with a wrong state and version, a feed entry lost, a large state lost in R2.
    await db.batch([
      db.prepare("DELETE FROM documents WHERE tenant = ? AND id IN ('d00', 'd11', 'd26')").bind(tenant),
      db
        .prepare(
          `UPDATE documents SET data = '{"title":"corrupt"}', version = 99 WHERE tenant = ? AND id = 'd12'`,
        )
        .bind(tenant),
      db.prepare("DELETE FROM changes WHERE tenant = ? AND id = 'd13'").bind(tenant),
    ]);
    const bigRef = await db
      .prepare("SELECT data_ref FROM documents WHERE tenant = ? AND id = ?")
      .bind(tenant, large)
      .first<string>("data_ref");
    expect(bigRef).toMatch(/^states\//);
    await env.ARCHIVE.delete(bigRef as string);

    const started = await startRebuild({ tenant });
    expect(started).toMatchObject({ status: "waiting", mode: "shadow" });
    // The current read model keeps answering queries and the feed (those that touch no lost state; the large
    // document's is lost until the rebuild restores it); a write during the rebuild is not lost.
    expect((await send("/v1/todos?where[status]=done", { headers })).status).toBe(200);
    expect((await send("/v1/_changes?limit=5", { headers })).status).toBe(200);
    expect((await put("/v1/todos/during", { title: "during", status: "open" }, headers)).status).toBe(201);
    const done = await finished(started.id);
    expect(done.progress.objectsRead).toBe(done.progress.objectsTotal);
    expect(done.progress.eventsRead).toBeGreaterThanOrEqual(46);

    const allIds = [...ids, large, "during"];
    await eventually(
      async () => expect(await asTruth(await rowsOf(db, tenant))).toEqual(await truth(allIds, headers)),
      20_000,
    );
    // The lost large state was restored from the document's own log.
    expect(await (await env.ARCHIVE.get(bigRef as string))?.text()).toContain('"notes":"xxx');
    // The lost feed entry is back (at the end, with a new seq); every other entry kept its seq.
    const seqsAfter = await db
      .prepare("SELECT id, version, seq FROM changes WHERE tenant = ? ORDER BY seq")
      .bind(tenant)
      .all<{ id: string; version: number; seq: number }>();
    const key = (r: { id: string; version: number }) => `${r.id}@${r.version}`;
    const after = new Map(seqsAfter.results.map((r) => [key(r), r.seq]));
    for (const r of seqsBefore.results.filter((r) => r.id !== "d13")) expect(after.get(key(r))).toBe(r.seq);
    expect(after.has("d13@1")).toBe(true);
    // Queries are answered from the rebuilt generation, and its leftovers are cleaned up.
    const open = await send("/v1/todos?where[status]=done&limit=200", { headers });
    expect((open.body as { items: Array<{ id: string }> }).items.map((i) => i.id).sort()).toEqual(
      ids.slice(0, 10),
    );
    await eventually(async () => {
      const left = await db
        .prepare("SELECT count(*) AS n FROM rebuild_documents WHERE rebuild_id = ?")
        .bind(started.id)
        .first("n");
      expect(left).toBe(0);
    }, 20_000);
  });

  it("moves a tenant to another database: rebuilt there, reassigned, the old copy dropped", async () => {
    const { tenant, headers, db: source } = await tenantWithKey();
    const from = defaultBinding(readModelBindings(env), tenant);
    const to = readModelBindings(env).find((b) => b !== from) as string;
    const target = (env as unknown as Record<string, D1Database>)[to] as D1Database;
    for (const id of ["a", "b", "c"])
      expect((await put(`/v1/todos/${id}`, { title: id, status: "open" }, headers)).status).toBe(201);
    await projected(source, tenant, { a: 1, b: 1, c: 1 });
    const before = (await send("/v1/_changes", { headers })).body as { next: string };

    const started = await startRebuild({ tenant, target: to });
    expect(started).toMatchObject({ mode: "move", target: to });
    expect((await put("/v1/todos/d", { title: "during", status: "open" }, headers)).status).toBe(201);
    await finished(started.id);

    const assignment = await env.DB.prepare("SELECT binding, epoch FROM tenant_databases WHERE tenant = ?")
      .bind(tenant)
      .first();
    expect(assignment).toEqual({ binding: to, epoch: 1 });
    await projected(target, tenant, { a: 1, b: 1, c: 1, d: 1 });
    expect(await rowsOf(source, tenant)).toEqual([]);
    const feed = await send("/v1/_changes?limit=100", { headers });
    expect((feed.body as { changes: Array<{ id: string }> }).changes.map((c) => c.id).sort()).toEqual([
      "a",
      "b",
      "c",
      "d",
    ]);
    // A cursor from before the move names the old epoch: refused, with where to start again.
    const stale = await send(`/v1/_changes?after=${before.next}`, { headers });
    expect(stale.status).toBe(410);
    expect(problem(stale)).toMatchObject({ code: "feed-moved" });
    const query = await send("/v1/todos?where[status]=open", { headers });
    expect((query.body as { items: unknown[] }).items).toHaveLength(4);
  });

  it("is cancelled before it takes over: what it built is discarded, the live read model untouched", async () => {
    const { tenant, headers, db } = await tenantWithKey();
    expect((await put("/v1/todos/kept", { title: "kept" }, headers)).status).toBe(201);
    await projected(db, tenant, { kept: 1 });
    const started = await startRebuild({ tenant });
    const cancelled = await send(`/v1/_admin/rebuild/${started.id}`, { method: "DELETE", headers: OPERATOR });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "cancelled" });
    const again = await send(`/v1/_admin/rebuild/${started.id}`, { method: "DELETE", headers: OPERATOR });
    expect(again.status).toBe(409);
    expect((await rebuildStatus(started.id)).status).toBe("cancelled");
    expect(await rowsOf(db, tenant)).toMatchObject([{ id: "kept", version: 1 }]);
    // Another rebuild of the tenant may start now.
    await finished((await startRebuild({ tenant })).id);
  });

  it("refuses to take over from an archive that holds nothing for a scope with documents", async () => {
    const { tenant, headers, db } = await tenantWithKey();
    expect((await put("/v1/todos/only", { title: "only" }, headers)).status).toBe(201);
    await projected(db, tenant, { only: 1 });
    const archived = await env.ARCHIVE.list({ prefix: `events/${tenant}/` });
    expect(archived.objects.length).toBeGreaterThan(0);
    await env.ARCHIVE.delete(archived.objects.map((o) => o.key));
    const started = await startRebuild({ tenant });
    const failed = await finished(started.id, "failed");
    expect(failed).toMatchObject({ error: expect.stringMatching(/archive holds no events/) });
    expect(await rowsOf(db, tenant)).toMatchObject([{ id: "only", version: 1 }]);
  });

  it("resumes after a failed step and finishes", async () => {
    const { tenant, headers, db } = await tenantWithKey();
    expect((await put("/v1/todos/x", { title: "x" }, headers)).status).toBe(201);
    await projected(db, tenant, { x: 1 });
    await using workflows = await introspectWorkflow(env.REBUILDS);
    await workflows.modifyAll(async (m) => {
      await m.mockStepError({ name: "take over" }, new Error("the isolate went away"), 2);
    });
    await db.prepare("DELETE FROM documents WHERE tenant = ?").bind(tenant).run();
    const started = await startRebuild({ tenant });
    await finished(started.id);
    expect(await rowsOf(db, tenant)).toMatchObject([{ id: "x", version: 1 }]);
  });

  it("is the operator's, and refuses what it cannot do", async () => {
    const { tenant } = await tenantWithKey();
    const admin = bearer(await makeKey({ tenant, scopes: ["admin"] }));
    expect((await post("/v1/_admin/rebuild", { tenant }, admin)).status).toBe(403);
    expect((await send("/v1/_admin/rebuild", { headers: admin })).status).toBe(403);
    const bad = async (body: unknown) => problem(await post("/v1/_admin/rebuild", body, OPERATOR));
    expect(await bad({ tenant, target: "NOPE" })).toMatchObject({ status: 400, databases: ["DB", "DB2"] });
    expect(await bad({ collection: "todos" })).toMatchObject({ status: 400 });
    expect(await bad({ tenant, extra: 1 })).toMatchObject({ status: 400 });
    const other = readModelBindings(env).find((b) => b !== defaultBinding(readModelBindings(env), tenant));
    expect(await bad({ tenant, collection: "todos", target: other })).toMatchObject({ status: 400 });
    const malformed = await send("/v1/_admin/rebuild", {
      method: "POST",
      headers: { ...OPERATOR, "content-type": "application/json" },
      body: "{",
    });
    expect(problem(malformed)).toMatchObject({ status: 400, code: "malformed-json" });
    expect((await send("/v1/_admin/rebuild/rb_nope", { headers: OPERATOR })).status).toBe(400);
    expect((await send(`/v1/_admin/rebuild/rb_${"0".repeat(32)}`, { headers: OPERATOR })).status).toBe(404);
    // One rebuild of a scope at a time.
    const first = await startRebuild({ tenant, collection: "todos" });
    expect(await bad({ tenant })).toMatchObject({ status: 409, code: "rebuild-conflict" });
    expect(await bad({})).toMatchObject({ status: 409 });
    await finished(first.id);
    const list = await send("/v1/_admin/rebuild", { headers: OPERATOR });
    expect((list.body as { rebuilds: RebuildView[] }).rebuilds.map((r) => r.id)).toContain(first.id);
  });
});
