/**
 * Collection queries compiled to SQL on the read model's documents table. Every query names the index that serves
 * it (INDEXED BY), so a plan can never fall back to a scan.
 */
import { type SQL, sql } from "drizzle-orm";
import type { DocumentKey } from "../../domain/keys";
import type { Filter, Query } from "../../domain/query";
import { all, type DocumentRow } from "./d1";

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
