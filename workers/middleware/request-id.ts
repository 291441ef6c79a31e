/** Accepts a well-formed X-Request-Id or generates one, exposes it to handlers and returns it on the response. */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";

const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId() {
  return createMiddleware<AppEnv>(async function requestIdMiddleware(c, next) {
    const offered = c.req.header("x-request-id");
    const id = offered !== undefined && ACCEPTABLE.test(offered) ? offered : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("X-Request-Id", id);
  });
}
