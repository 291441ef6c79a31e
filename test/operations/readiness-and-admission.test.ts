/** /readyz checks each dependency; writes carry Projection-Lag and, for collections that opt in, are shed past the bound. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { retryAfterFor } from "../../workers/admission";
import { refreshLag } from "../../workers/pipeline-lag";
import { get, problem, put, send, uniqueId } from "../helpers";

describe("GET /readyz", () => {
  it("answers 200 with every dependency ok, without a credential, and /healthz stays cheap", async () => {
    const ready = await send("/readyz", { headers: { authorization: "" } });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: "ready",
      checks: { d1: "ok", r2: "ok", queue: "ok", objects: "ok" },
    });
    expect((await send("/healthz", { headers: { authorization: "" } })).body).toEqual({ status: "ok" });
  });
});

describe("admission control on projection lag", () => {
  /** Makes the pipeline monitor measure `ms` of lag: a probe sent that long ago and never seen. */
  async function lagOf(ms: number): Promise<void> {
    const now = Date.now();
    await env.DB.prepare("DELETE FROM pipeline_probes").run();
    if (ms > 0) {
      await env.DB.prepare("INSERT INTO pipeline_probes (id, sent_at) VALUES (?, ?)")
        .bind(uniqueId("probe"), now - ms)
        .run();
    }
    const monitor = env.PIPELINE.get(env.PIPELINE.idFromName("pipeline"));
    await monitor.lag();
    const { runDurableObjectAlarm } = await import("cloudflare:test");
    await runDurableObjectAlarm(monitor);
    await refreshLag(env);
  }

  it("carries the lag on every write, refuses writes to a shedding collection past the bound, and takes them again once it drains", async () => {
    await lagOf(0);
    const ok = await put(`/v1/alerts/${uniqueId("a")}`, { level: 1 });
    expect(ok.status).toBe(201);
    expect(Number(ok.headers.get("projection-lag"))).toBeGreaterThanOrEqual(0);

    await lagOf(45_000);
    const shed = await put(`/v1/alerts/${uniqueId("a")}`, { level: 2 });
    expect(shed.status).toBe(503);
    expect(problem(shed)).toMatchObject({ code: "projection-behind", boundMs: 30_000 });
    expect(Number(shed.headers.get("retry-after"))).toBe(
      retryAfterFor(Number(shed.headers.get("projection-lag"))),
    );
    // Collections that do not opt in, strong reads and the other routes are unaffected.
    const other = uniqueId("n");
    expect((await put(`/v1/notes/${other}`, { n: 1 })).status).toBe(201);
    expect((await get(`/v1/notes/${other}`)).status).toBe(200);
    const tx = await send("/v1/_transactions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        operations: [{ op: "put", collection: "alerts", id: uniqueId("t"), data: {} }],
      }),
    });
    expect(problem(tx).code).toBe("projection-behind");

    await lagOf(0);
    expect((await put(`/v1/alerts/${uniqueId("a")}`, { level: 3 })).status).toBe(201);
  });

  it("asks clients to wait longer the further behind the read side is", () => {
    expect(retryAfterFor(31_000)).toBe(8);
    expect(retryAfterFor(120_000)).toBe(30);
    expect(retryAfterFor(10 * 60_000)).toBe(120);
  });
});
