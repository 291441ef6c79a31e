/**
 * Performing one saga operation, exactly once: a document write and a transaction carry an Idempotency-Key
 * derived from the saga, step and phase, so a retry or replay gets the first outcome instead of applying again;
 * an HTTP call sends the same key to the service. Each outcome is classified: success, a permanent failure (the
 * operation cannot apply: a 4xx, a failed precondition, a crossed bound), or a transient one (5xx, timeout,
 * overload, a document held by a transaction), which the workflow retries with backoff.
 */
import type { WriteResult } from "../../domain/commands";
import { sha256Hex } from "../../domain/digest";
import { canonicalJson, type JsonValue } from "../../domain/json";
import { evaluatePreconditions } from "../../domain/preconditions";
import type { SagaOperation } from "../../domain/saga";
import type { TransactionOperation } from "../../domain/transaction";
import { errorText } from "../../platform/log";
import { withTimeout } from "../../platform/timeout";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { runTransaction, transactionOutcome } from "../transactions-client";

export type Performed =
  | { readonly ok: true; readonly detail: string }
  | { readonly ok: false; readonly permanent: boolean; readonly error: string };

const HTTP_TIMEOUT_MS = 10_000;
/** A transaction that aborted with nothing applied for a passing reason (a conflict) is tried again this often. */
const TRANSACTION_TRIES = 5;

const transient = (error: string): Performed => ({ ok: false, permanent: false, error });
const permanent = (error: string): Performed => ({ ok: false, permanent: true, error });

/**
 * Performs `op` in `tenant`. `keys` are the Idempotency-Keys to use, oldest first: a compensation retried in a
 * later round tries earlier rounds' keys first, so that whatever an earlier round applied is replayed, not redone
 * (an HTTP service that honours the key answers a repeated key with its first answer).
 */
export async function perform(
  env: Env,
  tenant: string,
  op: SagaOperation,
  keys: readonly string[],
): Promise<Performed> {
  try {
    if (op.kind === "http") return await http(op, keys.at(-1) ?? "");
    let last: Performed = permanent("no key");
    for (const key of keys) {
      last =
        op.kind === "document"
          ? await document(env, op.operation, key)
          : await transaction(env, tenant, op.operations, key);
      // Only a stored refusal moves on to the next round's key: anything else is this operation's outcome.
      if (last.ok || !last.permanent) return last;
    }
    return last;
  } catch (error) {
    // The call itself failed (an object unreachable, a timeout): its outcome is unknown, and a retry with the
    // same key finds it out.
    return transient(errorText(error));
  }
}

async function document(env: Env, op: TransactionOperation, idempotencyKey: string): Promise<Performed> {
  const { key } = op;
  const stub = () => documentStub(env.DOCUMENTS, key);
  const policy = { ...DEFAULT_RETRY, idempotent: true };
  if (op.body === null) {
    const read = await callDocument(stub, (s) => s.read(key), policy);
    if (read.kind === "locked") return transient(`${key.collection}/${key.id} is held by a transaction`);
    const version = read.kind === "found" ? read.version : undefined;
    return evaluatePreconditions(op.preconditions, version) === "pass"
      ? { ok: true, detail: `checked ${key.collection}/${key.id}` }
      : permanent(
          `check failed: ${key.collection}/${key.id} is ${version === undefined ? "missing" : `at version ${version}`}`,
        );
  }
  const result: WriteResult = await callDocument(
    stub,
    (s) =>
      s.write({ key, body: op.body ?? { type: "delete" }, preconditions: op.preconditions, idempotencyKey }),
    policy,
  );
  switch (result.kind) {
    case "committed":
      return { ok: true, detail: `${key.collection}/${key.id} at version ${result.version}` };
    case "locked":
      return transient(`${key.collection}/${key.id} is held by a transaction`);
    case "precondition-failed":
      return permanent(
        `${key.collection}/${key.id}: precondition failed (version ${result.currentVersion ?? "none"})`,
      );
    case "not-found":
      return permanent(`${key.collection}/${key.id} does not exist`);
    case "idempotency-key-reused":
      return permanent(`${key.collection}/${key.id}: the step's key was used for another request`);
    default:
      return permanent(`${key.collection}/${key.id}: ${result.code}: ${result.detail}`);
  }
}

async function transaction(
  env: Env,
  tenant: string,
  operations: TransactionOperation[],
  idempotencyKey: string,
): Promise<Performed> {
  const fingerprint = await sha256Hex(canonicalJson(JSON.parse(JSON.stringify(operations)) as JsonValue));
  // Each try has its own key, derived in order: a try that aborted with nothing applied for a passing reason
  // is replayed as such, and the next one is made; a try whose outcome is unknown is found out by its replay.
  for (let n = 0; n < TRANSACTION_TRIES; n++) {
    const result = await runTransaction(env, tenant, operations, fingerprint, `${idempotencyKey}-t${n}`);
    if (result.kind === "committed") return { ok: true, detail: `transaction ${result.txId}` };
    if (result.kind === "fingerprint-mismatch")
      return permanent("the step's key was used for another transaction");
    if (result.code === "transaction-aborted") return permanent(result.detail);
  }
  return transient(
    `the transaction could not run (${TRANSACTION_TRIES} tries conflicted or were interrupted)`,
  );
}

async function http(
  op: Extract<SagaOperation, { kind: "http" }>,
  idempotencyKey: string,
): Promise<Performed> {
  let response: Response;
  try {
    response = await withTimeout(
      fetch(op.url, {
        method: op.method,
        headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
        ...(op.body === undefined || op.method === "GET" ? {} : { body: JSON.stringify(op.body) }),
      }),
      HTTP_TIMEOUT_MS,
      op.url,
    );
  } catch (error) {
    return transient(`${op.method} ${op.url}: ${errorText(error)}`);
  }
  const text = await response.text().catch(() => "");
  const what = `${op.method} ${op.url} answered ${response.status}${text === "" ? "" : `: ${text.slice(0, 200)}`}`;
  const expected = op.expect === undefined ? response.ok : op.expect.includes(response.status);
  if (expected) return { ok: true, detail: `${op.method} ${op.url} answered ${response.status}` };
  if (response.status >= 500 || response.status === 408 || response.status === 429) return transient(what);
  return permanent(what);
}

/**
 * Whether `op` took effect under one of `keys`, found out without applying anything: for a step whose every
 * attempt failed for a passing reason, so its outcome is in doubt. A document says whether a write with the key
 * committed; a transaction's coordinator says commit or abort (deciding abort if it never decided); an HTTP call
 * cannot be asked, so it counts as done, and its compensation must be harmless when it did not happen.
 */
export async function tookEffect(
  env: Env,
  tenant: string,
  op: SagaOperation,
  keys: readonly string[],
): Promise<boolean> {
  if (op.kind === "http") return true;
  for (const key of keys) {
    if (op.kind === "document") {
      if (op.operation.body === null) return false;
      const k = op.operation.key;
      const applied = await callDocument(
        () => documentStub(env.DOCUMENTS, k),
        (s) => s.applied(k, key),
        { ...DEFAULT_RETRY, idempotent: true },
      );
      if (applied === "committed") return true;
    } else {
      for (let n = 0; n < TRANSACTION_TRIES; n++) {
        if ((await transactionOutcome(env, tenant, `${key}-t${n}`)) === "commit") return true;
      }
    }
  }
  return false;
}
