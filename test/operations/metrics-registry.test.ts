/**
 * The isolate's metrics registry: what a request's increments and observations hand over, whatever the order of
 * the labels and however many label sets it has seen (its series are remembered, then forgotten past a limit);
 * and the exposition's order of a histogram's buckets.
 */
import { describe, expect, it } from "vitest";
import { render } from "../../workers/metrics/exposition";
import { LATENCY_BUCKETS_MS, Registry } from "../../workers/metrics/registry";

const totals = (r: Registry) => Object.fromEntries(r.drain(0).map((d) => [`${d.name} ${d.labels}`, d.value]));

describe("the metrics registry", () => {
  it("counts a label set as one series whatever the order of its labels", () => {
    const r = new Registry(0);
    r.inc("tessera_http_requests_total", { route: "/v1/:collection/:id", method: "GET", tenant: "a" });
    r.inc("tessera_http_requests_total", { tenant: "a", method: "GET", route: "/v1/:collection/:id" });
    r.inc("tessera_http_requests_total", { route: "/v1/:collection/:id", method: "GET", tenant: "b" }, 3);
    expect(totals(r)).toEqual({
      'tessera_http_requests_total {"method":"GET","route":"/v1/:collection/:id","tenant":"a"}': 2,
      'tessera_http_requests_total {"method":"GET","route":"/v1/:collection/:id","tenant":"b"}': 3,
    });
  });

  it("observes into cumulative buckets, +Inf, sum and count", () => {
    const r = new Registry(0);
    for (const ms of [3, 30, 30, 20_000]) r.observe("lat", { route: "/r", tenant: "t" }, ms);
    const t = totals(r);
    const bucket = (le: string) => t[`lat_bucket {"le":"${le}","route":"/r","tenant":"t"}`];
    expect(bucket("5")).toBe(1);
    expect(bucket("25")).toBe(1);
    expect(bucket("50")).toBe(3);
    expect(bucket(String(LATENCY_BUCKETS_MS.at(-1)))).toBe(3);
    expect(bucket("+Inf")).toBe(4);
    expect(t['lat_sum {"route":"/r","tenant":"t"}']).toBe(20_063);
    expect(t['lat_count {"route":"/r","tenant":"t"}']).toBe(4);
  });

  it("keeps counting right past the number of label sets it remembers, and after a hand-over is restored", () => {
    const r = new Registry(0);
    for (let i = 0; i < 25_000; i++) r.inc("c", { tenant: `t${i % 12_000}` });
    const handed = r.drain(0);
    expect(handed).toHaveLength(12_000);
    expect(handed.reduce((sum, d) => sum + d.value, 0)).toBe(25_000);
    r.restore(handed);
    r.inc("c", { tenant: "t0" });
    expect(totals(r)['c {"tenant":"t0"}']).toBe(4);
  });
});

describe("the exposition", () => {
  it("lists each histogram series' buckets in increasing le, +Inf last, whatever order storage gave them", () => {
    const bucket = (route: string, le: string, value: number) => ({
      name: "lat_bucket",
      labels: { le, route },
      value,
    });
    const text = render([
      {
        name: "lat",
        help: "latency",
        type: "histogram",
        samples: [
          bucket("/a", "+Inf", 3),
          bucket("/a", "10", 2),
          bucket("/a", "5", 1),
          bucket("/b", "+Inf", 1),
          bucket("/b", "100", 1),
          { name: "lat_sum", labels: { route: "/a" }, value: 12 },
          { name: "lat_count", labels: { route: "/a" }, value: 3 },
        ],
      },
    ]);
    expect(text.split("\n").filter((line) => !line.startsWith("#") && line !== "")).toEqual([
      'lat_bucket{le="5",route="/a"} 1',
      'lat_bucket{le="10",route="/a"} 2',
      'lat_bucket{le="+Inf",route="/a"} 3',
      'lat_bucket{le="100",route="/b"} 1',
      'lat_bucket{le="+Inf",route="/b"} 1',
      'lat_sum{route="/a"} 12',
      'lat_count{route="/a"} 3',
    ]);
  });
});
