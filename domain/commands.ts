/** The contract between the edge Worker and a document's Durable Object: what is asked, what comes back. */
import type { Rejection } from "./document";
import type { DocumentEvent } from "./events";
import type { JsonObject } from "./json";
import type { DocumentKey } from "./keys";
import type { MalformedBody, WriteRequest } from "./write-request";

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
  | { readonly kind: "idempotency-key-reused" };

/** A write's outcome plus whether it was replayed from an earlier request with the same Idempotency-Key. */
export type WriteResult = WriteOutcome & { readonly replayed: boolean };

export type ReadResult =
  | { readonly kind: "found"; readonly version: number; readonly body: string }
  | { readonly kind: "not-found"; readonly deleted: boolean };

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

/** The RPC surface of a document's Durable Object; the class implements it and callers see it promisified. */
export interface DocumentRpc {
  write(request: WriteRequest): WriteResult | Promise<WriteResult>;
  read(key: DocumentKey, version?: number): ReadResult;
  history(key: DocumentKey, query: HistoryQuery): HistoryResult;
}

export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};
