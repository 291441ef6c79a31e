/**
 * Where a read is served from: the policy between the read model and the document's object. The read model
 * answers when it is at least as new as the client's token requires; otherwise, or when D1 fails, is slow, or
 * the breaker is open, the object answers. D1 sessions start from the client's bookmark (monotonic reads on
 * replicas).
 */
import type { ReadResult } from "../../domain/commands";
import { type ConsistencyToken, requirement } from "../../domain/consistency-token";
import type { DocumentKey } from "../../domain/keys";
import { dbFor } from "../../platform/databases";
import { errorText, log } from "../../platform/log";
import { withTimeout } from "../../platform/timeout";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { CircuitBreaker } from "./breaker";
import type { DocumentRow } from "./d1";
import { readModelUnavailable } from "./d1";
import { readDocument } from "./queries";
import { toEnvelopeJson } from "./states";

/** One breaker per isolate for the read model: a dead D1 costs single reads one fallback, not a timeout each. */
export const readModelBreaker = new CircuitBreaker();
/** How long a read-model call may take before the read falls back (single reads) or fails (queries). */
export const READ_MODEL_TIMEOUT_MS = 1_500;

export interface ReadAnswer {
  readonly result: ReadResult;
  readonly source: "primary" | "read-model";
  /** The D1 session's bookmark after the read, for the client's token. */
  readonly bookmark?: string | null;
}

/** A strong read, or a read of an old version: the document's object answers. */
export async function readPrimary(env: Env, key: DocumentKey, version?: number): Promise<ReadAnswer> {
  const result = await callDocument(
    () => documentStub(env.DOCUMENTS, key),
    (stub) => stub.read(key, version),
    { ...DEFAULT_RETRY, idempotent: true },
  );
  return { result, source: "primary" };
}

/**
 * A read at the default level: from the read model when it is at least as new as the token requires, else (or
 * when the read model cannot answer) from the object.
 */
export async function readPreferringModel(
  env: Env,
  key: DocumentKey,
  token: ConsistencyToken | undefined,
): Promise<ReadAnswer> {
  const required = token === undefined ? 0 : requirement(token, key);
  if (required === "primary" || !readModelBreaker.allow()) return readPrimary(env, key);
  let found: { value: DocumentRow | null; session: D1DatabaseSession };
  try {
    const db = await dbFor(env, key.tenant);
    found = await onReadModel(db, token?.bookmark, (session) => readDocument(session, key));
  } catch (error) {
    logFailure(error);
    return readPrimary(env, key);
  }
  const row = found.value;
  if ((row?.version ?? 0) < required) return readPrimary(env, key);
  const bookmark = found.session.getBookmark();
  if (row === null) return { result: { kind: "not-found", deleted: false }, source: "read-model", bookmark };
  if (row.deleted === 1)
    return { result: { kind: "not-found", deleted: true }, source: "read-model", bookmark };
  let body: string;
  try {
    body = await toEnvelopeJson(env.ARCHIVE, row);
  } catch (error) {
    // A large state missing from R2 is this row's problem, not D1's: the object has it.
    logFailure(error);
    return readPrimary(env, key);
  }
  return { result: { kind: "found", version: row.version, body }, source: "read-model", bookmark };
}

/**
 * A query on the read model, which has no fallback: through the breaker (503 while it is open), with a timeout,
 * in a session from the client's bookmark. A failure is 503 with Retry-After.
 */
export async function queryReadModel<T>(
  db: D1Database,
  bookmark: string | undefined,
  run: (session: D1DatabaseSession) => Promise<T>,
): Promise<T> {
  if (!readModelBreaker.allow()) {
    throw readModelUnavailable("the read model is unavailable", readModelBreaker.retryAfterSeconds());
  }
  try {
    return (await onReadModel(db, bookmark, run)).value;
  } catch (error) {
    logFailure(error);
    throw readModelUnavailable();
  }
}

/**
 * Runs a read on the read model with a timeout, in a D1 session that starts from the client's bookmark. A
 * bookmark D1 refuses is dropped and the read tried once more without it: only failures of D1 itself count
 * against the breaker, so no client can open it for everyone. The caller checked allow().
 */
async function onReadModel<T>(
  db: D1Database,
  bookmark: string | undefined,
  run: (session: D1DatabaseSession) => Promise<T>,
): Promise<{ value: T; session: D1DatabaseSession }> {
  const attempt = async (from: string) => {
    const session = db.withSession(from);
    return { value: await withTimeout(run(session), READ_MODEL_TIMEOUT_MS, "the read model"), session };
  };
  try {
    let result: { value: T; session: D1DatabaseSession };
    try {
      result = await attempt(bookmark ?? "first-unconstrained");
    } catch (error) {
      if (bookmark === undefined) throw error;
      result = await attempt("first-unconstrained");
    }
    readModelBreaker.success();
    return result;
  } catch (error) {
    readModelBreaker.failure();
    throw error;
  }
}

function logFailure(error: unknown): void {
  log.warn("read model failed", { error: errorText(error) });
}
