/**
 * What travels on the events queue: one committed event, state-carrying. A state too large for a queue message
 * (or a D1 statement) travels by reference: `dataRef` names an immutable R2 object holding it.
 */
import { INDEX_SLOT_COUNT } from "./collections";
import type { EventType } from "./events";
import type { DocumentKey } from "./keys";

export type IndexSlots = ReadonlyArray<string | number | null>;

export interface EventMessage {
  readonly v: 1;
  readonly tenant: string;
  readonly collection: string;
  readonly id: string;
  readonly version: number;
  readonly type: EventType;
  readonly eventId: string;
  /** Epoch ms. */
  readonly committedAt: number;
  /** Epoch ms when this incarnation of the document was created. */
  readonly createdAt: number;
  /**
   * The new state as JSON text, passed through as the object stored it (no party parses it on the way); null for
   * a delete or when it is in R2 (`dataRef`).
   */
  readonly data: string | null;
  readonly dataRef?: string;
  /** The state's index slot values (k0..k3), computed at commit; empty when none is set. */
  readonly index: IndexSlots;
  /**
   * The collection's index signature (domain/collections.ts) the values were computed under; absent on events
   * committed before signatures existed. The projector recomputes the values when it differs from its own.
   */
  readonly ix?: string;
  readonly idempotencyKey?: string;
  readonly txId?: string;
  /** For a transaction's write: how many documents it wrote; the projector shows them all at once. */
  readonly txSize?: number;
  /**
   * The newest earlier transaction write of this document that the change feed may not hold yet: this event
   * waits in the projector until the feed has that version (its state carries that transaction's effect).
   */
  readonly txBefore?: number;
}

/** States above this size travel through R2: a queue message holds 128 KB and a D1 statement 100 KB. */
export const INLINE_DATA_BYTES = 64 * 1024;
/** sendBatch's limits are 100 messages and 256 KB; stay clear of the byte limit for envelope overhead. */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 200 * 1024;

/**
 * The immutable R2 key of the state an event carries. Named by the event's id, not the document's: an id may be
 * 512 UTF-8 bytes (1,536 characters percent-encoded), over R2's 1,024-byte key limit.
 */
export function stateKey(key: Pick<DocumentKey, "tenant" | "collection">, eventId: string): string {
  return `states/${key.tenant}/${key.collection}/${eventId}.json`;
}

/** A message's size as the queue counts it: UTF-8 bytes of its JSON, plus room for the envelope. */
export function messageBytes(message: unknown): number {
  return new TextEncoder().encode(JSON.stringify(message)).length + 64;
}

export function isEventMessage(value: unknown): value is EventMessage {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    m.v === 1 &&
    typeof m.tenant === "string" &&
    typeof m.collection === "string" &&
    typeof m.id === "string" &&
    Number.isSafeInteger(m.version) &&
    (m.type === "put" || m.type === "patch" || m.type === "delete") &&
    typeof m.eventId === "string" &&
    Number.isFinite(m.committedAt) &&
    Number.isFinite(m.createdAt) &&
    (m.idempotencyKey === undefined || typeof m.idempotencyKey === "string") &&
    (m.txId === undefined || typeof m.txId === "string") &&
    (m.txSize === undefined || (Number.isSafeInteger(m.txSize) && (m.txSize as number) >= 1)) &&
    (m.txBefore === undefined || (Number.isSafeInteger(m.txBefore) && (m.txBefore as number) >= 1)) &&
    (m.ix === undefined || typeof m.ix === "string") &&
    (m.data === null || typeof m.data === "string") &&
    (m.dataRef === undefined || typeof m.dataRef === "string") &&
    Array.isArray(m.index) &&
    m.index.length <= INDEX_SLOT_COUNT &&
    m.index.every((s) => s === null || typeof s === "string" || typeof s === "number")
  );
}

/** Splits messages (with their encoded sizes) into sendBatch calls within the platform's limits, in order. */
export function planBatches<T>(items: ReadonlyArray<{ item: T; bytes: number }>): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const { item, bytes: size } of items) {
    if (current.length > 0 && (current.length >= MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * A pipeline probe: sent through the events queue by the pipeline monitor and recorded by the projector on
 * arrival, so that the time it took measures how far behind the read side is, with or without writes.
 */
export interface ProbeMessage {
  readonly probe: string;
  /** Epoch ms. */
  readonly sentAt: number;
}

export function isProbeMessage(value: unknown): value is ProbeMessage {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.probe === "string" && m.probe.length <= 64 && Number.isFinite(m.sentAt);
}
