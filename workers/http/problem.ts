/** RFC 9457 problem documents: the one shape every error takes, and the typed error routes throw to produce one. */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const PROBLEM_TYPE_BASE = "https://tessera.dev/problems/";
export const PROBLEM_JSON = "application/problem+json";

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

/** Thrown by routes for protocol problems; the app's single error handler renders it. */
export class HttpProblem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
  }

  toDocument(): ProblemDocument {
    return {
      type: PROBLEM_TYPE_BASE + this.code,
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...this.extensions,
    };
  }
}

export const badRequest = (code: string, detail: string, extensions?: Record<string, unknown>) =>
  new HttpProblem(400, code, "Bad Request", detail, extensions);

export const notFound = (detail: string) => new HttpProblem(404, "not-found", "Not Found", detail);

export const unavailable = (code: string, detail: string, retryAfterSeconds: number) =>
  new HttpProblem(503, code, "Service Unavailable", detail, {}, { "Retry-After": String(retryAfterSeconds) });

export function problemResponse(problem: HttpProblem): Response {
  return new Response(JSON.stringify(problem.toDocument()), {
    status: problem.status,
    headers: { "Content-Type": PROBLEM_JSON, ...problem.headers },
  });
}
