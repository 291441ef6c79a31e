/**
 * Sagas, the pure part: what a saga is (steps in order, each an action and an optional compensation), what an
 * operation may be (a document operation, a whole transaction, or an HTTP call to an allowed service), and how a
 * saga's record (its status and each step's outcome) changes. The orchestration runs on Cloudflare Workflows
 * (workers/sagas/workflow.ts); this module decides nothing that needs I/O.
 */
import { checkName, type DocumentKey } from "./keys";
import { parseTransaction, type TransactionOperation } from "./transaction";

export const MAX_SAGA_STEPS = 50;
/** How many times a step's action is tried, in all, before its failure counts as permanent (the default). */
export const DEFAULT_ACTION_ATTEMPTS = 4;
/** How many times a compensation is tried in one round before the saga is `failed` and waits to be resumed. */
export const COMPENSATION_ATTEMPTS = 6;

export type SagaOperation =
  | { readonly kind: "document"; readonly operation: TransactionOperation }
  | { readonly kind: "transaction"; readonly operations: TransactionOperation[] }
  | {
      readonly kind: "http";
      readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
      readonly url: string;
      readonly body?: unknown;
      /** Statuses that count as success; 2xx when absent. */
      readonly expect?: readonly number[];
    };

export interface SagaStep {
  readonly name: string;
  readonly action: SagaOperation;
  readonly compensation: SagaOperation | null;
  /** Tries of the action before a transient failure counts as permanent. */
  readonly attempts: number;
}

export type SagaStatus = "running" | "completed" | "compensating" | "compensated" | "failed" | "cancelled";
export const SAGA_STATUSES: readonly SagaStatus[] = [
  "running",
  "completed",
  "compensating",
  "compensated",
  "failed",
  "cancelled",
];

export type PhaseStatus = "pending" | "running" | "done" | "failed" | "skipped";

export interface PhaseRecord {
  status: PhaseStatus;
  attempts: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A saga as its record document (`_sagas/{id}`) holds it; each change is a new version, and a change-feed entry. */
export interface SagaRecord {
  name: string;
  status: SagaStatus;
  steps: Array<{ name: string; action: PhaseRecord; compensation: PhaseRecord | null }>;
  /** Why the saga compensated, failed or was cancelled. */
  reason: string | null;
  cancelRequested: boolean;
  /** A digest of the request that started it: a retry with the same Idempotency-Key must match it. */
  request: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** The record collection: reserved (a leading `_`), so no client can write it through the document API. */
export const SAGA_COLLECTION = "_sagas";

export type SagaParse =
  | { readonly ok: true; readonly steps: SagaStep[] }
  | { readonly ok: false; readonly detail: string; readonly step?: number };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** Whether `url` is an http(s) URL whose origin is one of `allowed`. */
export function allowedUrl(url: string, allowed: readonly string[]): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "https:" || parsed.protocol === "http:") && allowed.includes(parsed.origin);
  } catch {
    return false;
  }
}

/** One operation of a step, for `tenant`: a document operation, `{"op": "transaction", ...}` or `{"op": "http", ...}`. */
function parseOperation(
  tenant: string,
  value: unknown,
  allowedOrigins: readonly string[],
): { ok: true; operation: SagaOperation } | { ok: false; detail: string } {
  if (!isRecord(value)) return { ok: false, detail: "an operation must be an object" };
  if (value.op === "transaction") {
    const parsed = parseTransaction(tenant, { operations: value.operations });
    if (!parsed.ok) {
      return {
        ok: false,
        detail: `transaction${parsed.index === undefined ? "" : ` operation ${parsed.index}`}: ${parsed.detail}`,
      };
    }
    return { ok: true, operation: { kind: "transaction", operations: parsed.operations } };
  }
  if (value.op === "http") {
    const { method, url, body, expect, ...rest } = value;
    const extra = Object.keys(rest).filter((k) => k !== "op");
    if (extra.length > 0) return { ok: false, detail: `an http call takes no field "${extra[0]}"` };
    if (typeof method !== "string" || !(HTTP_METHODS as readonly string[]).includes(method)) {
      return { ok: false, detail: `method must be one of ${HTTP_METHODS.join(", ")}` };
    }
    if (typeof url !== "string" || !allowedUrl(url, allowedOrigins)) {
      return {
        ok: false,
        detail: "url must be an http(s) URL on the deployment's allow-list (SAGA_HTTP_ORIGINS)",
      };
    }
    if (
      expect !== undefined &&
      (!Array.isArray(expect) ||
        expect.length === 0 ||
        !expect.every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599))
    ) {
      return { ok: false, detail: "expect must be a list of HTTP statuses" };
    }
    return {
      ok: true,
      operation: {
        kind: "http",
        method: method as (typeof HTTP_METHODS)[number],
        url,
        ...(body === undefined ? {} : { body }),
        ...(expect === undefined ? {} : { expect: expect as number[] }),
      },
    };
  }
  const parsed = parseTransaction(tenant, { operations: [value] });
  if (!parsed.ok) return { ok: false, detail: parsed.detail };
  const [operation] = parsed.operations;
  if (operation === undefined) return { ok: false, detail: "an operation is needed" };
  return { ok: true, operation: { kind: "document", operation } };
}

