/** The contract between the edge and a transaction's coordinator: what is asked, and how a transaction ends. */
import type { PrepareResult } from "./commands";
import type { TransactionOperation } from "./transaction";

export interface TransactionSpec {
  readonly txId: string;
  /** The coordinator's own object name (an object does not know it): participants ask it for the outcome. */
  readonly coordinator: string;
  /** What makes a retry "the same request" (a digest of the body); a different one reusing the id is refused. */
  readonly fingerprint: string;
  readonly operations: TransactionOperation[];
}

export type TransactionOutcome =
  | {
      readonly kind: "committed";
      readonly txId: string;
      /** Each operation's document and the version it wrote (null for a check). */
      readonly results: ReadonlyArray<{
        readonly index: number;
        readonly tenant: string;
        readonly collection: string;
        readonly id: string;
        readonly version: number | null;
      }>;
    }
  | {
      readonly kind: "aborted";
      /** Why: a stable code (transaction-aborted, transaction-conflict, transaction-unavailable, ...). */
      readonly code: string;
      readonly detail: string;
      /** The operation that made it abort, when one did. */
      readonly index?: number;
      /** The document's own reason, as a single write would have been refused (precondition-failed, ...). */
      readonly reason?: string;
      readonly pointer?: string;
      readonly currentVersion?: number;
    };

export type TransactionResult =
  | (TransactionOutcome & { readonly replayed: boolean })
  | { readonly kind: "fingerprint-mismatch" };

export interface TransactionRpc {
  run(spec: TransactionSpec): Promise<TransactionResult>;
  outcome(txId: string): Promise<{ kind: "commit"; size: number } | { kind: "abort" }>;
}

/** A participant's refusal as the transaction's outcome: which operation, and the document's own reason. */
export function transactionProblem(
  rejection: Extract<PrepareResult, { kind: "refused" }>["rejection"],
  index: number,
): TransactionOutcome {
  const base = { kind: "aborted" as const, code: "transaction-aborted", index };
  switch (rejection.kind) {
    case "precondition-failed":
      return {
        ...base,
        reason: "precondition-failed",
        detail:
          rejection.currentVersion === undefined
            ? `operation ${index}: the document does not exist, so its precondition cannot hold`
            : `operation ${index}: the document is at version ${rejection.currentVersion}`,
        ...(rejection.currentVersion === undefined ? {} : { currentVersion: rejection.currentVersion }),
      };
    case "not-found":
      return { ...base, reason: "not-found", detail: `operation ${index}: the document does not exist` };
    case "idempotency-key-reused":
      return { ...base, reason: rejection.kind, detail: `operation ${index}: refused` };
    case "malformed":
    case "conflict":
    case "invalid":
      return {
        ...base,
        reason: rejection.code,
        detail: `operation ${index}: ${rejection.detail}`,
        ...("pointer" in rejection && rejection.pointer !== undefined ? { pointer: rejection.pointer } : {}),
      };
  }
}
