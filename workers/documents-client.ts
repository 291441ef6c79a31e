/**
 * Calling a document's Durable Object with the failure policy the platform asks for: never retry an
 * overloaded object (503 + Retry-After), retry errors the runtime marks retryable only when the call is
 * safe to repeat, with jittered exponential backoff, a fresh stub each time, and a deadline. Every attempt
 * has a timeout too, shorter than the deadline and never past it: a call that hangs counts as a retryable
 * failure, and there is time left to try it again.
 */

import type { DocumentRpc, Remote } from "../domain/commands";
import { type DocumentKey, objectName } from "../domain/keys";
import type { DocumentObject } from "../durable-objects/DocumentObject";
import { Timeout, withTimeout } from "../platform/timeout";
import { unavailable } from "./http/problem";

/**
 * A document object's stub as its callers use it. The runtime's generated stub type cannot be computed for
 * recursive JSON types (TS2589), so it is viewed through DocumentRpc, which the class implements.
 */
export type DocumentStub = Remote<DocumentRpc>;

export interface RetryPolicy {
  /** True for reads and for writes that carry an Idempotency-Key. */
  readonly idempotent: boolean;
  /** The whole call, every attempt and wait included, ends by then. */
  readonly deadlineMs: number;
  /**
   * How long one attempt may take before it is abandoned (and, when safe, tried again); cut to what is left of
   * the deadline. Well under the deadline, so that a hung attempt leaves time for another.
   */
  readonly attemptTimeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly now: () => number;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, "idempotent"> = {
  deadlineMs: 6_000,
  attemptTimeoutMs: 2_500,
  baseDelayMs: 20,
  maxDelayMs: 500,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: Date.now,
};

interface RuntimeErrorFlags {
  retryable?: boolean;
  overloaded?: boolean;
  /** The object was reset (a deploy, a crash, ctx.abort) while the call ran: it may or may not have applied. */
  durableObjectReset?: boolean;
}

function flags(error: unknown): { retryable?: boolean; overloaded?: boolean } {
  if (typeof error !== "object" || error === null) return {};
  const f = error as RuntimeErrorFlags;
  return {
    retryable: f.retryable === true || f.durableObjectReset === true,
    overloaded: f.overloaded === true,
  };
}

export function documentStub(
  namespace: DurableObjectNamespace<DocumentObject>,
  key: DocumentKey,
): DocumentStub {
  const stub: unknown = namespace.get(namespace.idFromName(objectName(key)));
  return stub as DocumentStub;
}

/**
 * Runs `call` against a stub from `getStub`, applying the policy above. Faults that are not retryable propagate.
 * Any object's stub works the same way (a transaction's coordinator too); documents are the common case.
 */
export async function callDocument<T, S = DocumentStub>(
  getStub: () => S,
  call: (stub: S) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  const started = policy.now();
  for (let attempt = 0; ; attempt++) {
    const left = policy.deadlineMs - (policy.now() - started);
    try {
      return await withTimeout(
        call(getStub()),
        Math.max(1, Math.min(policy.attemptTimeoutMs, left)),
        "the document's object",
      );
    } catch (error) {
      const { retryable, overloaded } = error instanceof Timeout ? { retryable: true } : flags(error);
      if (overloaded) throw unavailable("overloaded", "the document is overloaded; retry later", 1);
      if (!retryable) throw error;
      if (!policy.idempotent) {
        throw unavailable(
          "outcome-unknown",
          "the document's object failed during the write, which may or may not have been applied; " +
            "retry with an Idempotency-Key to make retries safe",
          1,
        );
      }
      const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt) * policy.random();
      if (policy.now() - started + delay > policy.deadlineMs) {
        throw unavailable("unavailable", "the document's object did not answer in time; retry later", 1);
      }
      await policy.sleep(delay);
    }
  }
}
