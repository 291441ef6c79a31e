/**
 * Whether a collection's indexes can answer a query for a tenant: every live document's index values must have
 * been computed under the declaration in force. A collection whose indexes changed after documents were written
 * is not ready until those documents are reindexed; a query then gets 503 `index-not-ready`, never an empty or
 * partial list. Readiness is recorded in D1 (index_states) and cached per isolate once ready, so a query pays a
 * D1 round trip for it only on the first query of a collection in an isolate.
 */
import { indexSignature } from "../../domain/collections";
import { HttpProblem } from "../http/problem";

/** (tenant, collection, signature) known ready in this isolate. */
const ready = new Set<string>();
/** When a not-ready collection was last checked, so that queries on it do not scan for stale rows each time. */
const lastChecked = new Map<string, number>();
const RECHECK_MS = 10_000;

interface StateRow {
  signature: string;
  ready: number;
  adopted: string;
}

export function indexNotReady(collection: string, detail?: string): HttpProblem {
  return new HttpProblem(
    503,
    "index-not-ready",
    "Service Unavailable",
    detail ??
      `the indexes of ${collection} changed after documents were written; until those documents are reindexed a ` +
        "query on them would miss some, so it is refused",
    { collection },
    { "Retry-After": "60" },
  );
}

/** Throws 503 index-not-ready unless the collection's indexes hold every live document of the tenant. */
export async function assertIndexReady(db: D1Database, tenant: string, collection: string, now = Date.now()) {
  const signature = indexSignature(collection);
  if (signature === "-") return; // no indexes: queries run on the id index, which is always complete
  const key = `${tenant}\n${collection}\n${signature}`;
  if (ready.has(key)) return;
  const checked = lastChecked.get(key);
  if (checked !== undefined && now - checked < RECHECK_MS) throw indexNotReady(collection);
  if (await isReady(db, tenant, collection, signature, now)) {
    ready.add(key);
    lastChecked.delete(key);
    return;
  }
  lastChecked.set(key, now);
  throw indexNotReady(collection);
}

async function isReady(
  db: D1Database,
  tenant: string,
  collection: string,
  signature: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .prepare("SELECT signature, ready, adopted FROM index_states WHERE tenant = ?1 AND collection = ?2")
    .bind(tenant, collection)
    .first<StateRow>();
  if (row !== null && row.signature === signature && row.ready === 1) return true;
  // First sight, a changed declaration, or stale rows found before: look for live rows computed under another
  // declaration. Rows projected before signatures existed are taken to match the declaration in force at this
  // tenant's first check of the collection (`adopted`, set once).
  const adopted = row?.adopted ?? signature;
  const stale = await db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM documents INDEXED BY documents_by_id
         WHERE tenant = ?1 AND collection = ?2 AND deleted = 0 AND coalesce(ix, ?3) != ?4) AS stale`,
    )
    .bind(tenant, collection, adopted, signature)
    .first<{ stale: number }>();
  const readyNow = stale?.stale === 0;
  await db
    .prepare(
      `INSERT INTO index_states (tenant, collection, signature, ready, adopted, checked_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (tenant, collection) DO UPDATE SET
         signature = excluded.signature, ready = excluded.ready, checked_at = excluded.checked_at`,
    )
    .bind(tenant, collection, signature, readyNow ? 1 : 0, adopted, now)
    .run();
  return readyNow;
}
