/**
 * `npm run bench:cpu`: CPU time workerd spends per request, including the work a request leaves behind (Tessera's
 * queue send, projection, archive and outbox confirmation), read from /proc. On a shared 2-core machine
 * throughput is noisy; CPU per request is what an optimisation changes, so this is the tool for "did it help".
 *
 *   npm run bench:cpu                          Tessera (working tree) and the floor
 *   npm run bench:cpu -- --ab=HEAD~1           the working tree against another commit, interleaved
 *   npm run bench:cpu -- --floor-alarm         also a floor that sets one alarm per write, as Tessera's writes do
 *   npm run bench:cpu -- --floor-queue         also the pipeline floor: the floor plus one queue message per write
 *   options: --only=write-spread,read-strong   --rounds=3   --seconds=4   --docs=1000
 * read-strong reads objects the runtime has evicted (as after 10 s idle); read-strong-warm reads them in memory.
 */
import { resolve } from "node:path";
import { parseArgs } from "./lib/args";
import { waitQuiet, workerdCpuMs } from "./lib/cpu";
import { AUTH_BINDINGS, authFetch } from "./lib/credential";
import { closedLoop, type RequestSpec } from "./lib/load";
import { benchDocument } from "./lib/payload";
import { bundle, type RunningSystem, type SystemSpec, start } from "./lib/server";
import { worktree } from "./lib/worktree";

const root = resolve(import.meta.dirname, "..");
const out = resolve(root, "bench/.out");

const args = parseArgs();
const seconds = Number(args.get("seconds") ?? 4);
const docs = Number(args.get("docs") ?? 1000);
const rounds = Number(args.get("rounds") ?? 3);
const only = args.get("only")?.split(",");
const ab = args.get("ab");
const floorAlarm = args.has("floor-alarm");
const floorQueue = args.has("floor-queue");

const payload = benchDocument;
const rand = (n: number) => Math.floor(Math.random() * n);

interface Probe {
  name: string;
  spec: RequestSpec;
  /** Run the load once unmeasured first, so that every object is in memory (the runtime evicts idle ones). */
  warm?: boolean;
}

const TESSERA = {
  seed: (i: number) => `/v1/bench/d${i}`,
  probes: [
    { name: "write-spread", spec: { method: "PUT", path: () => `/v1/bench/d${rand(docs)}`, body: payload } },
    { name: "write-hot", spec: { method: "PUT", path: () => "/v1/bench/hot", body: payload } },
    {
      name: "read-strong",
      spec: { method: "GET", path: () => `/v1/bench/d${rand(docs)}`, headers: { consistency: "strong" } },
    },
    {
      name: "read-strong-warm",
      spec: { method: "GET", path: () => `/v1/bench/d${rand(docs)}`, headers: { consistency: "strong" } },
      warm: true,
    },
    { name: "read-eventual", spec: { method: "GET", path: () => `/v1/bench/d${rand(docs)}` } },
  ] satisfies Probe[],
};
const FLOOR = {
  seed: (i: number) => `/k/d${i}`,
  probes: [
    { name: "write-spread", spec: { method: "PUT", path: () => `/k/d${rand(docs)}`, body: payload } },
    { name: "write-hot", spec: { method: "PUT", path: () => "/k/hot", body: payload } },
    { name: "read-strong", spec: { method: "GET", path: () => `/k/d${rand(docs)}` } },
    { name: "read-strong-warm", spec: { method: "GET", path: () => `/k/d${rand(docs)}` }, warm: true },
  ] satisfies Probe[],
};

interface Contender {
  label: string;
  spec: SystemSpec;
  cwd: string;
  seed: (i: number) => string;
  probes: Probe[];
  port: number;
  running?: RunningSystem;
}

