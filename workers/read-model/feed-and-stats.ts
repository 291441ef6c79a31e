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
 * Projection lag over a tenant's most recent `window` changes, and its counts; with `tenant` null, over every
 * tenant (the operator's view). Counts scan the tenant's index entries: cheap for thousands, a second for millions.
 */
export async function readStats(
  db: D1Database,
  tenant: string | null,
  window = 1000,
): Promise<ReadModelStats> {
  const [lags, counts] =
    tenant === null
      ? await db.batch<Record<string, number>>([
          db
            .prepare("SELECT projected_at - committed_at AS lag FROM changes ORDER BY seq DESC LIMIT ?")
            .bind(window),
          db.prepare(
            `SELECT (SELECT count(*) FROM changes) AS events,
                    (SELECT count(*) FROM dead_letters WHERE redriven_at IS NULL) AS dead,
                    (SELECT count(*) FROM documents WHERE deleted = 0) AS docs,
                    (SELECT count(*) FROM held_events) AS held`,
          ),
        ])
      : await db.batch<Record<string, number>>([
          db
            .prepare(
              `SELECT projected_at - committed_at AS lag FROM changes INDEXED BY changes_by_tenant
               WHERE tenant = ? ORDER BY seq DESC LIMIT ?`,
            )
            .bind(tenant, window),
          db
            .prepare(
              `SELECT (SELECT count(*) FROM changes INDEXED BY changes_by_tenant WHERE tenant = ?1) AS events,
                      (SELECT count(*) FROM dead_letters WHERE tenant = ?1 AND redriven_at IS NULL) AS dead,
                      (SELECT count(*) FROM documents INDEXED BY documents_by_id WHERE tenant = ?1 AND deleted = 0)
                        AS docs,
                      (SELECT count(*) FROM held_events WHERE tenant = ?1) AS held`,
            )
            .bind(tenant),
        ]);
  const sorted = (lags?.results ?? []).map((r) => r.lag ?? 0).sort((a, b) => a - b);
  const row = counts?.results[0] ?? {};
  return {
    lagMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), window: sorted.length },
    eventsProjected: row.events ?? 0,
    deadLettersPending: row.dead ?? 0,
    documents: row.docs ?? 0,
    heldEvents: row.held ?? 0,
  };
}
