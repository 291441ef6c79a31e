/**
 * A query on an index the read model does not fully hold (declared or changed after documents were written)
 * answers 503 index-not-ready, never a partial list; rows projected from now on carry the current declaration.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { indexSignature } from "../../domain/collections";
import { assertIndexReady } from "../../workers/read-model/index-readiness";
import { eventually, getEventual, problem, put, send, uniqueId } from "../helpers";

const signature = indexSignature("todos");

/** Makes the read model look as if `tenant`'s todos were projected under an older declaration, "old". */
async function projectedUnderOldDeclaration(tenant: string, ids: string[]): Promise<void> {
  const now = Date.now();
  await env.DB.batch([
    ...ids.map((id) =>
      env.DB.prepare(
        `INSERT INTO documents (tenant, collection, id, version, deleted, data, created_at, updated_at, projected_at, ix)
         VALUES (?, 'todos', ?, 1, 0, '{"title":"t","status":"open"}', ?, ?, ?, 'old')`,
      ).bind(tenant, id, now, now, now),
    ),
    env.DB.prepare(
      `INSERT OR REPLACE INTO index_states (tenant, collection, signature, ready, adopted, checked_at)
       VALUES (?, 'todos', 'old', 1, 'old', ?)`,
    ).bind(tenant, now),
  ]);
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "ready",
    (error: unknown) => error,
  );
}

describe("index readiness", () => {
  it("refuses a query on indexes changed after documents were written, until they are reindexed", async () => {
    const tenant = uniqueId("t");
    await projectedUnderOldDeclaration(tenant, ["a", "b"]);
    const now = Date.now();
    expect(await refusal(assertIndexReady(env.DB, tenant, "todos", now))).toMatchObject({
      status: 503,
      code: "index-not-ready",
    });
    // Within the recheck interval the answer is remembered; after it, a reindexed read model is ready.
    await env.DB.prepare("UPDATE documents SET ix = ? WHERE tenant = ?").bind(signature, tenant).run();
    expect(await refusal(assertIndexReady(env.DB, tenant, "todos", now + 1_000))).toMatchObject({
      code: "index-not-ready",
    });
    expect(await refusal(assertIndexReady(env.DB, tenant, "todos", now + 11_000))).toBe("ready");
    const state = await env.DB.prepare("SELECT signature, ready FROM index_states WHERE tenant = ?")
      .bind(tenant)
      .first();
    expect(state).toEqual({ signature, ready: 1 });
  });

  it("refuses at first sight when rows computed under another declaration exist (indexes declared late)", async () => {
    const tenant = uniqueId("t");
    await projectedUnderOldDeclaration(tenant, ["early"]);
    // No state recorded yet: the collection was never queried on an index before this declaration.
    await env.DB.prepare("DELETE FROM index_states WHERE tenant = ?").bind(tenant).run();
    expect(await refusal(assertIndexReady(env.DB, tenant, "todos"))).toMatchObject({
      code: "index-not-ready",
    });
  });

  it("counts deleted documents out: only live rows must match the declaration", async () => {
    const tenant = uniqueId("t");
    await projectedUnderOldDeclaration(tenant, ["gone"]);
    await env.DB.prepare("UPDATE documents SET deleted = 1 WHERE tenant = ?").bind(tenant).run();
    expect(await refusal(assertIndexReady(env.DB, tenant, "todos"))).toBe("ready");
  });

  it("adopts rows projected before signatures existed as matching the declaration in force at first sight", async () => {
    const tenant = uniqueId("t");
    await projectedUnderOldDeclaration(tenant, ["legacy"]);
    await env.DB.batch([
      env.DB.prepare("UPDATE documents SET ix = NULL WHERE tenant = ?").bind(tenant),
      env.DB.prepare("DELETE FROM index_states WHERE tenant = ?").bind(tenant),
    ]);
    expect(await refusal(assertIndexReady(env.DB, tenant, "todos"))).toBe("ready");
    expect(
      await env.DB.prepare("SELECT adopted FROM index_states WHERE tenant = ?").bind(tenant).first("adopted"),
    ).toBe(signature);
  });

  it("answers the HTTP query 503 index-not-ready with its backfill's progress, and serves it once the backfill reindexed every row", async () => {
    // The default tenant's todos, as the first query of this file sees them: 450 rows (three backfill pages)
    // projected under an old declaration, whose index values are wrong under the current one.
    const stale = Array.from({ length: 450 }, (_, i) => `stale-${String(i).padStart(3, "0")}`);
    for (let i = 0; i < stale.length; i += 90)
      await projectedUnderOldDeclaration("default", stale.slice(i, i + 90));
    await env.DB.prepare("UPDATE documents SET k0 = 'wrong', k3 = 'junk' WHERE tenant = 'default'").run();
    const refused = await send("/v1/todos?where[status]=open");
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(problem(refused)).toMatchObject({ code: "index-not-ready", collection: "todos" });
    expect(problem(refused).backfill).toMatchObject({ done: expect.any(Number) });
    // A query on no index (by id) is always complete.
    expect((await send("/v1/todos")).status).toBe(200);
    // A write meanwhile is projected with the current signature and index values.
    const id = uniqueId("fresh");
    expect((await put(`/v1/todos/${id}`, { title: "new", status: "open" })).status).toBe(201);
    await eventually(async () => expect((await getEventual(`/v1/todos/${id}`)).status).toBe(200));
    const row = await env.DB.prepare("SELECT ix, k0 FROM documents WHERE collection = 'todos' AND id = ?")
      .bind(id)
      .first();
    expect(row).toEqual({ ix: signature, k0: "open" });
    // The backfill (a workflow) reindexes every stale row; the query is then answered, complete.
    await eventually(
      async () => expect((await send("/v1/todos?where[status]=open")).status).toBe(200),
      20_000,
    );
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const sent = await send(
        `/v1/todos?where[status]=open&limit=200${cursor === null ? "" : `&cursor=${cursor}`}`,
      );
      const page = sent.body as { items: Array<{ id: string }>; next: string | null };
      ids.push(...page.items.map((item) => item.id));
      cursor = page.next === null ? null : encodeURIComponent(page.next);
    } while (cursor !== null);
    expect(ids).toHaveLength(451);
    expect(ids).toEqual(expect.arrayContaining([...stale, id]));
    const progress = await env.DB.prepare(
      "SELECT ready, backfill_total, backfill_done FROM index_states WHERE tenant = 'default' AND collection = 'todos'",
    ).first();
    expect(progress).toEqual({ ready: 1, backfill_total: 450, backfill_done: 450 });
    // Every slot is recomputed: the value the old declaration left in a slot it no longer uses is cleared.
    const leftovers = await env.DB.prepare(
      "SELECT count(*) AS n FROM documents WHERE tenant = 'default' AND (k3 = 'junk' OR k0 = 'wrong' OR ix != ?)",
    )
      .bind(signature)
      .first("n");
    expect(leftovers).toBe(0);
  });
});
