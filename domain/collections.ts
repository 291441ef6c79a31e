/**
 * Per-collection configuration, reviewed in code and deployed with the Worker: indexed fields (with types),
 * optional validation, and query defaults. Collections not declared here are schemaless with no secondary indexes.
 */
import { z } from "zod";
import { hash53 } from "./hash";
import { type JsonObject, type JsonValue, utf8Length } from "./json";
import { checkName } from "./keys";
import { formatPointer } from "./patch/pointer";

export type FieldType = "string" | "number" | "boolean";

export interface CollectionConfig {
  /** Fields served by an index, by dotted path (`customer.name`), at most INDEX_SLOT_COUNT. */
  readonly indexes?: Readonly<Record<string, FieldType>>;
  /** Validation applied to every write's resulting document; a failure is 422 pointing at the field. */
  readonly schema?: z.ZodType;
  readonly defaults?: { readonly limit?: number; readonly order?: string };
  /**
   * Whether writes are refused (503 projection-behind, Retry-After) while the read side is further behind than
   * MAX_PROJECTION_LAG_MS: for collections whose readers must not fall far behind their writers.
   */
  readonly shedWhenBehind?: boolean;
}

export const INDEX_SLOT_COUNT = 4;
/**
 * The longest string an indexed field may hold. Index entries and query cursors (which carry the last value
 * of a page) stay small, so a cursor always fits in a URL.
 */
export const MAX_INDEXED_STRING_BYTES = 512;

export const DEFAULT_QUERY_LIMIT = 50;
export const MAX_QUERY_LIMIT = 200;

/** Checks the configuration when the module loads: a mistake fails the deploy's tests, not a query at runtime. */
export function defineCollections<T extends Record<string, CollectionConfig>>(collections: T): T {
  for (const [name, config] of Object.entries(collections)) {
    const named = checkName("collection", name);
    if (!named.ok) throw new Error(`collection "${name}": ${named.reason}`);
    const fields = Object.keys(config.indexes ?? {});
    for (const [field, type] of Object.entries(config.indexes ?? {})) {
      if (field === "id" || field.split(".").some((part) => part === "")) {
        throw new Error(
          `collection ${name}: "${field}" cannot be an indexed field (use a dotted path, not "id")`,
        );
      }
      if (type !== "string" && type !== "number" && type !== "boolean") {
        throw new Error(
          `collection ${name}: the index on "${field}" has type "${type}"; use string, number or boolean`,
        );
      }
    }
    if (fields.length > INDEX_SLOT_COUNT) {
      throw new Error(
        `collection ${name} declares ${fields.length} indexes; the limit is ${INDEX_SLOT_COUNT}`,
      );
    }
    const order = config.defaults?.order?.replace(/^-/, "");
    if (order !== undefined && order !== "id" && !fields.includes(order)) {
      throw new Error(`collection ${name} orders by default by "${order}", which is not one of its indexes`);
    }
    const limit = config.defaults?.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT)) {
      throw new Error(
        `collection ${name}: the default limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`,
      );
    }
  }
  return collections;
}

/**
 * This deployment's collections. `todos` is the worked example (and what the tests use); declare your own beside it.
 * Changing the indexes of a collection that already has documents starts a backfill that reindexes its rows; until it
 * is done a query on them answers 503 index-not-ready with its progress (docs/operations.md).
 */
export const COLLECTIONS: Readonly<Record<string, CollectionConfig>> = defineCollections({
  todos: {
    indexes: { status: "string", priority: "number", owner: "string", done: "boolean" },
    schema: z.looseObject({
      title: z.string().min(1).max(500),
      status: z.enum(["open", "doing", "done"]).optional(),
      priority: z.number().int().min(0).max(10).optional(),
      owner: z.string().optional(),
      done: z.boolean().optional(),
    }),
    defaults: { limit: 50 },
  },
  /** Alerts are read from the read model right after they are written: their writes wait while it is far behind. */
  alerts: { shedWhenBehind: true },
});