/** Parses `{"steps": [...]}` for `tenant`; HTTP calls must go to `allowedOrigins`. */
export function parseSaga(tenant: string, body: unknown, allowedOrigins: readonly string[]): SagaParse {
  if (!isRecord(body) || !Array.isArray(body.steps))
    return { ok: false, detail: 'the body must be {"steps": [...]}' };
  const extra = Object.keys(body).filter((k) => k !== "steps");
  if (extra.length > 0) return { ok: false, detail: `unknown field "${extra[0]}"` };
  const list: unknown[] = body.steps;
  if (list.length < 1 || list.length > MAX_SAGA_STEPS) {
    return { ok: false, detail: `a saga has 1 to ${MAX_SAGA_STEPS} steps` };
  }
  const steps: SagaStep[] = [];
  const names = new Set<string>();
  for (const [index, step] of list.entries()) {
    const fail = (detail: string): SagaParse => ({ ok: false, detail, step: index });
    if (!isRecord(step)) return fail("a step must be an object");
    const unknown = Object.keys(step).find(
      (k) => !["name", "action", "compensation", "attempts"].includes(k),
    );
    if (unknown !== undefined) return fail(`a step takes no field "${unknown}"`);
    if (typeof step.name !== "string" || !checkName("collection", step.name).ok) {
      return fail("name must be a lower-case name (a-z, 0-9, _ and -, up to 63)");
    }
    if (names.has(step.name)) return fail(`two steps are named ${step.name}`);
    names.add(step.name);
    const action = parseOperation(tenant, step.action, allowedOrigins);
    if (!action.ok) return fail(`action: ${action.detail}`);
    let compensation: SagaOperation | null = null;
    if (step.compensation !== undefined && step.compensation !== null) {
      const parsed = parseOperation(tenant, step.compensation, allowedOrigins);
      if (!parsed.ok) return fail(`compensation: ${parsed.detail}`);
      compensation = parsed.operation;
    }
    const attempts = step.attempts ?? DEFAULT_ACTION_ATTEMPTS;
    if (!Number.isInteger(attempts) || (attempts as number) < 1 || (attempts as number) > 20) {
      return fail("attempts must be an integer from 1 to 20");
    }
    steps.push({ name: step.name, action: action.operation, compensation, attempts: attempts as number });
  }
  return { ok: true, steps };
}

/** Every document a saga's steps may touch: for checking the creator may use their collections. */
export function documentsOf(steps: readonly SagaStep[]): DocumentKey[] {
  const keys: DocumentKey[] = [];
  for (const step of steps) {
    for (const op of [step.action, step.compensation]) {
      if (op?.kind === "document") keys.push(op.operation.key);
      if (op?.kind === "transaction") keys.push(...op.operations.map((o) => o.key));
    }
  }
  return keys;
}

/**
 * The Idempotency-Key of one phase of one step: the same on every retry and replay, so its effect happens
 * once. A compensation retried in a later round (after a resume) tries the earlier rounds' keys first.
 */
export function phaseKey(sagaId: string, step: number, phase: "action" | "compensation", round = 0): string {
  return `saga-${sagaId}-${step}-${phase}${round === 0 ? "" : `-r${round}`}`;
}

const pending = (): PhaseRecord => ({
  status: "pending",
  attempts: 0,
  error: null,
  startedAt: null,
  finishedAt: null,
});

/** A saga's record when it starts. */
export function initialRecord(
  name: string,
  steps: readonly SagaStep[],
  now: string,
  request: string,
): SagaRecord {
  return {
    request,
    name,
    status: "running",
    steps: steps.map((s) => ({
      name: s.name,
      action: pending(),
      compensation: s.compensation === null ? null : pending(),
    })),
    reason: null,
    cancelRequested: false,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
}
