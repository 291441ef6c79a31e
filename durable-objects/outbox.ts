/**
 * A document object's outbox: committed events wait here until the events queue has accepted them.
 * A row is deleted only after its send succeeded; a failed send leaves it for the next flush or the alarm,
 * which retries with exponential backoff. Large states are stored in R2 first and travel by reference.
 */
import { type EventMessage, INLINE_DATA_BYTES, planBatches, stateKey } from "../domain/event-message";
import type { JsonObject } from "../domain/json";
import type { DocumentKey } from "../domain/keys";
import { type EventRow, eventHeader } from "./event-rows";

export type Publisher = (batch: readonly EventMessage[]) => Promise<void>;
export type StateStore = (key: string, json: string) => Promise<void>;

interface PendingRow extends EventRow {
  attempts: number;
}

/** How many outbox rows one flush pass reads; a long backlog drains over several passes. */
const PASS_ROWS = 500;
const BASE_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

export class Outbox {
  private flushing: Promise<boolean> | null = null;
  private again = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly send: () => Publisher,
    private readonly putState: () => StateStore,
  ) {}

  pending(): number {
    return this.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }

  /** When the alarm should retry after failures: exponential in the attempts so far, with jitter. */
  retryDelay(): number {
    const attempts =
      this.storage.sql.exec<{ a: number | null }>("SELECT max(attempts) AS a FROM outbox").one().a ?? 0;
    const exp = Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** Math.max(0, attempts - 1));
    return exp / 2 + Math.random() * (exp / 2);
  }

  /**
   * Sends everything pending. Concurrent callers share one flush; a call that arrives during a flush makes it
   * run once more, so events committed meanwhile are not left behind. Resolves true when the outbox drained.
   */
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
             FROM outbox o JOIN events e ON e.version = o.version ORDER BY o.version LIMIT ?`,
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
      const batches = planBatches(messages.map((m) => ({ item: m, bytes: JSON.stringify(m).length + 64 })));
      for (const batch of batches) {
        await this.send()(batch);
        const versions = batch.map((m) => m.version);
        this.storage.sql.exec(
          `DELETE FROM outbox WHERE version IN (${versions.map(() => "?").join(",")})`,
          ...versions,
        );
      }
      return true;
    } catch (error) {
      this.storage.sql.exec("UPDATE outbox SET attempts = attempts + 1");
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
        dataRef = stateKey(key, row.version);
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
