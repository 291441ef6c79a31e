/** Registered after a path's real routes: 405 with Allow for other methods, and OPTIONS answered with Allow. */
import type { Context } from "hono";
import { HttpProblem } from "../http/problem";

export function methodNotAllowed(allowed: readonly string[]) {
  const allow = [...allowed, "OPTIONS"].join(", ");
  return function methodNotAllowedHandler(c: Context): Response {
    if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: { Allow: allow } });
    throw new HttpProblem(
      405,
      "method-not-allowed",
      "Method Not Allowed",
      `${c.req.method} is not allowed here; allowed: ${allow}`,
      {},
      { Allow: allow },
    );
  };
}
