/** The alternative most Cloudflare templates use: a Hono Worker with D1 as the only store. */
import { Hono } from "hono";

const app = new Hono<{ Bindings: { DB: D1Database } }>();

app.put("/docs/:id", async (c) => {
  const data = await c.req.json<{ status?: string; priority?: number }>();
  const row = await c.env.DB.prepare(
    `INSERT INTO docs (id, version, data, status, priority, updated_at) VALUES (?, 1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET version = version + 1, data = excluded.data, status = excluded.status,
       priority = excluded.priority, updated_at = excluded.updated_at
     RETURNING version`,
  )
    .bind(c.req.param("id"), JSON.stringify(data), data.status ?? null, data.priority ?? null, Date.now())
    .first<{ version: number }>();
  return c.json({ id: c.req.param("id"), version: row?.version, data });
});

app.get("/docs/:id", async (c) => {
  const row = await c.env.DB.prepare("SELECT id, version, data FROM docs WHERE id = ?")
    .bind(c.req.param("id"))
    .first<{ id: string; version: number; data: string }>();
  if (row === null) return c.json({ error: "not found" }, 404);
  return c.json({ id: row.id, version: row.version, data: JSON.parse(row.data) });
});

app.get("/docs", async (c) => {
  const { results } = await c.env.DB.prepare(
    "SELECT id, version, data FROM docs WHERE status = ? ORDER BY priority DESC, id DESC LIMIT ?",
  )
    .bind(c.req.query("status") ?? "open", Number(c.req.query("limit") ?? "20"))
    .all<{ id: string; version: number; data: string }>();
  return c.json({ items: results.map((r) => ({ id: r.id, version: r.version, data: JSON.parse(r.data) })) });
});

export default app;
