/**
 * The read model over two D1 databases: each tenant lives in exactly one, recorded on first sight; the projector
 * writes each event to its tenant's database only; queries, the feed and stats work per database, and the
 * operator's stats cover both; a recorded assignment outlives a change of the database list.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assignmentOf, bindingFor, defaultBinding, readModelBindings } from "../../platform/databases";
import { TEST_ADMIN_SECRET } from "../credentials";
import { bearer, eventually, makeKey, put, send, uniqueId } from "../helpers";

const databases = env as unknown as Record<string, D1Database>;

/** A fresh tenant whose default home is `binding`. */
function tenantIn(binding: string): string {
  for (;;) {
    const tenant = uniqueId("mdb");
    if (defaultBinding(readModelBindings(env), tenant) === binding) return tenant;
  }
}

async function count(binding: string, tenant: string): Promise<number> {
  const db = databases[binding] as D1Database;
  return (
    (await db
      .prepare("SELECT count(*) AS n FROM documents WHERE tenant = ?")
      .bind(tenant)
      .first<number>("n")) ?? 0
  );
}

describe("the read model over several databases", () => {
  it("keeps each tenant in one database, end to end", async () => {
    expect(readModelBindings(env)).toEqual(["DB", "DB2"]);
    const a = tenantIn("DB");
    const b = tenantIn("DB2");
    const keyA = bearer(await makeKey({ tenant: a }));
    const keyB = bearer(await makeKey({ tenant: b }));
    for (const i of [1, 2, 3])
      expect((await put(`/v1/todos/a${i}`, { title: "a", status: "open" }, keyA)).status).toBe(201);
    for (const i of [1, 2])
      expect((await put(`/v1/todos/b${i}`, { title: "b", status: "open" }, keyB)).status).toBe(201);
    await eventually(async () => {
      expect([await count("DB", a), await count("DB2", a)]).toEqual([3, 0]);
      expect([await count("DB", b), await count("DB2", b)]).toEqual([0, 2]);
    }, 20_000);
    const recorded = await env.DB.prepare(
      "SELECT tenant, binding FROM tenant_databases WHERE tenant IN (?, ?) ORDER BY binding",
    )
      .bind(a, b)
      .all();
    expect(recorded.results).toEqual([
      { tenant: a, binding: "DB" },
      { tenant: b, binding: "DB2" },
    ]);
    // Queries and the feed of each tenant come from its database.
    const query = await send("/v1/todos?where[status]=open", { headers: keyB });
    expect((query.body as { items: Array<{ id: string }> }).items.map((i) => i.id)).toEqual(["b1", "b2"]);
    const feed = await send("/v1/_changes", { headers: keyA });
    expect((feed.body as { changes: Array<{ id: string }> }).changes.map((c) => c.id)).toEqual([
      "a1",
      "a2",
      "a3",
    ]);
    // Stats per tenant, and across both databases for the operator.
    const statsB = await send(`/v1/_stats?tenant=${b}`, { headers: bearer(TEST_ADMIN_SECRET) });
    expect(statsB.body).toMatchObject({ documents: 2 });
    const all = (await send("/v1/_stats", { headers: bearer(TEST_ADMIN_SECRET) })).body as {
      documents: number;
    };
    expect(all.documents).toBeGreaterThanOrEqual(5);
  });

  it("follows the recorded assignment, not the hash, once a tenant is placed", async () => {
    const tenant = tenantIn("DB");
    await env.DB.prepare(
      "INSERT INTO tenant_databases (tenant, binding, assigned_at, epoch) VALUES (?, 'DB2', ?, 3)",
    )
      .bind(tenant, Date.now())
      .run();
    expect(await bindingFor(env, tenant)).toBe("DB2");
    expect(await assignmentOf(env, tenant)).toEqual({ binding: "DB2", epoch: 3 });
  });

  it("refuses a database list that names something other than a D1 binding", () => {
    expect(() => readModelBindings({ ...env, READ_MODEL_DATABASES: "DB,ARCHIVE" } as Env)).toThrow(
      /not a D1 binding/,
    );
  });
});
