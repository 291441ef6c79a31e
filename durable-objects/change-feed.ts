/** How a document object asks the read model's change feed (D1 `changes`) which of its events arrived. */
import type { DocumentKey } from "../domain/keys";
import type { ChangeFeed } from "./outbox/outbox";

/**
 * Both queries read the unique index on (tenant, collection, id, version): a list for scattered holes, and
 * gaps-and-islands over a range (a version minus its row number is constant along a run of consecutive versions),
 * which answers with one row per run however long the run is.
 */
export const CHANGE_FEED_SQL = {
  holds: `SELECT version FROM changes WHERE tenant = ?1 AND collection = ?2 AND id = ?3
          AND version IN (SELECT value FROM json_each(?4))`,
  runs: `SELECT min(version) AS first, max(version) AS last FROM (
           SELECT version, version - row_number() OVER (ORDER BY version) AS run FROM changes
           WHERE tenant = ?1 AND collection = ?2 AND id = ?3 AND version BETWEEN ?4 AND ?5)
         GROUP BY run ORDER BY first LIMIT ?6`,
};

/** The change feed in the D1 database that holds each tenant's read model (`dbOf`). */
export function d1ChangeFeed(dbOf: (tenant: string) => Promise<D1Database>): ChangeFeed {
  return {
    async holds(key, versions) {
      const db = await dbOf(key.tenant);
      const { results } = await db
        .prepare(CHANGE_FEED_SQL.holds)
        .bind(key.tenant, key.collection, key.id, JSON.stringify(versions))
        .all<{ version: number }>();
      return new Set(results.map((r) => r.version));
    },
    async runs(key: DocumentKey, from: number, to: number, limit: number) {
      const db = await dbOf(key.tenant);
      const { results } = await db
        .prepare(CHANGE_FEED_SQL.runs)
        .bind(key.tenant, key.collection, key.id, from, to, limit)
        .all<{ first: number; last: number }>();
      return results.map((r) => [r.first, r.last] as const);
    },
  };
}
