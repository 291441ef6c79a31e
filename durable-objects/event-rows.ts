/** The rows of a document object's SQLite tables, and the events they hold. */
import type { DocumentEvent, EventType } from "../domain/events";
import type { JsonObject } from "../domain/json";
import type { DocumentKey } from "../domain/keys";

export interface EventRow extends Record<string, SqlStorageValue> {
  version: number;
  event_id: string;
  type: string;
  data: string | null;
  committed_at: number;
  created_at: number;
  idempotency_key: string | null;
  tx_id: string | null;
  /** The index values computed at commit, as JSON (null: none): the projector's index slots for this state. */
  slots: string | null;
}

/** An event row's columns, in the order a SELECT names them. */
export const EVENT_COLUMNS =
  "version, event_id, type, data, committed_at, created_at, idempotency_key, tx_id, slots";

/** The fields every event shares, from its row (the object holds one document, so the key comes from outside). */
export function eventHeader(key: DocumentKey, row: EventRow) {
  return {
    eventId: row.event_id,
    tenant: key.tenant,
    collection: key.collection,
    id: key.id,
    version: row.version,
    type: row.type as EventType,
    ...(row.idempotency_key === null ? {} : { idempotencyKey: row.idempotency_key }),
    ...(row.tx_id === null ? {} : { txId: row.tx_id }),
  };
}

export function eventFromRow(key: DocumentKey, row: EventRow): DocumentEvent {
  const { type, ...base } = eventHeader(key, row);
  const committedAt = new Date(row.committed_at).toISOString();
  return type === "delete" || row.data === null
    ? { ...base, committedAt, type: "delete", data: null }
    : { ...base, committedAt, type, data: JSON.parse(row.data) as JsonObject };
}
