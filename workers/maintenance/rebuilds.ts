/**
 * Rebuild records (the `rebuilds` table, in the primary database): what a rebuild covers, where it builds, how far
 * it got. The projector asks which rebuilds are active, so that events it projects meanwhile reach the generation
 * being built too (see rebuild.ts); each isolate trusts its answer for REBUILD_CACHE_MS.
 */
import { allDatabases, database } from "../../platform/databases";
import type { RawRow } from "../read-model/d1";
import type { rebuilds } from "../read-model/schema";

export type RebuildRow = RawRow<typeof rebuilds>;
export type RebuildStatus = RebuildRow["status"];

/** The statuses of a rebuild under way: the projector mirrors events into its generation. */
export const ACTIVE_STATUSES: readonly RebuildStatus[] = ["waiting", "scanning", "taking-over", "draining"];

/** How long a projector isolate trusts its list of active rebuilds. */
export const REBUILD_CACHE_MS = 2_000;

/** Whether a rebuild's scope takes in an event of `tenant`'s `collection`. */
export function covers(
  rebuild: Pick<RebuildRow, "tenant" | "collection">,
  tenant: string,
  collection: string,
) {
  return (
    (rebuild.tenant === null || rebuild.tenant === tenant) &&
    (rebuild.collection === null || rebuild.collection === collection)
  );
}

const activeCache = new WeakMap<object, { rows: RebuildRow[]; until: number }>();

/** The rebuilds under way, as this isolate last read them (at most REBUILD_CACHE_MS ago). */
export async function activeRebuilds(env: Env, now = Date.now()): Promise<RebuildRow[]> {
  const cached = activeCache.get(env);
  if (cached !== undefined && cached.until > now) return cached.rows;
  const { results } = await env.DB.prepare(
    `SELECT * FROM rebuilds WHERE status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`,
  ).all<RebuildRow>();
  activeCache.set(env, { rows: results, until: now + REBUILD_CACHE_MS });
  return results;
}

export async function rebuildById(env: Env, id: string): Promise<RebuildRow | null> {
  return env.DB.prepare("SELECT * FROM rebuilds WHERE id = ?").bind(id).first<RebuildRow>();
}

/** Sets a rebuild's status, if it is still in one of `from` (a cancelled rebuild stays cancelled). */
export async function setStatus(
  env: Env,
  id: string,
  status: RebuildStatus,
  from: readonly RebuildStatus[],
  extra: { error?: string } = {},
): Promise<boolean> {
  const now = Date.now();
  const finished = ["done", "cancelled", "failed"].includes(status) ? now : null;
  const result = await env.DB.prepare(
    `UPDATE rebuilds SET status = ?2, updated_at = ?3, finished_at = coalesce(?4, finished_at),
       error = coalesce(?5, error)
     WHERE id = ?1 AND status IN (${from.map((s) => `'${s}'`).join(", ")})`,
  )
    .bind(id, status, now, finished, extra.error ?? null)
    .run();
  return result.meta.changes > 0;
}

/** The tables that hold a tenant's read model in its database (all but the shadow generation). */
export const TENANT_TABLES = [
  "documents",
  "changes",
  "held_events",
  "index_states",
  "collection_stats",
  "feed_horizons",
] as const;

/** Statements that delete `tenant`'s read model from `db`, table by table. */
export function dropTenant(db: D1Database, tenant: string): D1PreparedStatement[] {
  return TENANT_TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE tenant = ?`).bind(tenant));
}

/**
 * Removes what an unfinished rebuild built: its shadow rows, or (a move) the copy in the target database. Safe to
 * repeat; the states sweep runs it again for rebuilds that were cancelled or failed.
 */
export async function discardGeneration(env: Env, rebuild: RebuildRow): Promise<void> {
  if (rebuild.mode === "move" && rebuild.tenant !== null) {
    const target = database(env, rebuild.target);
    await target.batch(dropTenant(target, rebuild.tenant));
    return;
  }
  await Promise.all(
    allDatabases(env).map(({ db }) =>
      db.prepare("DELETE FROM rebuild_documents WHERE rebuild_id = ?").bind(rebuild.id).run(),
    ),
  );
}
