/**
 * Whether a collection's indexes can answer a query for a tenant: every live document's index values must have
 * been computed under the declaration in force. A collection whose indexes changed after documents were written
 * is not ready until those documents are reindexed; a query then gets 503 `index-not-ready`, never an empty or
 * partial list, and a backfill starts (workers/maintenance/backfill.ts) whose progress the refusal reports.
 * Readiness is recorded in D1 (index_states) and cached per isolate once ready, so a query pays a D1 round trip
 * for it only on the first query of a collection in an isolate.
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
  backfill_total: number | null;
  backfill_done: number | null;
}

/** A backfill's progress, as far as the read model knows it. */
export interface Progress {
  readonly done: number;
  readonly total: number | null;
}

export function indexNotReady(
  collection: string,
  progress: Progress = { done: 0, total: null },
): HttpProblem {
  const { done, total } = progress;
  const left = total === null ? null : Math.max(0, total - done);
  return new HttpProblem(
    503,
    "index-not-ready",
    "Service Unavailable",
    `the indexes of ${collection} changed after documents were written; a backfill is reindexing them ` +
      `(${done} of ${total ?? "?"} done), and until it finishes a query on them would miss some, so it is refused`,
    { collection, backfill: { done, total } },
    // A page of 200 rows takes well under a second: ask again when about a second per page has passed.
    { "Retry-After": String(left === null ? 5 : Math.min(60, Math.max(1, Math.ceil(left / 200)))) },
  );
}

/** Starts the backfill of a tenant's collection (idempotent: one instance per declaration). */
export type StartBackfill = (tenant: string, collection: string, signature: string) => Promise<void>;

/** Throws 503 index-not-ready unless the collection's indexes hold every live document of the tenant. */
export async function assertIndexReady(
  db: D1Database,
  tenant: string,
  collection: string,
  now = Date.now(),
  startBackfill: StartBackfill = async () => {},
) {
  const signature = indexSignature(collection);
  if (signature === "-") return; // no indexes: queries run on the id index, which is always complete
  const key = `${tenant}\n${collection}\n${signature}`;
  if (ready.has(key)) return;
  const checked = lastChecked.get(key);
  if (checked !== undefined && now - checked < RECHECK_MS) {
    const progress = await progressOf(db, tenant, collection);
    // Within the interval the answer stands, unless the backfill has meanwhile done every row.
    if (progress.total === null || progress.done < progress.total) throw indexNotReady(collection, progress);
  }
  if (await isReady(db, tenant, collection, signature, now)) {
    ready.add(key);
    lastChecked.delete(key);
    return;
  }
  lastChecked.set(key, now);
  const progress = await progressOf(db, tenant, collection);
  // Once per recheck interval per isolate: starts the backfill, or restarts it if it failed.
  await startBackfill(tenant, collection, signature);
  throw indexNotReady(collection, progress);
}

async function progressOf(db: D1Database, tenant: string, collection: string): Promise<Progress> {
  const row = await db
    .prepare("SELECT backfill_total, backfill_done FROM index_states WHERE tenant = ? AND collection = ?")
    .bind(tenant, collection)
    .first<Pick<StateRow, "backfill_total" | "backfill_done">>();
  return { done: row?.backfill_done ?? 0, total: row?.backfill_total ?? null };
}

async function isReady(
  db: D1Database,
  tenant: string,
  collection: string,
  signature: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .prepare("SELECT * FROM index_states WHERE tenant = ?1 AND collection = ?2")
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
         signature = excluded.signature, ready = excluded.ready, checked_at = excluded.checked_at,
         backfill_total = CASE WHEN signature = excluded.signature THEN backfill_total END,
         backfill_done = CASE WHEN signature = excluded.signature THEN backfill_done END`,
    )
    .bind(tenant, collection, signature, readyNow ? 1 : 0, adopted, now)
    .run();
  return readyNow;
}
