/** The change feed's pages and the read model's statistics, as D1 queries, always within one tenant. */
import { sql } from "drizzle-orm";
import { all, type ChangeRow } from "./d1";

/**
 * A page of a tenant's change feed after `after`: of one collection, of a list of them (a credential limited to
 * some collections), or of all. Each form runs on an index that starts with the tenant.
 */
export function readChanges(
  session: D1DatabaseSession,
  options: { after: number; limit: number; tenant: string; collections: readonly string[] | null },
): Promise<ChangeRow[]> {
  const { after, limit, tenant, collections } = options;
  if (collections === null) {
    return all<ChangeRow>(
      session,
      sql`SELECT * FROM changes INDEXED BY changes_by_tenant WHERE tenant = ${tenant} AND seq > ${after}
          ORDER BY seq LIMIT ${limit}`,
    );
  }
  if (collections.length === 0) return Promise.resolve([]);
  return all<ChangeRow>(
    session,
    sql`SELECT * FROM changes WHERE tenant = ${tenant} AND collection IN (${sql.join(
      collections.map((c) => sql`${c}`),
      sql`, `,
    )}) AND seq > ${after} ORDER BY seq LIMIT ${limit}`,
  );
}

export interface ReadModelStats {
  lagMs: { p50: number | null; p99: number | null; window: number };
  eventsProjected: number;
  deadLettersPending: number;
  documents: number;
  /** Events the projector holds until their transaction is whole (see workers/projector/held.ts). */
  heldEvents: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/**
 * Projection lag over a tenant's most recent `window` changes, and its counts, from `dbs` (the tenant's read-model
 * database; every one for the operator's view, `tenant` null); dead letters from the primary database. Counts
 * come from collection_stats (kept by triggers), so they cost nothing however large the tables grow.
 */
export async function readStats(
  dbs: readonly D1Database[],
  primary: D1Database,
  tenant: string | null,
  window = 1000,
): Promise<ReadModelStats> {
  const where = tenant === null ? "" : "WHERE tenant = ?1";
  const bind = (db: D1Database, sql: string, ...rest: unknown[]) =>
    tenant === null ? db.prepare(sql).bind(...rest) : db.prepare(sql).bind(tenant, ...rest);
  const parts = await Promise.all(
    dbs.map((db) =>
      db.batch<Record<string, number>>([
        bind(
          db,
          tenant === null
            ? "SELECT projected_at - committed_at AS lag FROM changes ORDER BY seq DESC LIMIT ?1"
            : `SELECT projected_at - committed_at AS lag FROM changes INDEXED BY changes_by_tenant
               WHERE tenant = ?1 ORDER BY seq DESC LIMIT ?2`,
          window,
        ),
        bind(
          db,
          `SELECT coalesce(sum(events), 0) AS events, coalesce(sum(documents), 0) AS docs,
                  (SELECT count(*) FROM held_events ${where}) AS held
           FROM collection_stats ${where}`,
        ),
      ]),
    ),
  );
  const dead = await bind(
    primary,
    `SELECT count(*) AS dead FROM dead_letters WHERE redriven_at IS NULL${tenant === null ? "" : " AND tenant = ?1"}`,
  ).first<{ dead: number }>();
  const lags = parts.flatMap(([l]) => (l?.results ?? []).map((r) => r.lag ?? 0));
  const sorted = lags.sort((a, b) => a - b).slice(-window);
  const sum = (field: string) => parts.reduce((n, [, c]) => n + (c?.results[0]?.[field] ?? 0), 0);
  return {
    lagMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), window: sorted.length },
    eventsProjected: sum("events"),
    deadLettersPending: dead?.dead ?? 0,
    documents: sum("docs"),
    heldEvents: sum("held"),
  };
}
