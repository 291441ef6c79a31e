/**
 * Queries on the read model: `where[field]=v`, `where[field][op]=v`, `order=-field`, `limit`, `cursor`,
 * checked against the collection's declared indexes. Pure: the Worker compiles the result to SQL.
 */
import { decodeBase64Url, encodeBase64Url } from "./base64url";
import {
  collectionConfig,
  DEFAULT_QUERY_LIMIT,
  type FieldType,
  indexedFields,
  MAX_QUERY_LIMIT,
} from "./collections";
import { hash53 } from "./hash";

export const OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "prefix"] as const;
export type Operator = (typeof OPERATORS)[number];
export type SlotValue = string | number;

export interface Filter {
  readonly field: string;
  readonly slot: number;
  readonly op: Operator;
  readonly values: readonly SlotValue[];
}

export interface Query {
  readonly collection: string;
  readonly filters: readonly Filter[];
  /** null orders by id. */
  readonly order: { readonly field: string; readonly slot: number } | null;
  readonly descending: boolean;
  readonly limit: number;
  readonly after: { readonly value: SlotValue | null; readonly id: string } | null;
}

export { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT };

const MAX_FILTERS = 8;
const MAX_IN_VALUES = 50;
const MAX_FILTER_VALUES = 90;

export type QueryParse = { ok: true; query: Query } | { ok: false; code: string; detail: string };

function coerce(raw: string, type: FieldType): SlotValue | null {
  if (type === "string") return raw;
  if (type === "boolean") return raw === "true" ? 1 : raw === "false" ? 0 : null;
  if (raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

const WHERE = /^where\[([^\][]+)\](?:\[([a-z]+)\])?$/;

/** Parses a query string; every problem is a 400 with a code and a detail that says how to fix it. */
export function parseQuery(collection: string, params: URLSearchParams): QueryParse {
  const fields = new Map(indexedFields(collection).map((f) => [f.field, f]));
  const needsIndex = (field: string): QueryParse => ({
    ok: false,
    code: "field-not-indexed",
    detail: `"${field}" is not an indexed field of ${collection}; declare it in domain/collections.ts to query it`,
  });
  const bad = (detail: string): QueryParse => ({ ok: false, code: "invalid-query", detail });
  const filters: Filter[] = [];
  for (const [name, raw] of params) {
    if (["order", "limit", "cursor", "consistency"].includes(name)) continue;
    const match = WHERE.exec(name);
    if (match === null) return bad(`unknown query parameter "${name}"`);
    const field = match[1] ?? "";
    const op = (match[2] ?? "eq") as Operator;
    if (!OPERATORS.includes(op)) return bad(`unknown operator "${op}"; use one of ${OPERATORS.join(", ")}`);
    const declared = fields.get(field);
    if (declared === undefined) return needsIndex(field);
    if (op === "prefix" && declared.type !== "string")
      return bad(`prefix needs a string field; "${field}" is ${declared.type}`);
    const parts = op === "in" ? raw.split(",") : [raw];
    if (parts.length > MAX_IN_VALUES) return bad(`"in" takes at most ${MAX_IN_VALUES} values`);
    const values: SlotValue[] = [];
    for (const part of parts) {
      const value = coerce(part, declared.type);
      if (value === null) return bad(`"${part}" is not a ${declared.type} for "${field}"`);
      values.push(value);
    }
    filters.push({ field, slot: declared.slot, op, values });
  }
  if (filters.length > MAX_FILTERS) return bad(`at most ${MAX_FILTERS} filters`);
  // D1 binds at most 100 parameters per statement; tenant, collection, cursor and limit take up to 6.
  const bound = filters.reduce((n, f) => n + (f.op === "prefix" ? 2 : f.values.length), 0);
  if (bound > MAX_FILTER_VALUES) return bad(`a query may compare at most ${MAX_FILTER_VALUES} values in all`);

  const defaults = collectionConfig(collection).defaults ?? {};
  const orderRaw = params.get("order") ?? defaults.order ?? "id";
  const descending = orderRaw.startsWith("-");
  const orderField = descending ? orderRaw.slice(1) : orderRaw;
  let order: Query["order"] = null;
  if (orderField !== "id") {
    const declared = fields.get(orderField);
    if (declared === undefined) return needsIndex(orderField);
    order = { field: orderField, slot: declared.slot };
  }

  const limitRaw = params.get("limit");
  const limit = limitRaw === null ? (defaults.limit ?? DEFAULT_QUERY_LIMIT) : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    return bad(`limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
  }
  return { ok: true, query: { collection, filters, order, descending, limit, after: null } };
}

/** A stable fingerprint of what a query selects and how it orders, so a cursor cannot be moved to another query. */
export function queryShape(query: Query): string {
  const filters = [...query.filters].map((f) => `${f.field}:${f.op}:${JSON.stringify(f.values)}`).sort();
  return JSON.stringify([query.collection, filters, query.order?.field ?? "id", query.descending]);
}

/** Opaque cursor: the last row's (order value, id), bound to the query's shape. */
export function encodeCursor(query: Query, last: { value: SlotValue | null; id: string }): string {
  const json = JSON.stringify({ s: shapeHash(queryShape(query)), v: last.value, i: last.id });
  return encodeBase64Url(new TextEncoder().encode(json));
}

/** The query continued after `cursor`; null when the cursor is malformed or belongs to another query. */
export function applyCursor(query: Query, cursor: string): Query | null {
  try {
    const raw: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(cursor)));
    if (typeof raw !== "object" || raw === null) return null;
    const { s, v, i } = raw as { s?: unknown; v?: unknown; i?: unknown };
    if (s !== shapeHash(queryShape(query)) || typeof i !== "string") return null;
    if (query.order !== null && typeof v !== "string" && typeof v !== "number") return null;
    return { ...query, after: { value: (v as SlotValue | null) ?? null, id: i } };
  } catch {
    return null;
  }
}

function shapeHash(text: string): string {
  return hash53(text).toString(36);
}
