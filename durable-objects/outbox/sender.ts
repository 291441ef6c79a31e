/**
 * How the outbox's events leave the object: each row becomes a queue message (a large state is uploaded to R2
 * once and travels by reference), messages go in batches within the queue's limits, and every call has a
 * timeout. A failed send backs off exponentially, with jitter.
 */
import {
  type EventMessage,
  INLINE_DATA_BYTES,
  type IndexSlots,
  messageBytes,
  planBatches,
  stateKey,
} from "../../domain/event-message";
import { utf8Length } from "../../domain/json";
import type { DocumentKey } from "../../domain/keys";
import { withTimeout } from "../../platform/timeout";
import { type EventRow, eventHeader } from "../event-log";

export type Publisher = (batch: readonly EventMessage[]) => Promise<void>;
export type StateStore = (key: string, json: string) => Promise<void>;

export interface Transport {
  readonly publish: Publisher;
  readonly storeState: StateStore;
  /** A send or upload that has not answered by then counts as failed (it may still land: resending is safe). */
  readonly timeoutMs: number;
}

const BASE_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

/** Exponential backoff with jitter between failed sends: from 1 s, doubling, up to 5 minutes. */
export class Backoff {
  failures = 0;
  /** No send is tried before this time (epoch ms) unless the alarm tries; null while sends succeed. */
  retryAt: number | null = null;

  canSend(now: number): boolean {
    return this.retryAt === null || now >= this.retryAt;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAt = null;
  }

  failed(now: number, random: () => number = Math.random): void {
    this.failures += 1;
    const exp = Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** (this.failures - 1));
    this.retryAt = Math.ceil(now + exp / 2 + random() * (exp / 2));
  }
}

export class Sender {
  /** Versions whose large state is already in R2, so a retried send does not upload it again. */
  private readonly uploaded = new Set<number>();

  constructor(private readonly transport: () => Transport) {}

  /**
   * Sends the rows in order, batch by batch; `accepted` hears each batch the queue took. Throws on the first
   * batch that fails (the ones before it stay sent).
   */
  async send(
    key: DocumentKey,
    rows: readonly EventRow[],
    accepted: (versions: number[]) => void,
  ): Promise<void> {
    const transport = this.transport();
    const messages = await Promise.all(rows.map((row) => this.toMessage(key, row, transport)));
    for (const batch of planBatches(messages.map((m) => ({ item: m, bytes: messageBytes(m) })))) {
      await withTimeout(transport.publish(batch), transport.timeoutMs, "the queue");
      accepted(batch.map((m) => m.version));
    }
  }

  /** Drops what it remembers of events the change feed confirmed. */
  forget(confirmed: (version: number) => boolean): void {
    for (const v of this.uploaded) if (confirmed(v)) this.uploaded.delete(v);
  }

  private async toMessage(key: DocumentKey, row: EventRow, transport: Transport): Promise<EventMessage> {
    let data: string | null = row.data;
    let dataRef: string | undefined;
    if (row.data !== null && utf8Length(row.data, INLINE_DATA_BYTES) > INLINE_DATA_BYTES) {
      dataRef = stateKey(key, row.event_id);
      if (!this.uploaded.has(row.version)) {
        await withTimeout(transport.storeState(dataRef, row.data), transport.timeoutMs, "R2");
        this.uploaded.add(row.version);
      }
      data = null;
    }
    return {
      v: 1,
      ...eventHeader(key, row),
      committedAt: row.committed_at,
      createdAt: row.created_at,
      data,
      index: row.slots === null ? [] : (JSON.parse(row.slots) as IndexSlots),
      ...(row.ix === null ? {} : { ix: row.ix }),
      ...(row.tx_size === null ? {} : { txSize: row.tx_size }),
      ...(row.tx_before === null ? {} : { txBefore: row.tx_before }),
      ...(dataRef === undefined ? {} : { dataRef }),
    };
  }
}
