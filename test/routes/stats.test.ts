import { describe, expect, it } from "vitest";
import { del, eventually, get, put, settleAlarms, uniqueId } from "../helpers";

describe("GET /v1/_stats", () => {
  it("reports projection lag percentiles, events projected, dead letters and live documents", async () => {
    const before = (await get("/v1/_stats")).body as { eventsProjected: number; documents: number };
    expect(before).toMatchObject({ eventsProjected: 0, documents: 0, deadLettersPending: 0 });
    expect(before).toMatchObject({ lagMs: { p50: null, p99: null, window: 0 } });

    const kept = uniqueId();
    const gone = uniqueId();
    settleAlarms(...[kept, gone].map((id) => ({ tenant: "default", collection: "stats", id })));
    await put(`/v1/stats/${kept}`, { n: 1 });
    await put(`/v1/stats/${gone}`, { n: 1 });
    await del(`/v1/stats/${gone}`);
    const stats = await eventually(async () => {
      const body = (await get("/v1/_stats")).body as {
        eventsProjected: number;
        documents: number;
        lagMs: { p50: number; p99: number; window: number };
      };
      expect(body.eventsProjected).toBe(3);
      return body;
    });
    expect(stats.documents).toBe(1);
    expect(stats.lagMs.window).toBe(3);
    expect(stats.lagMs.p50).toBeGreaterThanOrEqual(0);
    expect(stats.lagMs.p99).toBeGreaterThanOrEqual(stats.lagMs.p50);
  });
});
