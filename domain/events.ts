/** The events a document's log holds; state-carrying, so a consumer never needs an earlier event to apply one. */
import type { JsonObject } from "./json";

interface EventBase {
  readonly eventId: string;
  readonly tenant: string;
  readonly collection: string;
  readonly id: string;
  readonly version: number;
  /** ISO 8601, the moment the write committed. */
  readonly committedAt: string;
  readonly idempotencyKey?: string;
  readonly txId?: string;
}

export type DocumentEvent =
  | (EventBase & { readonly type: "put" | "patch"; readonly data: JsonObject })
  | (EventBase & { readonly type: "delete"; readonly data: null });

export type EventType = DocumentEvent["type"];
