/**
 * `npm run bench:profile`: a CPU profile of Tessera's Worker isolate under one probe's load, taken through the
 * V8 inspector, and the functions that cost the most (self time). The isolate is the Worker and its Durable
 * Objects; Miniflare's own D1, queue and R2 run in other isolates, which `bench:cpu` counts and this does not.
 *
 *   npm run bench:profile -- --probe=write-hot        write-spread | write-hot | read-strong | read-eventual
 *   options: --system=floor (profile the floor instead)   --seconds=5   --docs=1000   --aftermath=12 (seconds of profiling after the load: alarms, projection)
 * Writes bench/.out/<probe>.cpuprofile (open it in Chrome's DevTools) and prints the top functions.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import WebSocket from "ws";
import { parseArgs } from "./lib/args";
import { waitQuiet } from "./lib/cpu";
import { closedLoop, type RequestSpec } from "./lib/load";
import { benchDocument } from "./lib/payload";
import { bundle, start } from "./lib/server";

const root = resolve(import.meta.dirname, "..");
const out = resolve(root, "bench/.out");
const args = parseArgs();
const probe = args.get("probe") ?? "write-hot";
const seconds = Number(args.get("seconds") ?? 5);
const docs = Number(args.get("docs") ?? 1000);
const aftermath = Number(args.get("aftermath") ?? 12);
const floor = args.get("system") === "floor";
const port = 9510;
const inspectorPort = 9520;
const SAMPLING_US = 200;
/** The most one sample stands for: a few sampling intervals. */
const CAP_US = 5 * SAMPLING_US;

const payload = benchDocument;
const rand = (n: number) => Math.floor(Math.random() * n);
const prefix = floor ? "/k" : "/v1/bench";
const probes: Record<string, RequestSpec> = {
  "write-spread": { method: "PUT", path: () => `${prefix}/d${rand(docs)}`, body: payload },
  "write-hot": { method: "PUT", path: () => `${prefix}/hot`, body: payload },
  "read-strong": {
    method: "GET",
    path: () => `${prefix}/d${rand(docs)}`,
    headers: { consistency: "strong" },
  },
  "read-eventual": { method: "GET", path: () => `${prefix}/d${rand(docs)}` },
};
const spec = probes[probe];
if (spec === undefined) throw new Error(`unknown probe ${probe}; one of ${Object.keys(probes).join(", ")}`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A minimal Chrome DevTools Protocol client over one WebSocket. */
async function inspector(url: string) {
  const ws = new WebSocket(url);
  await new Promise<void>((ok, fail) => {
    ws.once("open", () => ok());
    ws.once("error", fail);
  });
  let next = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  return {
    call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((ok) => waiting.set(id, ok as (result: unknown) => void));
    },
    close: () => ws.close(),
  };
}

const system = floor
  ? { config: "bench/floor/wrangler.toml" }
  : { config: "wrangler.toml", migrationsDir: "migrations", bindings: { LOG_REQUESTS: "false" } };
const script = bundle(system, resolve(out, "profile"));
const running = await start(system, script, {
  port,
  persistDir: resolve(root, "bench/.state/profile"),
  fresh: true,
  inspectorPort,
});
try {
  for (let i = 0; i < docs; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, docs - i) }, (_, j) =>
        fetch(`${running.url}${prefix}/d${i + j}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: payload(),
        }).then((r) => r.arrayBuffer()),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 12_000));
  await waitQuiet([port], 2_000, 30_000);
  const targets = (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`).then((r) =>
    r.json(),
  )) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const target = targets[0]?.webSocketDebuggerUrl;
  if (target === undefined) throw new Error("the inspector lists no Worker");
  const cdp = await inspector(target);
  await cdp.call("Profiler.enable");
  await cdp.call("Profiler.setSamplingInterval", { interval: SAMPLING_US });
  await cdp.call("Profiler.start");
  const m = await closedLoop(running.url, [{ weight: 1, spec }], { connections: 32, seconds });
  await new Promise((r) => setTimeout(r, aftermath * 1000));
  const { profile } = await cdp.call<{ profile: Profile }>("Profiler.stop");
  cdp.close();
  writeFileSync(resolve(out, `${floor ? "floor-" : ""}${probe}.cpuprofile`), JSON.stringify(profile));

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // The sampler records this isolate only while it runs; while the thread serves another isolate (Miniflare's
  // D1, queue and R2 share it) no sample is taken, and the gap lands on whichever sample comes next. Counting
  // at most CAP_US per sample keeps that gap off the function that happens to follow it.
  let away = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? 0;
    const delta = profile.timeDeltas[i] ?? 0;
    away += Math.max(0, delta - CAP_US);
    self.set(id, (self.get(id) ?? 0) + Math.min(delta, CAP_US));
  }
  const totals = new Map<string, number>();
  let all = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    const name = `${frame?.functionName || "(anonymous)"} ${frame?.url.split("/").at(-1) ?? ""}:${(frame?.lineNumber ?? 0) + 1}`;
    all += us;
    if (frame?.functionName === "(idle)") idle += us;
    totals.set(name, (totals.get(name) ?? 0) + us);
  }
  const busy = all - idle;
  console.log(
    `${probe}: ${m.requests} requests (${m.throughput.toFixed(0)} req/s), isolate busy ${(busy / 1000).toFixed(0)} ms ` +
      `= ${(busy / m.requests).toFixed(0)} µs per request (including ${aftermath} s of aftermath); ` +
      `${(away / 1000).toFixed(0)} ms between samples not counted (the thread was elsewhere)`,
  );
  for (const [name, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    if (name.startsWith("(idle)")) continue;
    console.log(
      `${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / m.requests).toFixed(1).padStart(6)} µs  ${name}`,
    );
  }
} finally {
  await running.stop();
}
