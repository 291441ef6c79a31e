/**
 * Feed retention and the states sweep: changes that leave D1 are served from R2 segments exactly as D1 served them
 * (same order, same seq, same content), a cursor the archive cannot continue gets 410 with where to start again, a
 * rebuild does not bring pruned changes back, and a large state goes once nothing references it.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { defaultBinding, readModelBindings } from "../../platform/databases";
import worker from "../../workers/index";
import {
  HOUSEKEEPING_CRON,
  runHousekeeping,
  STATES_GRACE_MS,
  sweepStates,
} from "../../workers/maintenance/housekeeping";
import { pruneTenantFeed, segmentPrefix } from "../../workers/maintenance/retention";
import { TEST_ADMIN_SECRET } from "../credentials";
import { bearer, eventually, makeKey, mergePatch, post, problem, put, send, uniqueId } from "../helpers";

const DAY = 24 * 3_600_000;

interface Change {
  seq: number;
  collection: string;
  id: string;
  version: number;
  data: unknown;
}

function dbOf(tenant: string): D1Database {
  return (env as unknown as Record<string, D1Database>)[
    defaultBinding(readModelBindings(env), tenant)
  ] as D1Database;
}

async function tenantWithKey() {
  const tenant = uniqueId("ret");
  return { tenant, headers: bearer(await makeKey({ tenant })), db: dbOf(tenant) };
}

/** The whole feed, page by page from `after`, and where each page came from. */
async function readFeed(headers: Record<string, string>, query = "limit=4", after?: string) {
  const changes: Change[] = [];
  const sources = new Set<string>();
  let cursor = after;
  for (let pages = 0; pages < 100; pages++) {
    const sent = await send(`/v1/_changes?${query}${cursor === undefined ? "" : `&after=${cursor}`}`, {
      headers,
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const page = sent.body as { changes: Change[]; next: string };
    sources.add(sent.headers.get("read-source") ?? "");
    if (page.changes.length === 0 && page.next === cursor) return { changes, sources, next: cursor };
    changes.push(...page.changes);
    cursor = page.next;
  }
  throw new Error("the feed did not end");
}

/** A tenant with `n` projected changes: todos t0.. and one note, every todo patched once. */
async function tenantWithFeed(n: number) {
  const t = await tenantWithKey();
  for (let i = 0; i < n; i++)
    expect((await put(`/v1/todos/t${i}`, { title: `t${i}` }, t.headers)).status).toBe(201);
  for (let i = 0; i < n; i++)
    expect((await mergePatch(`/v1/todos/t${i}`, { status: "done" }, t.headers)).status).toBe(200);
  expect((await put("/v1/notes/n", { text: "a note" }, t.headers)).status).toBe(201);
  await eventually(
    async () => expect((await readFeed(t.headers, "limit=1000")).changes).toHaveLength(2 * n + 1),
    20_000,
  );
  return t;
}

describe("feed retention", () => {
  it("serves changes pruned to R2 exactly as D1 served them, then continues in D1", async () => {
    const { tenant, headers, db } = await tenantWithFeed(10);
    const before = await readFeed(headers, "limit=1000");
    const byCollection = await readFeed(headers, "limit=3&collection=notes");
    // Two passes: a row cap first (everything but the newest 8), then the time window (all but what is recent).
    const capped = { ...env, FEED_RETENTION_ROWS: "8" } as Env;
    expect(await pruneTenantFeed(capped, db, tenant, Date.now(), 10_000)).toBe(13);
    expect(await pruneTenantFeed(env, db, tenant, Date.now() + 8 * DAY, 10_000)).toBe(8);
    const left = await db
      .prepare("SELECT count(*) AS n FROM changes WHERE tenant = ?")
      .bind(tenant)
      .first("n");
    expect(left).toBe(0);
    const segments = await env.ARCHIVE.list({ prefix: segmentPrefix(tenant, 0) });
    expect(segments.objects).toHaveLength(2);

    const after = await readFeed(headers);
    expect(after.changes).toEqual(before.changes);
    expect(after.sources).toContain("archive");
    expect((await readFeed(headers, "limit=3&collection=notes")).changes).toEqual(byCollection.changes);
    // From a cursor in the middle of the first segment; and new changes go on in D1 after the archive.
    const middle = `s${(before.changes[5]?.seq ?? 0).toString(36)}`;
    expect((await readFeed(headers, "limit=7", middle)).changes).toEqual(before.changes.slice(6));
    expect((await put("/v1/todos/late", { title: "late" }, headers)).status).toBe(201);
    await eventually(async () => {
      const all = await readFeed(headers, "limit=50");
      expect(all.changes.map((c) => c.id)).toEqual([...before.changes.map((c) => c.id), "late"]);
      expect(all.sources).toEqual(new Set(["archive", "read-model"]));
    });
  });

  it("answers 410 with where to start again when the archive no longer holds what follows a cursor", async () => {
    const { tenant, headers, db } = await tenantWithFeed(3);
    const before = await readFeed(headers, "limit=1000");
    expect(await pruneTenantFeed(env, db, tenant, Date.now() + 8 * DAY, 10_000)).toBe(7);
    const segments = await env.ARCHIVE.list({ prefix: segmentPrefix(tenant, 0) });
    await env.ARCHIVE.delete(segments.objects.map((o) => o.key));
    const gone = await send("/v1/_changes", { headers });
    expect(gone.status).toBe(410);
    const body = problem(gone);
    expect(body).toMatchObject({ code: "cursor-expired" });
    expect(body.detail).toMatch(/retention/);
    // `from` continues after everything the tenant's feed held.
    expect((await readFeed(headers, "limit=10", body.from as string)).changes).toEqual([]);
    expect(before.changes).toHaveLength(7);
  });

  it("a rebuild does not bring pruned changes back under new seqs", async () => {
    const { tenant, headers, db } = await tenantWithFeed(4);
    const before = await readFeed(headers, "limit=1000");
    expect(
      await pruneTenantFeed({ ...env, FEED_RETENTION_ROWS: "3" } as Env, db, tenant, Date.now(), 1_000),
    ).toBe(6);
    const rebuild = await post("/v1/_admin/rebuild", { tenant }, bearer(TEST_ADMIN_SECRET));
    expect(rebuild.status).toBe(202);
    const id = (rebuild.body as { id: string }).id;
    await eventually(
      async () => {
        const view = await send(`/v1/_admin/rebuild/${id}`, { headers: bearer(TEST_ADMIN_SECRET) });
        expect(view.body).toMatchObject({ status: "done" });
      },
      30_000,
      200,
    );
    expect((await readFeed(headers)).changes).toEqual(before.changes);
  });

  it("refuses a malformed cursor, and one from a later epoch than the tenant's", async () => {
    const { headers } = await tenantWithKey();
    for (const after of ["x1", "s", "s1-", "s1-zzzzzzz", "s1-1"]) {
      const sent = await send(`/v1/_changes?after=${after}`, { headers });
      expect(problem(sent)).toMatchObject({ status: 400, code: "invalid-cursor" });
    }
  });
});

describe("the states sweep", () => {
  it("deletes a large state once no document, feed entry or held event references it, after the grace period", async () => {
    const { tenant, headers, db } = await tenantWithKey();
    const big = { title: "big", notes: "x".repeat(70_000) };
    expect((await put("/v1/todos/big", big, headers)).status).toBe(201);
    expect((await put("/v1/todos/current", big, headers)).status).toBe(201);
    const refOf = async (id: string) =>
      eventually(async () => {
        const ref = await db
          .prepare("SELECT data_ref FROM documents WHERE tenant = ? AND id = ? AND version = 1")
          .bind(tenant, id)
          .first<string>("data_ref");
        expect(ref).toMatch(/^states\//);
        return ref as string;
      });
    const old = await refOf("big");
    const current = await refOf("current");
    // The document moves on to a small state: its old large state is referenced by the feed entry only.
    expect((await put("/v1/todos/big", { title: "small now" }, headers)).status).toBe(200);
    await eventually(async () =>
      expect(
        await db
          .prepare("SELECT version FROM documents WHERE tenant = ? AND id = 'big'")
          .bind(tenant)
          .first("version"),
      ).toBe(2),
    );
    const later = Date.now() + STATES_GRACE_MS + DAY;
    expect(await sweepStates(env, Date.now())).toBe(0); // within the grace period: nothing goes
    await sweepStates(env, later);
    expect(await env.ARCHIVE.head(old)).not.toBeNull(); // the feed still references it
    // Once the feed entry has gone to a segment (which holds the state inline), nothing references it.
    expect(await pruneTenantFeed(env, db, tenant, later, 1_000)).toBe(3);
    await sweepStates(env, later);
    expect(await env.ARCHIVE.head(old)).toBeNull();
    expect(await env.ARCHIVE.head(current)).not.toBeNull();
    // The pruned feed still shows the old state, from its segment.
    const feed = await send("/v1/_changes?limit=10", { headers });
    const first = (feed.body as { changes: Change[] }).changes[0];
    expect(first).toMatchObject({ id: "big", version: 1, data: big });
  });

  it("leaves a tenant alone whose read model holds no document", async () => {
    const { tenant, headers, db } = await tenantWithKey();
    expect((await put("/v1/todos/big", { title: "big", notes: "y".repeat(70_000) }, headers)).status).toBe(
      201,
    );
    const ref = await eventually(async () => {
      const found = await db
        .prepare("SELECT data_ref FROM documents WHERE tenant = ?")
        .bind(tenant)
        .first<string>("data_ref");
      expect(found).toMatch(/^states\//);
      return found as string;
    });
    await db.batch([
      db.prepare("DELETE FROM documents WHERE tenant = ?").bind(tenant),
      db.prepare("DELETE FROM changes WHERE tenant = ?").bind(tenant),
    ]);
    await sweepStates(env, Date.now() + STATES_GRACE_MS + DAY);
    expect(await env.ARCHIVE.head(ref)).not.toBeNull();
  });

  it("runs from the hourly cron", async () => {
    expect(await runHousekeeping(env, Date.now())).toMatchObject({
      feedChangesArchived: 0,
      statesDeleted: 0,
    });
    const { tenant, headers, db } = await tenantWithFeed(2);
    const ctx = createExecutionContext();
    const scheduledTime = Date.now() + 8 * DAY;
    await worker.scheduled?.(createScheduledController({ cron: HOUSEKEEPING_CRON, scheduledTime }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(
      await db.prepare("SELECT count(*) AS n FROM changes WHERE tenant = ?").bind(tenant).first("n"),
    ).toBe(0);
    expect((await readFeed(headers)).changes).toHaveLength(5);
  });
});
