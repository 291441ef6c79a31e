/** Errors, typed from the problem documents the API answers with (RFC 9457): match on `code`, not `message`. */
import type { Problem } from "./types.js";

export interface ErrorFields {
  readonly status: number;
  readonly code: string;
  readonly title?: string;
  readonly detail: string;
  readonly problem?: Problem & Record<string, unknown>;
  readonly requestId?: string;
  readonly retryAfter?: number;
}

export class TesseraError extends Error {
  override name = "TesseraError";
  /** The HTTP status; 0 when no answer came (a network error, or the deadline passed before one). */
  readonly status: number;
  /** The problem's stable code (`not-found`, `precondition-failed`, …), or `network-error` / `timeout`. */
  readonly code: string;
  readonly title: string | undefined;
  readonly detail: string;
  /** On 409 and 422: the JSON Pointer of the offending value. */
  readonly pointer: string | undefined;
  /** On 412: the document's current version. */
  readonly currentVersion: number | undefined;
  /** The whole problem document, with its extensions (a transaction's `operation`, a saga's `step`, …). */
  readonly problem: (Problem & Record<string, unknown>) | undefined;
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait (Retry-After). */
  readonly retryAfter: number | undefined;

  constructor(fields: ErrorFields, options?: { cause?: unknown }) {
    super(`${fields.status === 0 ? "" : `${fields.status} `}${fields.code}: ${fields.detail}`, options);
    this.status = fields.status;
    this.code = fields.code;
    this.title = fields.title;
    this.detail = fields.detail;
    this.problem = fields.problem;
    this.pointer = typeof fields.problem?.pointer === "string" ? fields.problem.pointer : undefined;
    this.currentVersion =
      typeof fields.problem?.currentVersion === "number" ? fields.problem.currentVersion : undefined;
    this.requestId = fields.requestId;
    this.retryAfter = fields.retryAfter;
  }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterOf(response: Response): number | undefined {
  const raw = response.headers.get("retry-after");
  if (raw === null) return undefined;
  if (/^[0-9]+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

function isProblem(value: unknown): value is Problem & Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && typeof v.status === "number";
}

/** The error an answer that is not a success stands for; `body` is what openapi-fetch parsed, if anything. */
export function errorOf(response: Response, received: unknown): TesseraError {
  let body = received;
  if (typeof body === "string" && body.startsWith("{")) {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON: reported as text below
    }
  }
  const requestId = response.headers.get("x-request-id") ?? undefined;
  const retryAfter = retryAfterOf(response);
  const common = {
    ...(requestId === undefined ? {} : { requestId }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
  if (isProblem(body)) {
    return new TesseraError({
      status: response.status,
      code: body.code,
      title: body.title,
      detail: body.detail,
      problem: body,
      ...common,
    });
  }
  return new TesseraError({
    status: response.status,
    code: `http-${response.status}`,
    detail: typeof body === "string" && body !== "" ? body.slice(0, 500) : response.statusText || "no detail",
    ...common,
  });
}