/**
 * Tessera's own collections, reserved by their leading `_` (no client can name them in a URL): saga records,
 * listed by status and newest first.
 */
const SYSTEM_COLLECTIONS: Readonly<Record<string, CollectionConfig>> = {
  _sagas: {
    indexes: { status: "string", name: "string", createdAt: "string" },
    defaults: { order: "-createdAt", limit: 50 },
  },
};

export function collectionConfig(collection: string): CollectionConfig {
  return COLLECTIONS[collection] ?? SYSTEM_COLLECTIONS[collection] ?? {};
}

/** The index slot of each declared field, in declaration order. */
export function indexedFields(collection: string): Array<{ field: string; type: FieldType; slot: number }> {
  return Object.entries(collectionConfig(collection).indexes ?? {}).map(([field, type], slot) => ({
    field,
    type,
    slot,
  }));
}

function fieldValue(data: JsonObject, field: string): JsonValue | undefined {
  let node: JsonValue | undefined = data;
  for (const part of field.split(".")) {
    if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, part))
      return undefined;
    node = node[part];
  }
  return node;
}

function matchesType(value: JsonValue, type: FieldType): boolean {
  return typeof value === type;
}

/** SQLite value for an index slot: booleans as 0/1; absent or null fields as null. */
export function slotValue(value: JsonValue | undefined, type: FieldType): string | number | null {
  if (value === undefined || value === null || !matchesType(value, type)) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as string | number;
}

const signatures = new Map<string, string>();

/**
 * A short fingerprint of a collection's index declaration (fields, types, slots). Each event records the one its
 * index values were computed under, and each read-model row the one its slots hold, so that an index declared or
 * changed after documents were written is known to be incomplete rather than silently missing them.
 */
export function indexSignature(collection: string): string {
  let signature = signatures.get(collection);
  if (signature === undefined) {
    const fields = indexedFields(collection).map(({ field, type, slot }) => [field, type, slot]);
    signature = fields.length === 0 ? "-" : hash53(JSON.stringify(fields)).toString(36);
    signatures.set(collection, signature);
  }
  return signature;
}

/** The index slot values (k0..k3) of a document in its collection. */
export function indexValues(collection: string, data: JsonObject | null): Array<string | number | null> {
  const slots: Array<string | number | null> = Array.from({ length: INDEX_SLOT_COUNT }, () => null);
  if (data === null) return slots;
  for (const { field, type, slot } of indexedFields(collection))
    slots[slot] = slotValue(fieldValue(data, field), type);
  return slots;
}

export type ValidationFailure = { detail: string; pointer: string };

function toPointer(path: ReadonlyArray<PropertyKey>): string {
  return formatPointer(path.map(String));
}

/** Checks a document against its collection's schema and index types; null when it is valid. */
export function validateDocument(collection: string, data: JsonObject): ValidationFailure | null {
  const config = collectionConfig(collection);
  for (const { field, type } of indexedFields(collection)) {
    const value = fieldValue(data, field);
    if (value !== undefined && value !== null && !matchesType(value, type)) {
      return { detail: `"${field}" is indexed as ${type}`, pointer: toPointer(field.split(".")) };
    }
    const bytes = typeof value === "string" ? utf8Length(value, MAX_INDEXED_STRING_BYTES) : 0;
    if (bytes > MAX_INDEXED_STRING_BYTES) {
      return {
        detail: `"${field}" is indexed, so it may hold at most ${MAX_INDEXED_STRING_BYTES} UTF-8 bytes (it has ${bytes})`,
        pointer: toPointer(field.split(".")),
      };
    }
  }
  if (config.schema === undefined) return null;
  const result = config.schema.safeParse(data);
  if (result.success) return null;
  const issue = result.error.issues[0];
  return { detail: issue?.message ?? "invalid document", pointer: toPointer(issue?.path ?? []) };
}
