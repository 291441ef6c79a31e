/**
 * The per-document state machine: given the current state and a write, decide what happens.
 * Pure: no storage, no clock of its own. The Durable Object persists what this decides.
 */
import type { EventType } from "./events";
import { isObject, type JsonObject, type JsonValue, MAX_DEPTH, measureJson, utf8Length } from "./json";
import { applyJsonPatch, type PatchFailureCode, type PatchOperation } from "./patch/json-patch";
import { applyMergePatch } from "./patch/merge-patch";
import { evaluatePreconditions, type Preconditions } from "./preconditions";

/** What a document object holds. `data: null` is a tombstone: reads 404, history and version remain. */
export interface DocumentState {
  readonly version: number;
  readonly data: JsonObject | null;
  /** Epoch ms when the current incarnation was created (a PUT after a delete starts a new one). */
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type WriteOperation =
  /** The body as parsed: decide() checks that it is a document (an object, within the limits). */
  | { readonly type: "put"; readonly data: JsonValue }
  | { readonly type: "merge-patch"; readonly patch: JsonObject }
  | { readonly type: "json-patch"; readonly operations: PatchOperation[] }
  | { readonly type: "delete" };

export interface WriteIntent {
  readonly operation: WriteOperation;
  readonly preconditions: Preconditions;
  /** POST semantics: the document must not exist yet. */
  readonly createOnly?: boolean;
}

/** Outcomes a write can have besides committing; each is a client-visible status (412, 404, 409, 422). */
export type Rejection =
  | { readonly kind: "precondition-failed"; readonly currentVersion?: number }
  | { readonly kind: "not-found" }
  | {
      readonly kind: "conflict";
      readonly code: PatchFailureCode | "already-exists";
      readonly detail: string;
      readonly pointer?: string;
    }
  | {
      readonly kind: "invalid";
      readonly code: InvalidCode;
      readonly detail: string;
      readonly pointer?: string;
    };

type InvalidCode =
  | "document-not-object"
  | "document-too-large"
  | "document-too-deep"
  | "document-invalid"
  | "patch-not-object";

export type Decision =
  | {
      readonly kind: "commit";
      readonly type: EventType;
      readonly state: DocumentState;
      /** The new data as stored (JSON text), or null for a delete. */
      readonly serialized: string | null;
      readonly created: boolean;
    }
  | { readonly kind: "reject"; readonly rejection: Rejection };

export interface Limits {
  readonly maxDocumentBytes: number;
  /** The collection's own rules (schema, index types); null when the document satisfies them. */
  readonly validate?: (data: JsonObject) => { detail: string; pointer: string } | null;
}

function exists(state: DocumentState | null): state is DocumentState & { data: JsonObject } {
  return state !== null && state.data !== null;
}

/** Decides one write against the current state (null when the document never existed). */
export function decide(
  current: DocumentState | null,
  intent: WriteIntent,
  now: number,
  limits: Limits,
): Decision {
  const live = exists(current);
  const liveVersion = live ? current.version : undefined;
  if (evaluatePreconditions(intent.preconditions, liveVersion) !== "pass") {
    return reject({
      kind: "precondition-failed",
      ...(liveVersion === undefined ? {} : { currentVersion: liveVersion }),
    });
  }
  if (intent.createOnly && live) {
    return reject({
      kind: "conflict",
      code: "already-exists",
      detail: "a document with this id already exists",
    });
  }
  const version = (current?.version ?? 0) + 1;
  const { operation } = intent;

  if (operation.type === "delete") {
    if (!live) return reject({ kind: "not-found" });
    return {
      kind: "commit",
      type: "delete",
      state: { version, data: null, createdAt: current.createdAt, updatedAt: now },
      serialized: null,
      created: false,
    };
  }

  let next: unknown;
  if (operation.type === "put") {
    next = operation.data;
  } else {
    if (!live) return reject({ kind: "not-found" });
    if (operation.type === "merge-patch") {
      next = applyMergePatch(current.data, operation.patch);
    } else {
      const patched = applyJsonPatch(current.data, operation.operations, limits.maxDocumentBytes);
      if (!patched.ok && patched.code === "patch-result-too-large") {
        return reject({ kind: "invalid", code: "document-too-large", detail: patched.detail });
      }
      if (!patched.ok) {
        return reject({
          kind: "conflict",
          code: patched.code,
          detail: patched.detail,
          pointer: patched.pointer,
        });
      }
      next = patched.value;
    }
  }

  const checked = checkDocument(next, limits);
  if (!checked.ok) return reject(checked.rejection);
  return {
    kind: "commit",
    type: operation.type === "put" ? "put" : "patch",
    state: { version, data: checked.data, createdAt: live ? current.createdAt : now, updatedAt: now },
    serialized: checked.serialized,
    created: !live,
  };
}

export type DocumentCheck =
  | { ok: true; data: JsonObject; serialized: string }
  | { ok: false; rejection: Extract<Rejection, { kind: "invalid" }> };

/** The rules every stored document follows: a JSON object, at most MAX_DEPTH deep, within the size limit. */
export function checkDocument(value: unknown, limits: Limits): DocumentCheck {
  if (!isObject(value)) {
    return invalid("document-not-object", "a document must be a JSON object");
  }
  const shape = measureJson(value, MAX_DEPTH);
  if (shape.depth > MAX_DEPTH) {
    return invalid("document-too-deep", `a document may nest at most ${MAX_DEPTH} levels`);
  }
  if (!shape.finite) {
    return invalid(
      "document-invalid",
      "numbers must be finite (a literal such as 1e400 overflows to infinity)",
    );
  }
  const serialized = JSON.stringify(value);
  const bytes = utf8Length(serialized, limits.maxDocumentBytes);
  if (bytes > limits.maxDocumentBytes) {
    return invalid(
      "document-too-large",
      `the document is ${bytes} bytes; the limit is ${limits.maxDocumentBytes}`,
    );
  }
  const failure = limits.validate?.(value) ?? null;
  if (failure !== null) return invalid("document-invalid", failure.detail, failure.pointer);
  return { ok: true, data: value, serialized };
}

function invalid(code: InvalidCode, detail: string, pointer?: string): DocumentCheck {
  return {
    ok: false,
    rejection: { kind: "invalid", code, detail, ...(pointer === undefined ? {} : { pointer }) },
  };
}

function reject(rejection: Rejection): Decision {
  return { kind: "reject", rejection };
}
