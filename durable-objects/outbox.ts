/**
 * A document object's outbox: committed events wait here until the read model has them.
 * A row is marked sent when the queue accepted it (a failed send leaves it for the next flush or the alarm, with
 * exponential backoff), and deleted once the change feed in D1 confirms its event was projected; a sent event the
 * feed still lacks after a while is sent again, so even a queue that loses messages loses no event.
 * Large states are stored in R2 first and travel by reference.
 */
import {
  type EventMessage,
  INLINE_DATA_BYTES,
  messageBytes,
  planBatches,
  stateKey,
} from "../domain/event-message";
import type { JsonObject } from "../domain/json";
import type { DocumentKey } from "../domain/keys";
import { type EventRow, eventHeader } from "./event-rows";

export type Publisher = (batch: readonly EventMessage[]) => Promise<void>;
export type StateStore = (key: string, json: string) => Promise<void>;
/** The versions of this document the change feed holds, among `versions`. */
export type ProjectedVersions = (key: DocumentKey, versions: readonly number[]) => Promise<Set<number>>;

interface PendingRow extends EventRow {
  attempts: number;
}

/** How many outbox rows one flush pass reads; a long backlog drains over several passes. */
const PASS_ROWS = 500;
const BASE_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;
/** How long a sent event may take to reach the change feed before it is sent again. */
export const CONFIRM_AFTER_MS = 30_000;
/** Resends back off: the wait doubles with each one, up to this many doublings (30 s → 16 min). */
const MAX_RESEND_DOUBLINGS = 5;

export class Outbox {
  private flushing: Promise<boolean> | null = null;
  private again = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly send: () => Publisher,
    private readonly putState: () => StateStore,
    private readonly clock: () => number,
  ) {}

  /** Rows not yet accepted by the queue, and rows accepted but not yet confirmed by the change feed. */
  pending(): { unsent: number; unconfirmed: number } {
    return this.storage.sql
      .exec<{ unsent: number; unconfirmed: number }>(
        `SELECT count(*) FILTER (WHERE sent_at IS NULL) AS unsent,
                count(*) FILTER (WHERE sent_at IS NOT NULL) AS unconfirmed FROM outbox`,
      )
      .one();
  }

  /**
   * Deletes the sent rows whose events the change feed holds, and marks for sending again those it still lacks
   * CONFIRM_AFTER_MS after their send (doubling with each resend, never giving up: an event stays until the read
   * model has it). Returns how many are to be sent again.
   */
  async confirm(key: DocumentKey, projected: ProjectedVersions, now: number): Promise<number> {
    const sent = this.storage.sql
      .exec<{ version: number; sent_at: number; resends: number }>(
        "SELECT version, sent_at, resends FROM outbox WHERE sent_at IS NOT NULL ORDER BY version LIMIT ?",
        PASS_ROWS,
      )
      .toArray();
    if (sent.length === 0) return 0;
    const found = await projected(
      key,
      sent.map((r) => r.version),
    );
    const confirmed = sent.filter((r) => found.has(r.version)).map((r) => r.version);
    const lost = sent
      .filter(
        (r) =>
          !found.has(r.version) &&
          r.sent_at <= now - CONFIRM_AFTER_MS * 2 ** Math.min(r.resends, MAX_RESEND_DOUBLINGS),
      )
      .map((r) => r.version);
    this.inChunks(confirmed, (marks) => `DELETE FROM outbox WHERE version IN (${marks})`);
    this.inChunks(
      lost,
      (marks) => `UPDATE outbox SET sent_at = NULL, resends = resends + 1 WHERE version IN (${marks})`,
    );
    if (lost.length > 0) {
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "events not in the change feed; sending again",
          document: `${key.collection}/${key.id}`,
          versions: lost.length,
        }),
      );
    }
    return lost.length;
  }

  /** Runs `statement` over `versions` in chunks within the 100-parameter limit. */
  private inChunks(versions: readonly number[], statement: (marks: string) => string): void {
    for (let i = 0; i < versions.length; i += 90) {
      const chunk = versions.slice(i, i + 90);
      this.storage.sql.exec(statement(chunk.map(() => "?").join(",")), ...chunk);
    }
  }

  /** When the alarm should retry after failures: exponential in the attempts so far, with jitter. */
  retryDelay(): number {
    const attempts =
      this.storage.sql
        .exec<{ a: number | null }>("SELECT max(attempts) AS a FROM outbox WHERE sent_at IS NULL")
        .one().a ?? 0;
    const exp = Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** Math.max(0, attempts - 1));
    return exp / 2 + Math.random() * (exp / 2);
  }

  /**
   * Sends everything pending. Concurrent callers share one flush; a call that arrives during a flush makes it
   * run once more, so events committed meanwhile are not left behind. Resolves true when the outbox drained.
   */
  /** Whether a flush is under way (one that a steady stream of writes may keep going). */
  busy(): boolean {
    return this.flushing !== null;
  }

  flush(key: DocumentKey): Promise<boolean> {
    if (this.flushing !== null) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.drain(key).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(key: DocumentKey): Promise<boolean> {
    do {
      this.again = false;
      for (;;) {
        const rows = this.storage.sql
          .exec<PendingRow>(
            `SELECT o.version, o.attempts, e.event_id, e.type, e.data, e.committed_at, e.created_at,
                    e.idempotency_key, e.tx_id
             FROM outbox o JOIN events e ON e.version = o.version WHERE o.sent_at IS NULL
             ORDER BY o.version LIMIT ?`,
            PASS_ROWS,
          )
          .toArray();
        if (rows.length === 0) break;
        if (!(await this.sendRows(key, rows))) return false;
        if (rows.length < PASS_ROWS) break;
      }
    } while (this.again);
    return true;
  }

  private async sendRows(key: DocumentKey, rows: PendingRow[]): Promise<boolean> {
    try {
      const messages = await Promise.all(rows.map((row) => this.toMessage(key, row)));
      const batches = planBatches(messages.map((m) => ({ item: m, bytes: messageBytes(m) })));
      for (const batch of batches) {
        await this.send()(batch);
        const sentAt = this.clock();
        this.inChunks(
          batch.map((m) => m.version),
          (marks) => `UPDATE outbox SET sent_at = ${sentAt} WHERE version IN (${marks})`,
        );
      }
      return true;
    } catch (error) {
      this.storage.sql.exec("UPDATE outbox SET attempts = attempts + 1 WHERE sent_at IS NULL");
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "outbox send failed; will retry",
          document: `${key.collection}/${key.id}`,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      return false;
    }
  }

  private async toMessage(key: DocumentKey, row: PendingRow): Promise<EventMessage> {
    let data: JsonObject | null = null;
    let dataRef: string | undefined;
    if (row.data !== null) {
      if (
        row.data.length * 3 > INLINE_DATA_BYTES &&
        new TextEncoder().encode(row.data).length > INLINE_DATA_BYTES
      ) {
        dataRef = stateKey(key, row.event_id);
        await this.putState()(dataRef, row.data);
      } else {
        data = JSON.parse(row.data) as JsonObject;
      }
    }
    return {
      v: 1,
      ...eventHeader(key, row),
      committedAt: row.committed_at,
      createdAt: row.created_at,
      data,
      ...(dataRef === undefined ? {} : { dataRef }),
    };
  }
}
