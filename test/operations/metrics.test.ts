/** GET /metrics: Prometheus's text format (checked with a parser), request counts within the stated loss bound, the pipeline's state. */
import { env } from "cloudflare:workers";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { FLUSH_EVERY_MS, registry } from "../../workers/metrics/registry";
import { flushMetrics } from "../../workers/middleware/metrics";
import { TEST_ADMIN_SECRET } from "../credentials";
import { bearer, eventually, get, makeKey, put, send, uniqueId } from "../helpers";

interface Metric {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string> }>;
}

async function scrape(headers: Record<string, string> = {}): Promise<Metric[]> {
  const res = await send("/metrics", { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(res.body as string) as Metric[];
}

const family = (metrics: Metric[], name: string) => metrics.find((m) => m.name === name);
const value = (metrics: Metric[], name: string, labels: Record<string, string>) =>
  Number(
    family(metrics, name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      ?.value ?? Number.NaN,
  );

describe("GET /metrics", () => {
  it("parses as Prometheus's format, with request counts, latency, errors and the pipeline's state", async () => {
    const collection = uniqueId("m").replaceAll("-", "_").toLowerCase();
    for (let i = 0; i < 5; i++) expect((await put(`/v1/${collection}/d${i}`, { i })).status).toBe(201);
    expect((await get(`/v1/${collection}/missing`)).status).toBe(404);
    expect((await send("/v1/BAD/x")).status).toBe(400);
    await flushMetrics(env);
    await eventually(async () => {
      const metrics = await scrape();
      expect(
        value(metrics, "tessera_http_requests_total", {
          route: "/v1/:collection/:id",
          method: "PUT",
          status: "2xx",
          tenant: "default",
        }),
      ).toBeGreaterThanOrEqual(5);
      expect(
        value(metrics, "tessera_http_errors_total", { code: "invalid-collection", tenant: "default" }),
      ).toBeGreaterThanOrEqual(1);
      const latency = family(metrics, "tessera_http_request_duration_ms");
      expect(latency?.type).toBe("HISTOGRAM");
      expect(value(metrics, "tessera_events_projected_total", { tenant: "default", collection })).toBe(5);
      expect(value(metrics, "tessera_documents", { tenant: "default", collection })).toBe(5);
      expect(value(metrics, "tessera_document_bytes", { tenant: "default", collection })).toBe(
        5 * '{"i":0}'.length,
      );
      expect(family(metrics, "tessera_change_feed_head")?.metrics.length).toBeGreaterThan(0);
      expect(family(metrics, "tessera_projection_lag_ms")?.type).toBe("HISTOGRAM");
    });
  });

  it("shows a tenant's admin its own tenant's series only, and the operator every tenant's", async () => {
    const other = await makeKey({ tenant: uniqueId("t"), name: "other tenant" });
    const otherCollection = "solo";
    expect((await put(`/v1/${otherCollection}/x`, { a: 1 }, bearer(other))).status).toBe(201);
    await flushMetrics(env);
    await eventually(async () => {
      const mine = await scrape();
      const tenants = new Set(
        mine.flatMap((m) => m.metrics.map((s) => s.labels?.tenant)).filter((t) => t !== undefined),
      );
      expect([...tenants]).toEqual(["default"]);
      const all = await scrape(bearer(TEST_ADMIN_SECRET));
      const everyone = new Set(all.flatMap((m) => m.metrics.map((s) => s.labels?.tenant)));
      expect(everyone.size).toBeGreaterThan(1);
    });
    const refused = await send("/metrics", { headers: bearer(await makeKey({ scopes: ["read", "write"] })) });
    expect(refused.status).toBe(403);
  });

  it("loses at most what an isolate counted since its last hand-over when it dies", async () => {
    await flushMetrics(env);
    const route = { route: "/healthz", method: "GET", status: "2xx", tenant: "-" };
    const before = value(await scrape(bearer(TEST_ADMIN_SECRET)), "tessera_http_requests_total", route) || 0;
    for (let i = 0; i < 30; i++) await send("/healthz");
    await flushMetrics(env);
    // Twenty more, then the isolate "dies" before its next hand-over: they are the loss, and no more.
    for (let i = 0; i < 20; i++) await send("/healthz");
    const lost = registry.drain(Date.now());
    expect(lost.some((d) => d.name === "tessera_http_requests_total")).toBe(true);
    const after = value(await scrape(bearer(TEST_ADMIN_SECRET)), "tessera_http_requests_total", route);
    // The scrape itself is one more request, counted in the next hand-over.
    expect(after - before).toBe(30);
    // The hand-over is due FLUSH_EVERY_MS after the last, so the loss is bounded by that window.
    registry.inc("probe", {});
    expect(registry.due(Date.now())).toBe(false);
    expect(registry.due(Date.now() + FLUSH_EVERY_MS)).toBe(true);
    registry.drain(Date.now());
  });
});
