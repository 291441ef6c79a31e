/**
 * Counts each request (route, method, status class, tenant), its latency and its problem code, in the isolate's
 * registry, hands the counts to the durable aggregator in the background when they are due, and writes the
 * request to the Analytics Engine dataset for production analysis. Nothing here makes a request wait.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { errorText, log } from "../../platform/log";
import type { AppEnv } from "../app";
import { registry } from "../metrics/registry";

/** The tenant a request counts for: its credential's, "operator", or "-" before one is known. */
function tenantOf(c: Context<AppEnv>): string {
  const principal = c.get("principal");
  if (principal === undefined) return "-";
  return principal.kind === "operator" ? "operator" : principal.tenant;
}

/** Hands this isolate's counts to the aggregator; on failure they stay for the next hand-over. */
export async function flushMetrics(env: Env, now = Date.now()): Promise<void> {
  const deltas = registry.drain(now);
  if (deltas.length === 0) return;
  try {
    await env.METRICS.get(env.METRICS.idFromName("global")).add(deltas);
  } catch (error) {
    registry.restore(deltas);
    log.warn("metrics hand-over failed; kept for the next", { error: errorText(error) });
  }
}

export function metrics() {
  return createMiddleware<AppEnv>(async function metricsMiddleware(c, next) {
    const started = Date.now();
    await next();
    const now = Date.now();
    const ms = now - started;
    const status = c.res.status;
    const tenant = tenantOf(c);
    const route = c.req.routePath;
    const method = c.req.method;
    const code = c.get("problem") ?? "";
    registry.inc("tessera_http_requests_total", {
      route,
      method,
      status: `${Math.floor(status / 100)}xx`,
      tenant,
    });
    registry.observe("tessera_http_request_duration_ms", { route, tenant }, ms);
    if (code !== "") registry.inc("tessera_http_errors_total", { code, tenant });
    c.env.REQUESTS?.writeDataPoint({
      blobs: [route, method, String(status), code, tenant],
      doubles: [ms, status],
      indexes: [tenant],
    });
    if (registry.due(now)) {
      try {
        c.executionCtx.waitUntil(flushMetrics(c.env, now));
      } catch {
        // No execution context (an app driven directly, as in some tests): the next request hands them over.
        registry.restore(registry.drain(now));
      }
    }
  });
}
