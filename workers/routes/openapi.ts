/** Small builders for the OpenAPI route declarations the route files share. */
import { Envelope, Problem, RESPONSE_HEADERS } from "../schemas";

export const JSON_TYPE = "application/json";

type HeaderName = keyof typeof RESPONSE_HEADERS;

/** The named response headers, as OpenAPI header objects. */
export const headers = (...names: HeaderName[]) =>
  Object.fromEntries(names.map((name) => [name, RESPONSE_HEADERS[name]]));

export const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: "Problem Details (RFC 9457)",
        content: { "application/problem+json": { schema: Problem } },
        headers: headers("X-Request-Id", ...(s === 503 ? (["Retry-After"] as const) : [])),
      },
    ]),
  );

export const envelope = (description: string, ...names: HeaderName[]) => ({
  description,
  content: { [JSON_TYPE]: { schema: Envelope } },
  headers: headers("ETag", "X-Request-Id", ...names),
});
