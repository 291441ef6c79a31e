/**
 * A projection turns a batch of resolved events into the D1 statements that apply them, idempotently and in any
 * order. Statements are set-based: the batch travels as one JSON parameter that SQLite unpacks with `json_each`,
 * so a batch of 100 events is a few statements, not one per event (a per-event statement was most of the
 * projector's cost, in D1 and in building it). The tables are declared in drizzle (read-model/schema.ts).
 */
import type { EventMessage } from "../../../domain/event-message";
import type { EventType } from "../../../domain/events";

export interface Projection {
  readonly name: string;
  readonly handles: readonly EventType[];
  statements(db: D1Database, events: readonly EventMessage[], projectedAt: number): D1PreparedStatement[];
}

/** The state as the read model stores it: inline JSON, or the R2 reference for a large state. */
export function storedData(event: EventMessage): { data: string | null; dataRef: string | null } {
  return { data: event.data, dataRef: event.dataRef ?? null };
}

/**
 * One JSON parameter stays under this many characters: at most 1 MB in UTF-8, half of what D1 allows in one
 * value. A row is at most an inline state (64 KB) and its header, so every chunk holds at least one row.
 */
export const MAX_PARAMETER_CHARS = 330_000;

/** The rows as JSON arrays of rows, each array small enough to bind as one parameter. */
export function jsonChunks(rows: readonly unknown[][]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let chars = 0;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (current.length > 0 && chars + json.length > MAX_PARAMETER_CHARS) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      chars = 0;
    }
    current.push(json);
    chars += json.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

/** `value ->> '$[i]'` for each column: how a statement reads row i's fields out of `json_each`. */
export function columnsOf(count: number): string {
  return Array.from({ length: count }, (_, i) => `value ->> '$[${i}]'`).join(", ");
}
