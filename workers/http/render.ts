/** Turning a document object's answers into HTTP responses; the same outcome always renders the same response. */
import type { ReadResult, WriteResult } from "../../domain/commands";
import type { DocumentKey } from "../../domain/keys";
import { etagFor } from "../../domain/preconditions";
import { HttpProblem, notFound, problemResponse } from "./problem";

const UNPROCESSABLE = "Unprocessable Content";

export function documentLocation(key: DocumentKey): string {
  return `/v1/${key.collection}/${encodeURIComponent(key.id)}`;
}

function json(body: unknown, status: number, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/**
 * A write's answer: the committed document, or the problem the document's object found, thrown for the app's
 * one error handler to render. `headers` go on either (the Consistency-Token).
 */
export function renderWrite(
  key: DocumentKey,
  result: WriteResult,
  headers: Record<string, string>,
): Response {
  const extra = result.replayed ? { ...headers, "Idempotent-Replayed": "true" } : headers;
  if (result.kind !== "committed") throw problemFor(key, result, extra);
  const responseHeaders: Record<string, string> = { ETag: etagFor(result.version), ...extra };
  if (result.body === null) return new Response(null, { status: 204, headers: responseHeaders });
  if (result.created) responseHeaders.Location = documentLocation(key);
  responseHeaders["Content-Type"] = "application/json";
  return new Response(result.body, { status: result.created ? 201 : 200, headers: responseHeaders });
}

function problemFor(
  key: DocumentKey,
  result: Exclude<WriteResult, { kind: "committed" }>,
  headers: Record<string, string>,
): HttpProblem {
  const at = (pointer: string | undefined) => (pointer === undefined ? {} : { pointer });
  switch (result.kind) {
    case "malformed":
      return new HttpProblem(400, result.code, "Bad Request", result.detail, {}, headers);
    case "precondition-failed":
      return new HttpProblem(
        412,
        "precondition-failed",
        "Precondition Failed",
        result.currentVersion === undefined
          ? "the document does not exist, so the precondition cannot hold"
          : `the document is at version ${result.currentVersion}`,
        result.currentVersion === undefined ? {} : { currentVersion: result.currentVersion },
        headers,
      );
    case "not-found":
      return new HttpProblem(
        404,
        "not-found",
        "Not Found",
        `no document ${key.collection}/${key.id}`,
        {},
        headers,
      );
    case "conflict":
      return new HttpProblem(409, result.code, "Conflict", result.detail, at(result.pointer), headers);
    case "invalid":
      return new HttpProblem(422, result.code, UNPROCESSABLE, result.detail, at(result.pointer), headers);
    case "locked":
      return new HttpProblem(
        409,
        "document-locked",
        "Conflict",
        "a transaction holds this document and did not finish in time; nothing was written, retry",
        {},
        { ...headers, "Retry-After": "1" },
      );
    case "idempotency-key-reused":
      return new HttpProblem(
        422,
        "idempotency-key-reused",
        UNPROCESSABLE,
        "this Idempotency-Key was already used on this document for a different request",
        {},
        headers,
      );
  }
}

export function renderRead(key: DocumentKey, result: ReadResult, headers: Record<string, string>): Response {
  if (result.kind === "locked") {
    throw new HttpProblem(
      503,
      "document-locked",
      "Service Unavailable",
      "a transaction holds this document and did not finish in time; its state is not yet known, retry",
      {},
      { ...headers, "Retry-After": "1" },
    );
  }
  if (result.kind === "not-found") {
    const response = problemResponse(
      notFound(`no document ${key.collection}/${key.id}${result.deleted ? " (deleted)" : ""}`),
    );
    // A 404 is an answer too: it says who gave it (Read-Source) and carries the token on.
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  }
  return new Response(result.body, {
    status: 200,
    headers: { "Content-Type": "application/json", ETag: etagFor(result.version), ...headers },
  });
}

export { json as jsonResponse };
