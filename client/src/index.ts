/**
 * Tessera's client: `const db = tessera({ url, key })`, then `db.collection("todos")`, queries, the change feed,
 * transactions, sagas and bulk transfer. ESM, for browsers, Node 20+ and Workers. See docs/client.md.
 */
export {
  Admin,
  ChangeStream,
  type ChangesOptions,
  Collection,
  Export,
  type FieldOf,
  type FilterValue,
  type ImportOptions,
  type ImportTotals,
  type MergePatch,
  type Page,
  Paged,
  pointerOf,
  Query,
  type ReadOptions,
  Sagas,
  Tessera,
  type TesseraOptions,
  tessera,
  type WriteOptions,
} from "./client.js";
export { type ErrorFields, TesseraError } from "./errors.js";
export type { components, operations, paths } from "./generated/openapi.js";
export { ndjsonLines } from "./ndjson.js";
export { Session } from "./session.js";
export { type FetchFunction, type KeySource, newIdempotencyKey, type RetryOptions } from "./transport.js";
export type * from "./types.js";
