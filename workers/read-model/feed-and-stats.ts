/** The change feed's pages and the read model's statistics, as D1 queries, always within one tenant. */
import type { ChangeRow } from "./d1";
import { stateJson } from "./states";

/** A page of the feed in D1, and how far retention has pruned it (changes up to `horizon` are in R2 segments). */
export interface FeedRead {
  readonly rows: ChangeRow[];
  readonly horizon: number;
}

/**
 * A page of a tenant's change feed after `after`: of one collection, of a list of them (a credential limited to
 * some collections), or of all; with the retention horizon, read in the same transaction (so a page is never
 * taken from rows pruned meanwhile). Each form runs on an index that starts with the tenant.
 */
export async function readChanges(
  session: D1DatabaseSession | D1Database,
  options: { after: number; limit: number; tenant: string; collections: readonly string[] | null },
): Promise<FeedRead> {
  const { after, limit, tenant, collections } = options;
  if (collections !== null && collections.length === 0) return { rows: [], horizon: 0 };
  const page =
    collections === null
      ? session
          .prepare(
            `SELECT * FROM changes INDEXED BY changes_by_tenant WHERE tenant = ?1 AND seq > ?2
             ORDER BY seq LIMIT ?3`,
          )
          .bind(tenant, after, limit)
      : session
          .prepare(
            `SELECT * FROM changes WHERE tenant = ?1 AND collection IN (SELECT value FROM json_each(?4))
             AND seq > ?2 ORDER BY seq LIMIT ?3`,
          )
          .bind(tenant, after, limit, JSON.stringify(collections));
  const [horizon, rows] = await session.batch<Record<string, unknown>>([
    session.prepare("SELECT pruned_seq FROM feed_horizons WHERE tenant = ?").bind(tenant),
    page,
  ]);
  return {
    rows: (rows?.results ?? []) as unknown as ChangeRow[],
    horizon: Number(horizon?.results[0]?.pruned_seq ?? 0),
  };
}

/** One change as JSON text, its state spliced in as stored (never parsed and serialized again). */
export async function changeJson(archive: R2Bucket, row: ChangeRow): Promise<string> {
  const head = JSON.stringify({
    seq: row.seq,
    collection: row.collection,
    id: row.id,
    version: row.version,
    type: row.type,
    committedAt: new Date(row.committed_at).toISOString(),
    ...(row.tx_id === null ? {} : { txId: row.tx_id }),
  });
  const data = row.type === "delete" ? null : await stateJson(archive, row);
  return `${head.slice(0, -1)},"data":${data ?? "null"}}`;
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