const tessera: SystemSpec = {
  config: "wrangler.toml",
  migrationsDir: "migrations",
  bindings: { LOG_LEVEL: "off", ...AUTH_BINDINGS },
  label: "tessera",
};
const contenders: Contender[] = [{ label: "tessera", spec: tessera, cwd: root, ...TESSERA, port: 9500 }];
if (ab !== undefined) {
  contenders.push({
    label: `tessera@${ab}`,
    spec: { ...tessera, label: `tessera@${ab}` },
    cwd: worktree(ab),
    ...TESSERA,
    port: 9501,
  });
} else {
  contenders.push({
    label: "floor",
    spec: { config: "bench/floor/wrangler.toml" },
    cwd: root,
    ...FLOOR,
    port: 9501,
  });
}
if (floorQueue) {
  contenders.push({
    label: "floor+queue",
    spec: { config: "bench/floor-queue/wrangler.toml" },
    cwd: root,
    ...FLOOR,
    port: 9503,
  });
}
if (floorAlarm) {
  contenders.push({
    label: "floor+alarm",
    spec: { config: "bench/floor/wrangler.toml", bindings: { FLOOR_ALARM: "true" } },
    cwd: root,
    ...FLOOR,
    port: 9502,
  });
}

const ports = contenders.map((c) => c.port);

async function measure(c: Contender, probe: Probe) {
  const url = c.running?.url ?? "";
  if (probe.warm) await closedLoop(url, [{ weight: 1, spec: probe.spec }], { connections: 32, seconds: 2 });
  await waitQuiet(ports, 2_000);
  const before = workerdCpuMs(c.port);
  const m = await closedLoop(url, [{ weight: 1, spec: probe.spec }], { connections: 32, seconds });
  const during = workerdCpuMs(c.port) - before;
  // Outbox alarms come due seconds after a write: wait them out so that their cost is counted.
  await new Promise((r) => setTimeout(r, 12_000));
  await waitQuiet(ports, 2_000);
  const total = workerdCpuMs(c.port) - before;
  if (c.label.startsWith("tessera")) {
    const stats = await authFetch(`${url}/v1/_stats`).then((r) => r.json());
    console.error(`  ${c.label} after ${probe.name}: ${JSON.stringify(stats)}`);
  }
  return {
    reqPerSec: m.throughput,
    during: during / m.requests,
    total: total / m.requests,
    errors: m.errors,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

try {
  // Every system starts before any is written to: a Miniflare started while another one in this process has
  // queue messages in flight stops that one's queue deliveries (seen with Miniflare 4.20260426).
  for (const c of contenders) {
    const script = bundle({ ...c.spec, root: c.cwd }, resolve(out, `cpu-${c.port}`));
    c.running = await start({ ...c.spec, root: c.cwd }, script, {
      port: c.port,
      persistDir: resolve(root, "bench/.state", `cpu-${c.port}`),
      fresh: true,
    });
  }
  for (const c of contenders) {
    for (let i = 0; i < docs; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, docs - i) }, (_, j) =>
          authFetch((c.running?.url ?? "") + c.seed(i + j), {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: payload(),
          }).then((r) => r.arrayBuffer()),
        ),
      );
    }
  }
  // The seeds' outbox alarms come due seconds later: let them pass before measuring anything.
  await new Promise((r) => setTimeout(r, 12_000));
  const names = [...new Set(contenders.flatMap((c) => c.probes.map((p) => p.name)))].filter(
    (n) => only === undefined || only.includes(n),
  );
  const samples = new Map<string, Array<{ reqPerSec: number; during: number; total: number }>>();
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      // Alternate who goes first, so that drift over the run does not favour one side.
      const order = round % 2 === 1 ? contenders : [...contenders].reverse();
      for (const c of order) {
        const probe = c.probes.find((p) => p.name === name);
        if (probe === undefined) continue;
        const m = await measure(c, probe);
        const key = `${name}\t${c.label}`;
        samples.set(key, [...(samples.get(key) ?? []), m]);
        console.error(
          `round ${round} ${name} ${c.label}: ${m.reqPerSec.toFixed(0)} req/s, ${(m.during * 1000).toFixed(0)} µs/req during, ${(m.total * 1000).toFixed(0)} µs/req with aftermath${m.errors > 0 ? `, ${m.errors} errors` : ""}`,
        );
      }
    }
  }
  console.log("probe\tsystem\treq/s\tµs/req during\tµs/req with aftermath (medians)");
  for (const [key, ms] of samples) {
    console.log(
      `${key}\t${median(ms.map((m) => m.reqPerSec)).toFixed(0)}\t${(median(ms.map((m) => m.during)) * 1000).toFixed(0)}\t${(median(ms.map((m) => m.total)) * 1000).toFixed(0)}`,
    );
  }
} finally {
  for (const c of contenders) await c.running?.stop();
}
