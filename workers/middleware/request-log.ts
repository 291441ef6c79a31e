/** One structured log line per request: enough to find it, time it and see how it ended. */
import { createMiddleware } from "hono/factory";
import { log, logs } from "../../platform/log";
import type { AppEnv } from "../app";

export function requestLog() {
  return createMiddleware<AppEnv>(async function requestLogMiddleware(c, next) {
    const started = Date.now();
    await next();
    const level = c.res.status >= 500 ? "error" : "info";
    if (!logs(level)) return;
    log[level]("request", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      status: c.res.status,
      durationMs: Date.now() - started,
      ...(c.get("error") === undefined ? {} : { error: c.get("error") }),
    });
  });
}
