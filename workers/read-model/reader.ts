/**
 * Reading the D1 read model through a D1 session (so a bookmark gives monotonic reads across replicas).
 * Queries are built with drizzle's SQL builder and every one names the index that serves it (INDEXED BY).
 */
import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { envelopeJson } from "../../domain/commands";
import type { DocumentKey } from "../../domain/keys";
import type { Filter, Query, SlotValue } from "../../domain/query";

const dialect = new SQLiteAsyncDialect();

export interface DocumentRow {
  tenant: string;
  collection: string;
  id: string;
  version: number;
  deleted: number;
  data: string | null;
  data_ref: string | null;
  created_at: number;
  updated_at: number;
  k0: SlotValue | null;
  k1: SlotValue | null;
  k2: SlotValue | null;
  k3: SlotValue | null;
}

export interface ChangeRow {
  seq: number;
  tenant: string;
  collection: string;
  id: string;
  version: number;
  type: "put" | "patch" | "delete";
  event_id: string;
  data: string | null;
  data_ref: string | null;
  committed_at: number;
  projected_at: number;
}

export async function all<T>(session: D1DatabaseSession | D1Database, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  const result = await session
    .prepare(text)
    .bind(...params)
    .all<T>();
  return result.results;
}

/** Thrown when a state the read model references is not in R2: the read model cannot answer for that row. */
export class StateMissing extends Error {
  override name = "StateMissing";
}

/** A row's state as JSON text: from D1, or from R2 for a large state; null for none (a delete). */
export async function stateJson(
  archive: R2Bucket,
  row: { data: string | null; data_ref: string | null },
): Promise<string | null> {
  if (row.data !== null || row.data_ref === null) return row.data;
  const object = await archive.get(row.data_ref);
  if (object === null) throw new StateMissing(`state ${row.data_ref} is missing from R2`);
  return object.text();
}

/** A row's envelope as JSON text, around the stored state's own JSON (from D1, or R2 for a large state). */
export async function toEnvelopeJson(archive: R2Bucket, row: DocumentRow): Promise<string> {
  const data = await stateJson(archive, row);
  return envelopeJson(row, row.version, data ?? "{}", row.created_at, row.updated_at);
}

/** The most characters of state one page of a query or the change feed carries. */
export const PAGE_CHARS = 4 * 1024 * 1024;

/**
 * How many of `rows` (at most `limit`) one page may carry: inline states count their length, states in R2 the
 * largest a document may be, and a page holds at least one row. So a page of large documents stays a few MiB.
 */
export function pageSize(
  rows: ReadonlyArray<{ data: string | null; data_ref: string | null }>,
  limit: number,
  maxStateChars: number,
): number {
  let chars = 0;
  let n = 0;
  for (const row of rows.slice(0, limit)) {
    const size = row.data?.length ?? (row.data_ref === null ? 0 : maxStateChars);
    if (n > 0 && chars + size > PAGE_CHARS) break;
    chars += size;
    n += 1;
  }
  return n;
}

export async function readDocument(
  session: D1DatabaseSession,
  key: DocumentKey,
): Promise<DocumentRow | null> {
  const rows = await all<DocumentRow>(
    session,
    sql`SELECT * FROM documents WHERE tenant = ${key.tenant} AND collection = ${key.collection} AND id = ${key.id}`,
  );
  return rows[0] ?? null;
}

const slotColumn = (slot: number) => sql.raw(`k${slot}`);

/**
 * The least string above every string that starts with `prefix`: the prefix with its last code point incremented
 * (a prefix ending in U+10FFFF carries into the one before). null when every string from `prefix` on qualifies.
 * SQLite compares UTF-8 bytes, which orders like code points.
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()?.codePointAt(0) ?? 0;
    if (last < 0x10ffff) {
      // Skip the surrogate range, which is not a code point a string can hold on its own.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join("") + String.fromCodePoint(next);
    }
  }
  return null;
}

function filterSql(filter: Filter): SQL {
  const column = slotColumn(filter.slot);
  const [value = null] = filter.values;
  switch (filter.op) {
    case "eq":
      return sql`${column} = ${value}`;
    case "ne":
      return sql`${column} != ${value}`;
    case "gt":
      return sql`${column} > ${value}`;
    case "gte":
      return sql`${column} >= ${value}`;
    case "lt":
      return sql`${column} < ${value}`;
    case "lte":
      return sql`${column} <= ${value}`;
    case "in":
      return sql`${column} IN (${sql.join(
        filter.values.map((v) => sql`${v}`),
        sql`, `,
      )})`;
    case "prefix": {
      const upper = prefixUpperBound(String(value));
      return upper === null
        ? sql`${column} >= ${value} AND typeof(${column}) = 'text'`
        : sql`${column} >= ${value} AND ${column} < ${upper}`;
    }
  }
}

/** The index a query runs on: its order field's, else its first filter's, else the id index. */
export function indexFor(query: Query): string {
  const slot = query.order?.slot ?? query.filters[0]?.slot;
  return slot === undefined ? "documents_by_id" : `documents_k${slot}`;
}

/** The SQL of a query page; `limit + 1` rows tell whether there is a next page. */
export function querySql(tenant: string, query: Query, columns: SQL = sql.raw("*")): SQL {
  const conditions: SQL[] = [
    sql`tenant = ${tenant}`,
    sql`collection = ${query.collection}`,
    sql`deleted = 0`,
    ...query.filters.map(filterSql),
  ];
  const direction = sql.raw(query.descending ? "DESC" : "ASC");
  const comparison = sql.raw(query.descending ? "<" : ">");
  if (query.order === null) {
    if (query.after !== null) conditions.push(sql`id ${comparison} ${query.after.id}`);
  } else {
    const column = slotColumn(query.order.slot);
    conditions.push(sql`${column} IS NOT NULL`);
    if (query.after !== null) {
      conditions.push(sql`(${column}, id) ${comparison} (${query.after.value}, ${query.after.id})`);
    }
  }
  const orderBy =
    query.order === null
      ? sql`id ${direction}`
      : sql`${slotColumn(query.order.slot)} ${direction}, id ${direction}`;
  return sql`SELECT ${columns} FROM documents INDEXED BY ${sql.raw(indexFor(query))} WHERE ${sql.join(conditions, sql` AND `)} ORDER BY ${orderBy} LIMIT ${query.limit + 1}`;
}

export function runQuery(session: D1DatabaseSession, tenant: string, query: Query): Promise<DocumentRow[]> {
  return all<DocumentRow>(session, querySql(tenant, query));
}

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
