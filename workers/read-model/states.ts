/**
 * A read-model row's state: inline in D1, or in R2 by reference for a large one. States travel as JSON text and
 * are spliced into responses as stored, never parsed and serialized again.
 */
import { envelopeJson } from "../../domain/commands";
import type { DocumentRow } from "./d1";

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

/** The most characters of state one page of a query, the change feed or the dead letters carries. */
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
