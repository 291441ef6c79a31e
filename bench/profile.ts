/**
 * `npm run bench:profile`: CPU profiles of every isolate in the workerd process under one probe's load, taken
 * through the V8 inspector. It prints where the thread's time went, isolate by isolate (the system's own Worker
 * and Durable Objects, and Miniflare's entry worker, queue broker, D1 and R2, which production runs elsewhere),
 * then the functions that cost the most (self time) in the system's own isolate.
 *
 *   npm run bench:profile -- --probe=write-hot        write-spread | write-hot | read-strong | read-eventual
 *   options: --system=floor (profile the floor instead)   --seconds=5   --docs=1000   --aftermath=12 (seconds of profiling after the load: alarms, projection)
 * Writes bench/.out/<probe>.cpuprofile (the system's own isolate; open it in Chrome's DevTools).
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import WebSocket from "ws";
import { parseArgs } from "./lib/args";
import { waitQuiet } from "./lib/cpu";
import { AUTH_BINDINGS, authFetch } from "./lib/credential";
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
const CAP_US = 2 * SAMPLING_US;

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

/** The inspector's name for the isolate that runs the system's own Worker and Durable Objects. */
const OWN_ISOLATE = "core:user:main";

/**
 * Self time per function, and the isolate's busy time (all but idle). The sampler records an isolate only while
 * it runs; while the thread serves another isolate no sample is taken, and the gap lands on whichever sample
 * comes next. Counting at most CAP_US per sample keeps that gap off the function that happens to follow it.
 */
function summarize(profile: Profile): {
  busy: number;
  totals: Map<string, number>;
  entries: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (id: number) => {
    const frame = byId.get(id)?.callFrame;
    return `${frame?.functionName || "(anonymous)"} ${frame?.url.split("/").at(-1) ?? ""}:${(frame?.lineNumber ?? 0) + 1}`;
  };
  /** The outermost function of a sample's stack: the entry point (fetch, an RPC method, alarm, queue, a resumed async function). */
  const entryOf = (id: number) => {
    let at = id;
    for (let up = parent.get(at); up !== undefined && parent.has(up); up = parent.get(at)) at = up;
    return label(at);
  };
  const totals = new Map<string, number>();
  const entries = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? 0;
    if (byId.get(id)?.callFrame.functionName === "(idle)") continue;
    const us = Math.min(profile.timeDeltas[i] ?? 0, CAP_US);
    busy += us;
    totals.set(label(id), (totals.get(label(id)) ?? 0) + us);
    entries.set(entryOf(id), (entries.get(entryOf(id)) ?? 0) + us);
  }
  return { busy, totals, entries };
}

const system = floor
  ? { config: "bench/floor/wrangler.toml" }
  : {
      config: "wrangler.toml",
      migrationsDir: "migrations",
      bindings: { LOG_LEVEL: "off", ...AUTH_BINDINGS },
    };
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
        authFetch(`${running.url}${prefix}/d${i + j}`, {
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
    id: string;
    webSocketDebuggerUrl: string;
  }>;
  if (targets.length === 0) throw new Error("the inspector lists no Worker");
  const sessions = await Promise.all(
    targets.map(async (t) => ({ id: t.id, cdp: await inspector(t.webSocketDebuggerUrl) })),
  );
  for (const { cdp } of sessions) {
    await cdp.call("Profiler.enable");
    await cdp.call("Profiler.setSamplingInterval", { interval: SAMPLING_US });
    await cdp.call("Profiler.start");
  }
  const m = await closedLoop(running.url, [{ weight: 1, spec }], { connections: 32, seconds });
  await new Promise((r) => setTimeout(r, aftermath * 1000));
  const summaries = [];
  for (const { id, cdp } of sessions) {
    const { profile } = await cdp.call<{ profile: Profile }>("Profiler.stop");
    cdp.close();
    summaries.push({ id, profile, ...summarize(profile) });
  }
  const own = summaries.find((s) => s.id === OWN_ISOLATE);
  if (own === undefined) throw new Error(`no isolate named ${OWN_ISOLATE}`);
  writeFileSync(resolve(out, `${floor ? "floor-" : ""}${probe}.cpuprofile`), JSON.stringify(own.profile));

  const perRequest = (us: number) => (us / m.requests).toFixed(0).padStart(6);
  console.log(
    `${probe}: ${m.requests} requests (${m.throughput.toFixed(0)} req/s), profiled with ${aftermath} s of aftermath. ` +
      "Busy time per request, by isolate:",
  );
  for (const s of summaries.filter((s) => s.busy > 0).sort((a, b) => b.busy - a.busy)) {
    console.log(
      `${perRequest(s.busy)} µs  ${s.id}${s.id === OWN_ISOLATE ? " (the system's Worker and objects)" : ""}`,
    );
  }
  const total = summaries.reduce((sum, s) => sum + s.busy, 0);
  console.log(
    `${perRequest(total)} µs  in all (time outside JavaScript isolates, such as HTTP and I/O, not counted)`,
  );
  console.log(`\n${OWN_ISOLATE} by entry point (the outermost function of each sample's stack):`);
  for (const [name, us] of [...own.entries].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`${perRequest(us)} µs  ${name}`);
  }
  console.log(`\nTop functions of ${OWN_ISOLATE}, self time:`);
  for (const [name, us] of [...own.totals].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(
      `${((100 * us) / own.busy).toFixed(1).padStart(5)}%  ${(us / m.requests).toFixed(1).padStart(6)} µs  ${name}`,
    );
  }
} finally {
  await running.stop();
}
