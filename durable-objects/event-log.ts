/**
 * A document object's event log in SQLite: one row per committed version, holding the state, both timestamps and
 * the index values. The newest row is the current document; the rows above the confirmed mark are the outbox.
 */
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
  /** The collection's index signature the slots were computed under (null on events from before signatures). */
  ix: string | null;
  /** For a transaction's write: how many documents the transaction wrote (null for a single write). */
  tx_size: number | null;
  /**
   * The newest earlier write of a transaction over several documents that the change feed was not known to hold
   * when this event committed (null: none). The projector holds this event until the feed has that one.
   */
  tx_before: number | null;
}

/** An event row's columns, in the order a SELECT names them. */
const EVENT_COLUMNS =
  "version, event_id, type, data, committed_at, created_at, idempotency_key, tx_id, slots, ix, tx_size, tx_before";

/** What an object loads when it starts: its key, the outbox's marks, and the newest event (null before any). */
export interface LoadedHead {
  readonly key: DocumentKey;
  readonly confirmedThrough: number;
  readonly holes: readonly number[];
  /** Whether the object holds idempotency records (most hold none, and need not look for expired ones). */
  readonly hasKeys: boolean;
  /** The newest event's version, state and timestamps: the current document (null before any event). */
  readonly newest: {
    readonly version: number;
    readonly data: string | null;
    readonly createdAt: number;
    readonly committedAt: number;
  } | null;
}

interface HeadRow extends Record<string, SqlStorageValue> {
  tenant: string;
  collection: string;
  id: string;
  confirmed_through: number;
  has_holes: number;
  has_keys: number;
  version: number | null;
  data: string | null;
  created_at: number | null;
  committed_at: number | null;
}

export class EventLog {
  constructor(private readonly sql: SqlStorage) {}

  /** Stores a new event; one INSERT, so a write with nothing else to store is a single statement. */
  append(row: EventRow): void {
    this.sql.exec(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.version,
      row.event_id,
      row.type,
      row.data,
      row.committed_at,
      row.created_at,
      row.idempotency_key,
      row.tx_id,
      row.slots,
      row.ix,
      row.tx_size,
      row.tx_before,
    );
  }

  /** Records the document's key, once: the object learns its name from its first write. */
  storeKey(key: DocumentKey): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO meta (singleton, tenant, collection, id) VALUES (1, ?, ?, ?)",
      key.tenant,
      key.collection,
      key.id,
    );
  }

  at(version: number): EventRow | undefined {
    return this.sql
      .exec<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE version = ?`, version)
      .toArray()[0];
  }

  /**
   * Events above `after`, in version order: at most `limit`, and at most `maxChars` characters of state (but at
   * least one). `more` says whether the log holds further events.
   */
  page(after: number, limit: number, maxChars: number): { rows: EventRow[]; more: boolean } {
    const cursor = this.sql.exec<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE version > ? ORDER BY version LIMIT ?`,
      after,
      limit + 1,
    );
    const rows: EventRow[] = [];
    let chars = 0;
    for (const row of cursor) {
      // Characters, not bytes: a page may reach 3× this in UTF-8 for non-ASCII states, still far below RPC limits.
      const size = row.data?.length ?? 0;
      if (rows.length === limit || (rows.length > 0 && chars + size > maxChars)) return { rows, more: true };
      chars += size;
      rows.push(row);
    }
    return { rows, more: false };
  }

  /** The newest event written by a transaction over several documents (0: none). */
  lastTransactionWrite(): number {
    return (
      this.sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM events WHERE tx_size > 1").one().v ??
      0
    );
  }

  /** The version the transaction `txId` wrote here, if it did. */
  versionOf(txId: string): number | null {
    return (
      this.sql.exec<{ version: number }>("SELECT version FROM events WHERE tx_id = ?", txId).toArray()[0]
        ?.version ?? null
    );
  }

  /** These versions' events, in version order (at most ~90: one bound parameter each). */
  versions(list: readonly number[]): EventRow[] {
    if (list.length === 0) return [];
    return this.sql
      .exec<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE version IN (${list.map(() => "?").join(",")}) ORDER BY version`,
        ...list,
      )
      .toArray();
  }

  /** Loads the object's head in one query (holes only when there are any). Undefined before the first write. */
  loadHead(): LoadedHead | undefined {
    const row = this.sql
      .exec<HeadRow>(
        `SELECT m.tenant, m.collection, m.id, m.confirmed_through, EXISTS (SELECT 1 FROM holes) AS has_holes,
           EXISTS (SELECT 1 FROM idempotency) AS has_keys, e.version, e.data, e.created_at, e.committed_at
         FROM meta m LEFT JOIN events e ON e.version = (SELECT max(version) FROM events)`,
      )
      .toArray()[0];
    if (row === undefined) return undefined;
    const holes =
      row.has_holes === 1
        ? this.sql
            .exec<{ version: number }>("SELECT version FROM holes ORDER BY version")
            .toArray()
            .map((r) => r.version)
        : [];
    return {
      key: { tenant: row.tenant, collection: row.collection, id: row.id },
      confirmedThrough: row.confirmed_through,
      holes,
      hasKeys: row.has_keys === 1,
      newest:
        row.version === null || row.created_at === null || row.committed_at === null
          ? null
          : {
              version: row.version,
              data: row.data,
              createdAt: row.created_at,
              committedAt: row.committed_at,
            },
    };
  }
}

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
