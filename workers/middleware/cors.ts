/**
 * CORS for browsers: only the origins the deployment lists (`CORS_ORIGINS`, comma-separated, "*" for any; none
 * by default) get Access-Control-Allow-Origin, so no other origin's script can read an answer. Credentials are
 * bearer tokens a script sends itself, never cookies, so Allow-Credentials is never set.
 */
import type { Context } from "hono";
import { cors as honoCors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";

const ALLOW_HEADERS = [
  "Authorization",
  "Content-Type",
  "If-Match",
  "If-None-Match",
  "Idempotency-Key",
  "Consistency",
  "Consistency-Token",
  "X-Request-Id",
];
const EXPOSE_HEADERS = [
  "ETag",
  "Location",
  "Consistency-Token",
  "Read-Source",
  "Idempotent-Replayed",
  "X-Request-Id",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
  "Projection-Lag",
  "Allow",
];

const lists = new WeakMap<object, readonly string[]>();

function allowedOrigins(env: Env): readonly string[] {
  let list = lists.get(env);
  if (list === undefined) {
    list = (env.CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter((o) => o !== "");
    lists.set(env, list);
  }
  return list;
}

export function cors() {
  const handler = honoCors({
    origin: (origin: string, c: Context<AppEnv>) => {
      const allowed = allowedOrigins(c.env);
      if (allowed.includes("*")) return "*";
      return allowed.includes(origin) ? origin : null;
    },
    allowMethods: ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
    credentials: false,
  });
  return createMiddleware<AppEnv>(async function corsMiddleware(c, next) {
    // Requests without an Origin (servers, curl) skip it entirely; an OPTIONS without one is not a preflight.
    if (c.req.header("origin") === undefined) return next();
    return handler(c, next);
  });
}
