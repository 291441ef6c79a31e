/** Running drizzle-built SQL on D1 (or a D1 session), and the row types of the read model's tables as D1 returns them. */
import type { SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { errorText, log } from "../../platform/log";
import { HttpProblem, unavailable } from "../http/problem";
import type { changes, documents } from "./schema";

const dialect = new SQLiteAsyncDialect();

type Columns<T extends SQLiteTable> = T["_"]["columns"];

/**
 * A table's row as raw SQL returns it: keyed by the SQL column names (drizzle's builder would give the camelCase
 * field names). Derived from the drizzle table, so the two cannot disagree.
 */
export type RawRow<T extends SQLiteTable> = {
  [K in keyof Columns<T> as Columns<T>[K]["_"]["name"]]: Columns<T>[K]["_"]["notNull"] extends true
    ? Columns<T>[K]["_"]["data"]
    : Columns<T>[K]["_"]["data"] | null;
};

export type DocumentRow = RawRow<typeof documents>;
export type ChangeRow = RawRow<typeof changes>;

export async function all<T>(session: D1DatabaseSession | D1Database, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  const result = await session
    .prepare(text)
    .bind(...params)
    .all<T>();
  return result.results;
}

/** The 503 every read-model failure becomes: the client's request was fine, the read side is not. */
export function readModelUnavailable(detail = "the read model did not answer; retry later", retryAfter = 1) {
  return unavailable("read-model-unavailable", detail, retryAfter);
}

/** Runs a read-model call whose failure is the read side's, not the client's: logged, and answered 503. */
export async function orUnavailable<T>(what: string, call: () => Promise<T>, detail?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    log.warn("read model failed", { what, error: errorText(error) });
    throw readModelUnavailable(detail);
  }
}
