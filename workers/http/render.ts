/** Turning a document object's answers into HTTP responses; the same outcome always renders the same response. */
import type { ReadResult, WriteResult } from "../../domain/commands";
import type { DocumentKey } from "../../domain/keys";
import { etagFor } from "../../domain/preconditions";
import { HttpProblem, notFound, problemResponse, unprocessable } from "./problem";

export function documentLocation(key: DocumentKey): string {
  return `/v1/${key.collection}/${encodeURIComponent(key.id)}`;
}

function json(body: unknown, status: number, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function renderWrite(key: DocumentKey, result: WriteResult): Response {
  const response = renderOutcome(key, result);
  if (result.replayed) response.headers.set("Idempotent-Replayed", "true");
  return response;
}

function renderOutcome(key: DocumentKey, result: WriteResult): Response {
  switch (result.kind) {
    case "committed": {
      const headers: Record<string, string> = { ETag: etagFor(result.version) };
      if (result.body === null) return new Response(null, { status: 204, headers });
      if (result.created) headers.Location = documentLocation(key);
      return new Response(result.body, {
        status: result.created ? 201 : 200,
        headers: { "Content-Type": "application/json", ...headers },
      });
    }
    case "precondition-failed":
      return problemResponse(
        new HttpProblem(
          412,
          "precondition-failed",
          "Precondition Failed",
          result.currentVersion === undefined
            ? "the document does not exist, so the precondition cannot hold"
            : `the document is at version ${result.currentVersion}`,
          result.currentVersion === undefined ? {} : { currentVersion: result.currentVersion },
        ),
      );
    case "not-found":
      return problemResponse(notFound(`no document ${key.collection}/${key.id}`));
    case "conflict":
      return problemResponse(
        new HttpProblem(
          409,
          result.code,
          "Conflict",
          result.detail,
          result.pointer === undefined ? {} : { pointer: result.pointer },
        ),
      );
    case "invalid":
      return problemResponse(
        unprocessable(
          result.code,
          result.detail,
          result.pointer === undefined ? {} : { pointer: result.pointer },
        ),
      );
    case "idempotency-key-reused":
      return problemResponse(
        unprocessable(
          "idempotency-key-reused",
          "this Idempotency-Key was already used on this document for a different request",
        ),
      );
  }
}

export function renderRead(key: DocumentKey, result: ReadResult, headers: Record<string, string>): Response {
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
