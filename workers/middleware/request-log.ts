/** One structured JSON line per request: enough to find it, time it and see how it ended. */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { configOf } from "../config";

export type LogSink = (line: string) => void;

export function requestLog(sink: LogSink = console.log) {
  return createMiddleware<AppEnv>(async function requestLogMiddleware(c, next) {
    const started = Date.now();
    await next();
    if (!configOf(c.env).logRequests) return;
    sink(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        msg: "request",
        requestId: c.get("requestId"),
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        status: c.res.status,
        durationMs: Date.now() - started,
        ...(c.get("error") === undefined ? {} : { error: c.get("error") }),
      }),
    );
  });
}
