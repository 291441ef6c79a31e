/**
 * A write as the edge hands it to the document's object: the body still as JSON text, so that it is parsed once,
 * where it is applied, and crosses RPC as a string rather than an object graph. Pure: what a body means or why it
 * is refused, and what makes two requests "the same" for an Idempotency-Key.
 */
import type { Rejection, WriteIntent, WriteOperation } from "./document";
import { canonicalJson, isObject, type JsonValue, MAX_DEPTH, measureJson } from "./json";
import type { DocumentKey } from "./keys";
import { parseJsonPatch } from "./patch/json-patch";
import type { Preconditions } from "./preconditions";

export type WriteBody =
  | { readonly type: "put" | "merge-patch" | "json-patch"; readonly json: string }
  | { readonly type: "delete" };

export interface WriteRequest {
  readonly key: DocumentKey;
  readonly body: WriteBody;
  readonly preconditions: Preconditions;
  /** POST semantics: the document must not exist yet. */
  readonly createOnly?: boolean;
  readonly idempotencyKey?: string;
  readonly txId?: string;
}

/**
 * Why a body cannot be a write. `malformed` (400) is refused before the document's rules apply and is never
 * stored under an Idempotency-Key; `invalid` (422) is the document's own answer and is.
 */
export interface MalformedBody {
  readonly kind: "malformed";
  readonly code: "malformed-json" | "malformed-patch";
  readonly detail: string;
}
export type InvalidBody = Extract<Rejection, { kind: "invalid" }>;

export type ParsedWrite =
  | { readonly kind: "write"; readonly intent: WriteIntent; readonly parsed: JsonValue | undefined }
  | MalformedBody
  | InvalidBody;

function refuse(refusal: MalformedBody | InvalidBody): ParsedWrite {
  return refusal;
}

/** Parses a request's body into the operation it asks for, or the reason it cannot be one. */
export function parseWrite(request: WriteRequest): ParsedWrite {
  const { body } = request;
  const intent = (operation: WriteOperation, parsed: JsonValue | undefined): ParsedWrite => ({
    kind: "write",
    intent: {
      operation,
      preconditions: request.preconditions,
      ...(request.createOnly ? { createOnly: true } : {}),
    },
    parsed,
  });
  if (body.type === "delete") return intent({ type: "delete" }, undefined);

  let parsed: JsonValue;
  try {
    parsed = JSON.parse(body.json) as JsonValue;
  } catch (error) {
    const reason = error instanceof Error ? error.message : "invalid JSON";
    return refuse({
      kind: "malformed",
      code: "malformed-json",
      detail: `the request body is not valid JSON: ${reason}`,
    });
  }
  // A patch nests two levels beyond the document it changes (the array of operations and each operation).
  const maxDepth = body.type === "put" ? MAX_DEPTH : MAX_DEPTH + 2;
  if (measureJson(parsed, maxDepth).depth > maxDepth) {
    return refuse({
      kind: "invalid",
      code: "document-too-deep",
      detail: `a ${body.type === "put" ? "document" : "patch"} may nest at most ${MAX_DEPTH} levels`,
    });
  }
  switch (body.type) {
    case "put":
      // Whether it is an object, small and valid enough is the document's rule: decide() checks it.
      return intent({ type: "put", data: parsed }, parsed);
    case "merge-patch":
      if (!isObject(parsed)) {
        return refuse({
          kind: "invalid",
          code: "patch-not-object",
          detail: "a merge patch for a document must be a JSON object",
        });
      }
      return intent({ type: "merge-patch", patch: parsed }, parsed);
    case "json-patch": {
      const patch = parseJsonPatch(parsed);
      if (!patch.ok) return refuse({ kind: "malformed", code: "malformed-patch", detail: patch.detail });
      return intent({ type: "json-patch", operations: patch.operations }, parsed);
    }
  }
}

/**
 * What makes two requests with one Idempotency-Key "the same": the kind of write (which fixes method and patch
 * media type), POST's create-only rule, the preconditions and the body as canonical JSON (so key order and
 * whitespace do not matter). The target is implied: keys are scoped to their document. Hash it before storing.
 */
export function fingerprintText(request: WriteRequest, parsed: JsonValue | undefined): string {
  return [
    request.body.type,
    request.createOnly ? "create-only" : "",
    JSON.stringify(request.preconditions.ifMatch ?? null),
    JSON.stringify(request.preconditions.ifNoneMatch ?? null),
    parsed === undefined ? "" : canonicalJson(parsed),
  ].join("\n");
}
