/** The contract between the edge Worker and a document's Durable Object: what is asked, what comes back. */
import type { Rejection } from "./document";
import type { DocumentEvent } from "./events";
import type { JsonObject } from "./json";
import type { DocumentKey } from "./keys";
import type { Preconditions } from "./preconditions";
import type { MalformedBody, WriteBody, WriteRequest } from "./write-request";

/** What every successful read or write returns. */
export interface Envelope {
  readonly collection: string;
  readonly id: string;
  readonly version: number;
  readonly data: JsonObject;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type WriteOutcome =
  | {
      readonly kind: "committed";
      readonly version: number;
      readonly created: boolean;
      /** The envelope as JSON text (see envelopeJson), or null for a delete. */
      readonly body: string | null;
    }
  | Rejection
  | MalformedBody
  | { readonly kind: "idempotency-key-reused" }
  /** A transaction holds the document and did not finish in time; nothing was written. */
  | { readonly kind: "locked" };

/** A write's outcome plus whether it was replayed from an earlier request with the same Idempotency-Key. */
export type WriteResult = WriteOutcome & { readonly replayed: boolean };

export type ReadResult =
  | { readonly kind: "found"; readonly version: number; readonly body: string }
  | { readonly kind: "not-found"; readonly deleted: boolean }
  /** A transaction holds the document and did not finish in time: its state is not yet known. */
  | { readonly kind: "locked" };

export interface HistoryQuery {
  readonly after: number;
  readonly limit: number;
}

export type HistoryResult =
  | { readonly kind: "found"; readonly events: DocumentEvent[]; readonly next: number | null }
  | { readonly kind: "not-found" };

/**
 * The Envelope as JSON text, built around the document's stored JSON without parsing or re-serializing it: reads
 * and write responses pass this string through, which is cheaper across RPC than an object and saves a stringify.
 */
export function envelopeJson(
  key: Pick<DocumentKey, "collection" | "id">,
  version: number,
  dataJson: string,
  createdAt: number,
  updatedAt: number,
): string {
  const created = new Date(createdAt).toISOString();
  const updated = new Date(updatedAt).toISOString();
  return `{"collection":${JSON.stringify(key.collection)},"id":${JSON.stringify(key.id)},"version":${version},"data":${dataJson},"createdAt":"${created}","updatedAt":"${updated}"}`;
}

/** A transaction's first phase at one participant: decide its operation and hold the document until the outcome. */
export interface PrepareRequest {
  readonly txId: string;
  /** The coordinator's object name, which a participant whose lease ran out asks for the outcome. */
  readonly coordinator: string;
  readonly key: DocumentKey;
  /** The write to decide; null for a check, which only asserts its preconditions. */
  readonly body: WriteBody | null;
  readonly preconditions: Preconditions;
}

export type PrepareResult =
  /** Decided and held; `version` is what the commit will write (null for a check). */
  | { readonly kind: "prepared"; readonly version: number | null }
  /** The operation cannot apply: the document's own answer, as a single write would get it. */
  | { readonly kind: "refused"; readonly rejection: Exclude<WriteOutcome, { kind: "committed" | "locked" }> }
  /** Another transaction holds the document and did not finish in time. */
  | { readonly kind: "locked" }
  /** This transaction already ended here (a late, duplicate prepare): nothing was done. */
  | { readonly kind: "finished" };

export type FinishResult =
  | { readonly kind: "committed"; readonly version: number | null }
  | { readonly kind: "aborted" }
  /** Nothing prepared for this transaction here, and no record of it. */
  | { readonly kind: "unknown" };

/** The RPC surface of a document's Durable Object; the class implements it and callers see it promisified. */
export interface DocumentRpc {
  write(request: WriteRequest): WriteResult | Promise<WriteResult>;
  read(key: DocumentKey, version?: number): ReadResult | Promise<ReadResult>;
  history(key: DocumentKey, query: HistoryQuery): HistoryResult;
  prepare(request: PrepareRequest): PrepareResult | Promise<PrepareResult>;
  /** Applies the prepared write of `txId` (idempotent); `size` is the number of writing participants. */
  commitPrepared(key: DocumentKey, txId: string, size: number): FinishResult;
  /** Releases the document held by `txId` without writing (idempotent). */
  abortPrepared(key: DocumentKey, txId: string): FinishResult;
  /** Whether a write with this Idempotency-Key committed here (nothing is written to find out). */
  applied(key: DocumentKey, idempotencyKey: string): "committed" | "refused" | "unknown";
}

export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};
