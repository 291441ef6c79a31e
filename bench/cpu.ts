/**
 * `npm run bench:cpu`: CPU time workerd spends per request, for Tessera and the floor, including the work a
 * request leaves behind (Tessera's queue send, projection, archive and outbox confirmation), measured from
 * /proc. On a shared 2-core machine throughput is noisy; CPU per request is what an optimisation changes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { closedLoop, type RequestSpec } from "./lib/load";
import { bundle, type RunningSystem, type SystemSpec, start } from "./lib/server";

const root = resolve(import.meta.dirname, "..");
const out = resolve(root, "bench/.out");
const TICKS_PER_MS = 100 / 1000; // USER_HZ

const args = new Map(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith("--"))
    .map((a) => {
      const [k, v] = a.slice(2).split("=");
      return [k ?? "", v ?? "true"] as const;
    }),
);
const seconds = Number(args.get("seconds") ?? 5);
const docs = Number(args.get("docs") ?? 1000);

/** CPU ms used so far by every workerd process below this one. */
function workerdCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm !== "workerd") continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended while we looked.
    }
  }
  return ticks / TICKS_PER_MS;
}

const payload = () =>
  JSON.stringify({ title: "benchmark", status: "open", priority: 3, owner: "bench", pad: "x".repeat(120) });
const rand = (n: number) => Math.floor(Math.random() * n);

interface Probe {
  name: string;
  spec: RequestSpec;
}

const SYSTEMS: Record<string, { spec: SystemSpec; probes: Probe[]; seed: (i: number) => string }> = {
  tessera: {
    spec: { config: "wrangler.toml", migrationsDir: "migrations", bindings: { LOG_REQUESTS: "false" } },
    seed: (i) => `/v1/bench/d${i}`,
    probes: [
      {
        name: "write-spread",
        spec: { method: "PUT", path: () => `/v1/bench/d${rand(docs)}`, body: payload },
      },
      { name: "write-hot", spec: { method: "PUT", path: () => "/v1/bench/hot", body: payload } },
      {
        name: "read-strong",
        spec: { method: "GET", path: () => `/v1/bench/d${rand(docs)}`, headers: { consistency: "strong" } },
      },
      { name: "read-eventual", spec: { method: "GET", path: () => `/v1/bench/d${rand(docs)}` } },
    ],
  },
  floor: {
    spec: { config: "bench/floor/wrangler.toml" },
    seed: (i) => `/k/d${i}`,
    probes: [
      { name: "write-spread", spec: { method: "PUT", path: () => `/k/d${rand(docs)}`, body: payload } },
      { name: "write-hot", spec: { method: "PUT", path: () => "/k/hot", body: payload } },
      { name: "read-strong", spec: { method: "GET", path: () => `/k/d${rand(docs)}` } },
    ],
  },
};

/** Waits until workerd has been idle (under 2% of a core) for `quietMs`. */
async function idle(quietMs: number, limitMs = 120_000): Promise<void> {
  const started = Date.now();
  let last = workerdCpuMs();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() - started < limitMs) {
    await new Promise((r) => setTimeout(r, 500));
    const now = workerdCpuMs();
    if (now - last > 10) quietSince = Date.now();
    last = now;
  }
}

async function measure(system: RunningSystem, probe: Probe) {
  await idle(3_000);
  const before = workerdCpuMs();
  const m = await closedLoop(system.url, [{ weight: 1, spec: probe.spec }], { connections: 32, seconds });
  const during = workerdCpuMs() - before;
  // Outbox alarms confirm 10 s after a write; wait them out so their cost is counted.
  await new Promise((r) => setTimeout(r, 12_000));
  await idle(3_000);
  const total = workerdCpuMs() - before;
  return {
    probe: probe.name,
    reqPerSec: Math.round(m.throughput),
    cpuMsPerReq: +(during / m.requests).toFixed(3),
    cpuMsPerReqWithAftermath: +(total / m.requests).toFixed(3),
    errors: m.errors,
  };
}

const only = args.get("system");
const probeFilter = args.get("only")?.split(",");
for (const [name, system] of Object.entries(SYSTEMS)) {
  if (only !== undefined && only !== name) continue;
  const script = bundle(system.spec, resolve(out, `cpu-${name}`));
  const running = await start(system.spec, script, {
    port: 9500,
    persistDir: resolve(root, "bench/.state", `cpu-${name}`),
    fresh: true,
  });
  try {
    for (let i = 0; i < docs; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, docs - i) }, (_, j) =>
          fetch(running.url + system.seed(i + j), {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: payload(),
          }).then((r) => r.arrayBuffer()),
        ),
      );
    }
    for (const probe of system.probes) {
      if (probeFilter !== undefined && !probeFilter.includes(probe.name)) continue;
      console.log(JSON.stringify({ system: name, ...(await measure(running, probe)) }));
    }
  } finally {
    await running.stop();
  }
}
