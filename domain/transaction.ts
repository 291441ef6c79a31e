/**
 * Multi-document transactions, the pure part: what a request may ask (1 to 100 operations on distinct documents
 * of one tenant), each operation as the write its participant will decide, and the canonical order in which
 * participants are prepared (so that two transactions over the same documents cannot deadlock).
 */
import { checkId, checkName, type DocumentKey, objectName } from "./keys";
import type { Preconditions } from "./preconditions";
import type { WriteBody } from "./write-request";

export const MAX_TRANSACTION_OPERATIONS = 100;

/** What one operation asks of its document: a write (put, patch, delete) or a check that writes nothing. */
export interface TransactionOperation {
  /** Its place in the request, which problems name. */
  readonly index: number;
  readonly key: DocumentKey;
  /** null for a check. */
  readonly body: WriteBody | null;
  readonly preconditions: Preconditions;
}

export type TransactionParse =
  | { readonly ok: true; readonly operations: TransactionOperation[] }
  | { readonly ok: false; readonly detail: string; readonly index?: number };

const OPS = ["put", "patch", "delete", "check"] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const refuse = (detail: string, index?: number): TransactionParse => ({
  ok: false,
  detail,
  ...(index === undefined ? {} : { index }),
});

/** `"ifMatch": <version>` or `"exists": true|false`, as the document's write rules read preconditions. */
function preconditionsOf(op: Record<string, unknown>): Preconditions | string {
  const { ifMatch, exists } = op;
  if (ifMatch !== undefined && exists !== undefined) return "give ifMatch or exists, not both";
  if (ifMatch !== undefined) {
    if (!Number.isSafeInteger(ifMatch) || (ifMatch as number) < 1)
      return "ifMatch must be a version (an integer from 1)";
    return { ifMatch: [{ weak: false, opaque: String(ifMatch) }] };
  }
  if (exists === true) return { ifMatch: "*" };
  if (exists === false) return { ifNoneMatch: "*" };
  if (exists !== undefined) return "exists must be true or false";
  return {};
}

const ALLOWED_FIELDS: Record<(typeof OPS)[number], readonly string[]> = {
  put: ["op", "collection", "id", "data", "ifMatch", "exists"],
  patch: ["op", "collection", "id", "merge", "patch", "ifMatch", "exists"],
  delete: ["op", "collection", "id", "ifMatch", "exists"],
  check: ["op", "collection", "id", "ifMatch", "exists"],
};

/**
 * Parses a transaction request's body (already JSON) for `tenant`. Checks the shape only: whether each write can
 * apply is its document's decision, at prepare.
 */
export function parseTransaction(tenant: string, body: unknown): TransactionParse {
  if (!isRecord(body) || !Array.isArray(body.operations)) {
    return refuse('the body must be an object with an "operations" array');
  }
  const extra = Object.keys(body).filter((k) => k !== "operations");
  if (extra.length > 0) return refuse(`unknown field "${extra[0]}"`);
  const list: unknown[] = body.operations;
  if (list.length < 1 || list.length > MAX_TRANSACTION_OPERATIONS) {
    return refuse(`a transaction has 1 to ${MAX_TRANSACTION_OPERATIONS} operations`);
  }
  const operations: TransactionOperation[] = [];
  const seen = new Set<string>();
  for (const [index, op] of list.entries()) {
    if (!isRecord(op)) return refuse("an operation must be an object", index);
    const kind = op.op;
    if (typeof kind !== "string" || !(OPS as readonly string[]).includes(kind)) {
      return refuse(`op must be one of ${OPS.join(", ")}`, index);
    }
    const allowed = ALLOWED_FIELDS[kind as (typeof OPS)[number]];
    const unknown = Object.keys(op).find((k) => !allowed.includes(k));
    if (unknown !== undefined) return refuse(`a ${kind} takes no field "${unknown}"`, index);
    const { collection, id } = op;
    if (typeof collection !== "string" || !checkName("collection", collection).ok) {
      return refuse("collection must be a collection name", index);
    }
    if (typeof id !== "string") return refuse("id must be a string", index);
    const idCheck = checkId(id);
    if (!idCheck.ok) return refuse(idCheck.reason, index);
    const key: DocumentKey = { tenant, collection, id };
    const name = objectName(key);
    if (seen.has(name)) return refuse(`${collection}/${id} appears twice; each document once`, index);
    seen.add(name);
    const preconditions = preconditionsOf(op);
    if (typeof preconditions === "string") return refuse(preconditions, index);
    let body: WriteBody | null;
    if (kind === "put") {
      if (op.data === undefined) return refuse("a put needs data", index);
      body = { type: "put", json: JSON.stringify(op.data) };
    } else if (kind === "patch") {
      if ((op.merge === undefined) === (op.patch === undefined)) {
        return refuse("a patch needs exactly one of merge (JSON Merge Patch) or patch (JSON Patch)", index);
      }
      body =
        op.merge !== undefined
          ? { type: "merge-patch", json: JSON.stringify(op.merge) }
          : { type: "json-patch", json: JSON.stringify(op.patch) };
    } else if (kind === "delete") {
      body = { type: "delete" };
    } else {
      body = null;
    }
    operations.push({ index, key, body, preconditions });
  }
  return { ok: true, operations };
}

/**
 * The order participants are prepared in: by object name, the same for every transaction, so that two
 * transactions that share documents lock them in the same order and one waits for the other instead of each
 * holding what the other needs.
 */
export function canonicalOrder<T extends { readonly key: DocumentKey }>(operations: readonly T[]): T[] {
  return [...operations].sort((a, b) => {
    const x = objectName(a.key);
    const y = objectName(b.key);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
