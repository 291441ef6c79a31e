/** The change feed's pages and the read model's statistics, as D1 queries. */
import { sql } from "drizzle-orm";
import { all, type ChangeRow } from "./d1";

export function readChanges(
  session: D1DatabaseSession,
  options: { after: number; limit: number; tenant: string; collection?: string },
): Promise<ChangeRow[]> {
  const scope =
    options.collection === undefined
      ? sql``
      : sql`AND tenant = ${options.tenant} AND collection = ${options.collection}`;
  return all<ChangeRow>(
    session,
    sql`SELECT * FROM changes WHERE seq > ${options.after} ${scope} ORDER BY seq LIMIT ${options.limit}`,
  );
}

export interface ReadModelStats {
  lagMs: { p50: number | null; p99: number | null; window: number };
  eventsProjected: number;
  deadLettersPending: number;
  documents: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/** Projection lag over the most recent `window` changes, and the read model's counts. */
export async function readStats(db: D1Database, window = 1000): Promise<ReadModelStats> {
  const [lags, counts] = await db.batch<Record<string, number>>([
    db
      .prepare(
        "SELECT projected_at - committed_at AS lag FROM changes WHERE seq > (SELECT coalesce(max(seq), 0) FROM changes) - ?",
      )
      .bind(window),
    db.prepare(
      `SELECT (SELECT coalesce(max(seq), 0) FROM changes) AS events,
              (SELECT count(*) FROM dead_letters WHERE redriven_at IS NULL) AS dead,
              (SELECT count(*) FROM documents WHERE deleted = 0) AS docs`,
    ),
  ]);
  const sorted = (lags?.results ?? []).map((r) => r.lag ?? 0).sort((a, b) => a - b);
  const row = counts?.results[0] ?? {};
  return {
    lagMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), window: sorted.length },
    eventsProjected: row.events ?? 0,
    deadLettersPending: row.dead ?? 0,
    documents: row.docs ?? 0,
  };
}
