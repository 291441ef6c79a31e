/**
 * `npm run bench`: Tessera side by side with the platform floor and the D1-direct alternative, each from its real
 * bundle under Miniflare's own HTTP server, driven by autocannon (closed loop) and an open-loop generator.
 * `--quick` runs every scenario once, briefly, and writes only to bench/.out (CI keeps the suite working with it).
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { waitQuiet, workerdCpuMs } from "./lib/cpu";
import { AUTH_BINDINGS, authFetch } from "./lib/credential";
import { closedLoop, type Measurement, openLoop, type RequestSpec } from "./lib/load";
import { benchDocument } from "./lib/payload";
import { renderChart, renderTable } from "./lib/report";
import { bundleAsync, type RunningSystem, type SystemSpec, start } from "./lib/server";
import { worktree } from "./lib/worktree";

const quick = process.argv.includes("--quick");
const settings = quick
  ? {
      reps: 1,
      seconds: 1,
      connections: 32,
      docs: 100,
      drainEvents: 200,
      lagRate: 100,
      lagSeconds: 1,
      // Quick runs only keep the suite working (their numbers mean nothing): no quiet waits, under a minute.
      quietMs: 0,
      quietLimitMs: 0,
      warmSeconds: 0,
    }
  : {
      reps: 3,
      seconds: 5,
      connections: 32,
      docs: 1000,
      drainEvents: 3000,
      lagRate: 200,
      lagSeconds: 10,
      quietMs: 500,
      // Bounded so that the full suite stays under 10 minutes; a wait that hits it is reported.
      quietLimitMs: 15_000,
      // Unmeasured load before each run: the isolate's code compiled and the objects in memory, as in production,
      // where an object stays resident for 70-140 s without traffic (locally: 10 s).
      warmSeconds: 1,
    };
/** `--only write-spread,read-strong` runs just those scenarios (for profiling); `--no-pipeline` skips projection. */
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const withPipeline = !process.argv.includes("--no-pipeline") && only === undefined;
const root = resolve(import.meta.dirname, "..");
const out = resolve(root, "bench/.out");

/** `--against=<commit>` adds Tessera as built from that commit, measured in the same run: before and after. */
const against = process.argv.find((a) => a.startsWith("--against="))?.slice("--against=".length);

/**
 * `--log-level=info` runs Tessera with its request log on (off by default). A baseline from before LOG_LEVEL
 * existed (before a37b956) logs every request whatever it is told: compare it with the log on in both.
 */
const logLevel =
  process.argv.find((a) => a.startsWith("--log-level="))?.slice("--log-level=".length) ?? "off";

type SystemName = "tessera" | "baseline" | "floor" | "floor-queue" | "d1-direct";
// The operator secret: the harness signs in at every start and sends its key with every request (lib/credential).
const tessera: SystemSpec = {
  config: "wrangler.toml",
  migrationsDir: "migrations",
  bindings: { LOG_LEVEL: logLevel, ...AUTH_BINDINGS },
  label: "tessera",
};
const SYSTEMS: Partial<Record<SystemName, SystemSpec>> = {
  tessera,
  ...(against === undefined
    ? {}
    : { baseline: { ...tessera, root: worktree(against), label: `tessera@${against}` } }),
  floor: { config: "bench/floor/wrangler.toml" },
  // The pipeline floor: the floor plus one event per write on a local queue (writes only).
  "floor-queue": { config: "bench/floor-queue/wrangler.toml" },
  "d1-direct": { config: "bench/d1-direct/wrangler.toml", migrationsDir: "bench/d1-direct/migrations" },
};
const NAMES = Object.keys(SYSTEMS) as SystemName[];
/** How a system is named in the report. */
const label = (name: SystemName) =>
  name === "baseline" ? `tessera@${against}` : name === "floor-queue" ? "floor+queue" : name;
/** The baseline takes Tessera's requests. */
const mixOf = (scenario: Scenario, name: SystemName) => scenario.mix[name === "baseline" ? "tessera" : name];

const rand = (n: number) => Math.floor(Math.random() * n);
const payload = benchDocument;
const doc = () => `d${rand(settings.docs)}`;

interface Scenario {
  name: string;
  description: string;
  /** The request mix per system; a system without one does not take part. */
  mix: Partial<Record<SystemName, Array<{ weight: number; spec: RequestSpec }>>>;
}

const put = (path: () => string): RequestSpec => ({ method: "PUT", path, body: payload });
const getFrom = (path: () => string, headers?: Record<string, string>): RequestSpec => ({
  method: "GET",
  path,
  ...(headers === undefined ? {} : { headers }),
});
const one = (spec: RequestSpec) => [{ weight: 1, spec }];

/** Accounts for the transfer scenarios; the hot ones are the first few. */
const ACCOUNTS = settings.docs;
const HOT_ACCOUNTS = 4;
/** A transfer of 1 between two distinct accounts among the first `n`: a transaction of two bounded increments. */
const transfer = (n: number): RequestSpec => ({
  method: "POST",
  path: () => "/v1/_transactions",
  events: 2,
  body: () => {
    const from = rand(n);
    const to = (from + 1 + rand(n - 1)) % n;
    const move = (id: number, value: number) => ({
      op: "patch",
      collection: "accounts",
      id: `a${id}`,
      patch: [{ op: "increment", path: "/balance", value, min: 0 }],
    });
    return JSON.stringify({ operations: [move(from, -1), move(to, 1)] });
  },
});

const SCENARIOS: Scenario[] = [
  {
    name: "write-spread",
    description: `PUT to one of ${settings.docs} documents`,
    mix: {
      tessera: one(put(() => `/v1/bench/${doc()}`)),
      floor: one(put(() => `/k/${doc()}`)),
      "floor-queue": one(put(() => `/k/${doc()}`)),
      "d1-direct": one(put(() => `/docs/${doc()}`)),
    },
  },
  {
    name: "write-hot",
    description: "PUT to one hot document",
    mix: {
      tessera: one(put(() => "/v1/bench/hot")),
      floor: one(put(() => "/k/hot")),
      "d1-direct": one(put(() => "/docs/hot")),
    },
  },
  {
    name: "transfer-spread",
    description: `a transaction moving 1 between two of ${ACCOUNTS} accounts (two bounded increments)`,
    mix: { tessera: one(transfer(ACCOUNTS)) },
  },
  {
    name: "transfer-hot",
    description: `a transaction moving 1 between two of ${HOT_ACCOUNTS} hot accounts`,
    mix: { tessera: one(transfer(HOT_ACCOUNTS)) },
  },
  {
    name: "read-strong",
    description: "GET from the document's owner (Consistency: strong)",
    mix: {
      tessera: one(getFrom(() => `/v1/bench/${doc()}`, { consistency: "strong" })),
      floor: one(getFrom(() => `/k/${doc()}`)),
      "d1-direct": one(getFrom(() => `/docs/${doc()}`)),
    },
  },
  {
    name: "read-eventual",
    // The floor has no read model: its "eventual" read would be its strong read again. D1-direct is the comparison.
    description: "GET at the default level (Tessera: the D1 read model)",
    mix: {
      tessera: one(getFrom(() => `/v1/bench/${doc()}`)),
      "d1-direct": one(getFrom(() => `/docs/${doc()}`)),
    },
  },
  {
    name: "query",
    description: "indexed query: status = open, by priority descending, 20 per page",
    mix: {
      tessera: one(getFrom(() => "/v1/todos?where[status]=open&order=-priority&limit=20")),
      "d1-direct": one(getFrom(() => "/docs?status=open&limit=20")),
    },
  },
  {
    name: "mixed-80-20",
    description: "80% reads (default level), 20% writes",
    mix: {
      tessera: [
        { weight: 8, spec: getFrom(() => `/v1/bench/${doc()}`) },
        { weight: 2, spec: put(() => `/v1/bench/${doc()}`) },
      ],
      floor: [
        { weight: 8, spec: getFrom(() => `/k/${doc()}`) },
        { weight: 2, spec: put(() => `/k/${doc()}`) },
      ],
      "d1-direct": [
        { weight: 8, spec: getFrom(() => `/docs/${doc()}`) },
        { weight: 2, spec: put(() => `/docs/${doc()}`) },
      ],
    },
  },
];

/** A system's figures in one scenario; the write counts only serve the harness's waits. */
export interface Row extends Omit<Measurement, "writes" | "writesStarted"> {
  scenario: string;
  system: string;
  /** The median of the reps' ratios (each rep's throughput over the floor's in the same rep). */
  ratioToFloor: number | null;
  /** Each rep's ratio to the floor, in rep order. */
  ratiosToFloor: number[];
  /** Tessera's median paired ratio to the pipeline floor (floor+queue), in the scenarios it runs; else null. */
  ratioToFloorQueue: number | null;
  /** Tessera's median paired ratio to the common alternative (D1-direct); null for the other systems. */
  ratioToD1Direct: number | null;
  /** workerd CPU per completed request while the load ran (median), in microseconds. */
  cpuUsPerRequest: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function stats(
  tessera: RunningSystem,
): Promise<{ eventsProjected: number; lagMs: { p50: number; p99: number } }> {
  const res = await authFetch(`${tessera.url}/v1/_stats`);
  return (await res.json()) as { eventsProjected: number; lagMs: { p50: number; p99: number } };
}

/** Events committed so far, as far as the harness can tell: at least `least`, at most `most`. */
interface Committed {
  least: number;
  most: number;
}
const exactly = (n: number): Committed => ({ least: n, most: n });
const plus = (c: Committed, m: { writes: number; writesStarted: number }): Committed => ({
  least: c.least + m.writes,
  most: c.most + m.writesStarted,
});

/**
 * Waits until the read model holds every event committed: `committed.most`, or at least `committed.least` and no
 * more arriving for SETTLE_TAIL_MS (writes cut off when a closed-loop run stops may or may not have committed).
 * Locally, Miniflare's queue delivers nothing while a closed-loop run keeps workerd busy (its broker, a Durable
 * Object in the same process, sends no batch until the load stops), and the whole backlog projects once it ends,
 * with pauses: only a count says when that is done. Fails when the projector
 * stands still short of the least.
 */
async function settle(tessera: RunningSystem, committed: Committed): Promise<number> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const { eventsProjected } = await stats(tessera);
    if (eventsProjected >= committed.most) return Date.now();
    if (eventsProjected !== last) {
      last = eventsProjected;
      movedAt = Date.now();
    } else if (eventsProjected >= committed.least && Date.now() - movedAt > SETTLE_TAIL_MS) {
      return Date.now();
    } else if (Date.now() - movedAt > SETTLE_LIMIT_MS) {
      throw new Error(
        `the read model holds ${eventsProjected} events, ${committed.least - eventsProjected} short of the ${committed.least} committed, and has not moved for ${SETTLE_LIMIT_MS / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
/** Longer than the queue's batch timeout (1 s), which the last events of a run wait for. */
const SETTLE_TAIL_MS = 2_000;
/** How long the projector may stand still short of what was committed before the run fails. */
const SETTLE_LIMIT_MS = 90_000;

async function seed(name: SystemName, system: RunningSystem): Promise<number> {
  const paths: Record<SystemName, (i: number) => string> = {
    tessera: (i) => `/v1/bench/d${i}`,
    baseline: (i) => `/v1/bench/d${i}`,
    floor: (i) => `/k/d${i}`,
    "floor-queue": (i) => `/k/d${i}`,
    "d1-direct": (i) => `/docs/d${i}`,
  };
  let acknowledged = 0;
  const write = (path: string, body = payload()) =>
    authFetch(system.url + path, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body,
    }).then(async (r) => {
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`seeding ${name}: PUT ${path} answered ${r.status}`);
      acknowledged += 1;
    });
  for (let i = 0; i < settings.docs; i += 32) {
    const batch = Array.from({ length: Math.min(32, settings.docs - i) }, (_, j) => i + j);
    await Promise.all(batch.map((k) => write(paths[name](k))));
    if (name === "tessera" || name === "baseline") {
      await Promise.all(batch.map((k) => write(`/v1/todos/t${k}`)));
      await Promise.all(batch.map((k) => write(`/v1/accounts/a${k}`, JSON.stringify({ balance: 1e12 }))));
    }
  }
  return acknowledged;
}

async function pipeline(tessera: RunningSystem) {
  // Projection drain: N writes as fast as 32 clients go; events/s from the first write until all are projected.
  await quiet(portOf("tessera"), "projection drain");
  const before = (await stats(tessera)).eventsProjected;
  const started = Date.now();
  let written = 0;
  while (written < settings.drainEvents) {
    const batch = Math.min(64, settings.drainEvents - written);
    await Promise.all(
      Array.from({ length: batch }, () =>
        authFetch(`${tessera.url}/v1/bench/${doc()}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: payload(),
        }).then(async (r) => {
          await r.arrayBuffer();
          if (!r.ok) throw new Error(`projection drain: a write answered ${r.status}`);
        }),
      ),
    );
    written += batch;
  }
  const writesDone = Date.now();
  const projectedAtWritesDone = (await stats(tessera)).eventsProjected - before;
  const done = await settle(tessera, exactly(before + settings.drainEvents));
  const drain = {
    events: settings.drainEvents,
    seconds: (done - started) / 1000,
    eventsPerSecond: settings.drainEvents / ((done - started) / 1000),
    backlogAtWritesEnd: settings.drainEvents - projectedAtWritesDone,
    tailSeconds: (done - writesDone) / 1000,
  };

  // Projection lag under a steady, open-loop write load.
  await quiet(portOf("tessera"), "projection lag");
  const writes = await openLoop(
    tessera.url,
    put(() => `/v1/bench/${doc()}`),
    {
      rate: settings.lagRate,
      seconds: settings.lagSeconds,
    },
  );
  const committed = plus(exactly(before + settings.drainEvents), writes);
  await settle(tessera, committed);
  const { lagMs } = await stats(tessera);
  return {
    committed,
    drain,
    lag: { rate: settings.lagRate, seconds: settings.lagSeconds, lagMs, writeLatency: writes },
  };
}

/** One port per system, in SYSTEMS order; only the system being measured runs (see launch). */
const ports = NAMES.map((_, i) => 9400 + i);
const suiteStarted = Date.now();
let quietWaitMs = 0;

/** The system about to be measured quiet (its own leftover work done); says so when it was still busy at the limit. */
async function quiet(port: number, before: string): Promise<void> {
  const { waitedMs, quiet } = await waitQuiet([port], settings.quietMs, settings.quietLimitMs);
  quietWaitMs += waitedMs;
  if (!quiet)
    console.error(`warning: still busy after ${waitedMs / 1000} s of waiting, measuring ${before} anyway`);
}
const portOf = (name: SystemName) => ports[NAMES.indexOf(name)] ?? 0;

/**
 * Starts one system on its own port from its bundle and its state on disk. Only the system being measured runs:
 * an idle workerd is not idle for long (about 10 s after a run, the runtime evicts the objects it used, and
 * Tessera's outbox alarms come due for seconds more), and a quiet second between such waves used to let one
 * system's leftovers land in another's measurement.
 */
async function launch(name: SystemName, script: string, fresh: boolean): Promise<RunningSystem> {
  const spec = SYSTEMS[name];
  if (spec === undefined) throw new Error(`no system ${name}`);
  return start(spec, script, {
    port: portOf(name),
    persistDir: resolve(root, "bench/.state", name),
    fresh,
  });
}

const hasPipeline = (name: SystemName) => name === "tessera" || name === "baseline";

/** Events the read model holds; 0 for the systems without one. */
async function projected(name: SystemName, system: RunningSystem): Promise<number> {
  return hasPipeline(name) ? (await stats(system)).eventsProjected : 0;
}

/**
 * Tessera (and its baseline) stop only once the read model holds every event committed: Miniflare's
 * queue keeps what it holds in memory, and the outbox would send it all again, 30 s into a later run.
 */
async function shutDown(name: SystemName, system: RunningSystem, committed: Committed): Promise<void> {
  if (hasPipeline(name)) await settle(system, committed);
  await system.stop();
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const scripts = {} as Record<SystemName, string>;
  await Promise.all(
    NAMES.map(async (name) => {
      const spec = SYSTEMS[name];
      if (spec !== undefined) scripts[name] = await bundleAsync(spec, resolve(out, name));
    }),
  );
  let running: RunningSystem | undefined;
  try {
    for (const name of NAMES) {
      running = await launch(name, scripts[name], true);
      const written = await seed(name, running);
      await shutDown(name, running, exactly(written));
      running = undefined;
    }
    const samples = new Map<string, Measurement[]>();
    const cpuPerRequest = new Map<string, number[]>();
    for (let rep = 1; rep <= settings.reps; rep++) {
      for (const scenario of SCENARIOS.filter((sc) => only === undefined || only.includes(sc.name))) {
        // Every other rep runs the systems in the reverse order, so that none always goes first or last.
        for (const name of rep % 2 === 1 ? NAMES : [...NAMES].reverse()) {
          const mix = mixOf(scenario, name);
          if (mix === undefined) continue;
          const runStarted = Date.now();
          running = await launch(name, scripts[name], false);
          let committed = exactly(await projected(name, running));
          if (settings.warmSeconds > 0) {
            const warm = await closedLoop(running.url, mix, {
              connections: settings.connections,
              seconds: settings.warmSeconds,
            });
            committed = plus(committed, warm);
            // The warm-up's projection done first (its queue delivery waits for the load to end).
            if (hasPipeline(name)) await settle(running, committed);
            await quiet(portOf(name), `${scenario.name}/${name}`);
          }
          const cpuBefore = workerdCpuMs(portOf(name));
          const m = await closedLoop(running.url, mix, {
            connections: settings.connections,
            seconds: settings.seconds,
          });
          const cpu = workerdCpuMs(portOf(name)) - cpuBefore;
          await shutDown(name, running, plus(committed, m));
          running = undefined;
          cpuPerRequest.set(`${scenario.name}/${name}`, [
            ...(cpuPerRequest.get(`${scenario.name}/${name}`) ?? []),
            (cpu * 1000) / Math.max(1, m.requests),
          ]);
          const key = `${scenario.name}/${name}`;
          samples.set(key, [...(samples.get(key) ?? []), m]);
          console.error(
            `rep ${rep} ${key}: ${m.throughput.toFixed(0)} req/s p50 ${m.p50} ms p99 ${m.p99} ms errors ${m.errors}${
              m.errors > 0 ? ` ${JSON.stringify(m.errorKinds)}` : ""
            } (${((Date.now() - runStarted) / 1000).toFixed(1)} s in all)`,
          );
        }
      }
    }
    const rows: Row[] = [];
    for (const scenario of SCENARIOS.filter(
      (sc) => samples.has(`${sc.name}/floor`) || samples.has(`${sc.name}/tessera`),
    )) {
      const floor = samples.get(`${scenario.name}/floor`);
      const floorQueue = samples.get(`${scenario.name}/floor-queue`);
      const d1Direct = samples.get(`${scenario.name}/d1-direct`);
      for (const name of NAMES) {
        const ms = samples.get(`${scenario.name}/${name}`);
        if (ms === undefined) continue;
        const throughput = median(ms.map((m) => m.throughput));
        // Each rep's ratio pairs two runs seconds apart, so that the machine's slow and fast spells, which move the
        // floor itself by 2× between runs, mostly cancel; the reported ratio is their median.
        const paired = (other: Measurement[]) =>
          ms.map((m, i) => m.throughput / Math.max(1, other[i]?.throughput ?? 0));
        const ratios = floor === undefined ? [] : paired(floor);
        const tesseraRow = name === "tessera" || name === "baseline";
        rows.push({
          scenario: scenario.name,
          system: label(name),
          throughput,
          p50: median(ms.map((m) => m.p50)),
          p99: median(ms.map((m) => m.p99)),
          max: Math.max(...ms.map((m) => m.max)),
          errors: ms.reduce((sum, m) => sum + m.errors, 0),
          requests: ms.reduce((sum, m) => sum + m.requests, 0),
          ratioToFloor: floor === undefined ? null : median(ratios),
          ratiosToFloor: ratios,
          ratioToFloorQueue: floorQueue !== undefined && tesseraRow ? median(paired(floorQueue)) : null,
          ratioToD1Direct: d1Direct !== undefined && tesseraRow ? median(paired(d1Direct)) : null,
          cpuUsPerRequest: median(cpuPerRequest.get(`${scenario.name}/${name}`) ?? [0]),
        });
      }
    }
    if (!withPipeline) {
      for (const r of rows)
        console.log(
          `${r.scenario} ${r.system} ${r.throughput.toFixed(0)} req/s p50 ${r.p50} p99 ${r.p99} ×floor ${r.ratioToFloor?.toFixed(2)} cpu ${r.cpuUsPerRequest.toFixed(0)} µs/req errors ${r.errors}`,
        );
      return;
    }
    running = await launch("tessera", scripts.tessera, false);
    const { committed, ...projection } = await pipeline(running);
    await shutDown("tessera", running, committed);
    running = undefined;
    const report = {
      generatedAt: new Date().toISOString(),
      mode: quick ? "quick" : "full",
      elapsedSeconds: Math.round((Date.now() - suiteStarted) / 1000),
      quietWaitSeconds: Math.round(quietWaitMs / 1000),
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? "unknown",
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      harness:
        "each system's wrangler bundle under Miniflare's HTTP server (workerd), state on disk; bench/run.ts",
      loadGenerator: `autocannon, ${settings.connections} connections, ${settings.seconds} s per run, median of ${settings.reps} interleaved runs (every other one in reverse system order); × floor is the median of the runs' paired ratios; open loop for lag`,
      settings,
      scenarios: SCENARIOS.map((s) => ({ name: s.name, description: s.description })),
      results: rows,
      projection,
    };
    const target = quick ? out : resolve(root, "docs");
    writeFileSync(resolve(target, "benchmarks.json"), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(resolve(target, "benchmarks-chart.svg"), renderChart(rows));
    const mdPath = resolve(target, "benchmarks.md");
    let existing = "";
    try {
      existing = readFileSync(mdPath, "utf8");
    } catch {
      existing = "";
    }
    writeFileSync(mdPath, renderTable(report, existing));
    // Aligned as the formatter wants it, so that a run leaves the tree as `npm run lint` expects.
    if (!quick) execFileSync("npx", ["biome", "format", "--write", mdPath], { cwd: root, stdio: "ignore" });
    console.log(
      renderTable(report, "").split("<!-- bench:begin -->")[1]?.split("<!-- bench:end -->")[0] ?? "",
    );
    const errors = rows.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) console.error(`${errors} requests failed across the runs`);
    console.error(`done in ${report.elapsedSeconds} s, ${report.quietWaitSeconds} s of it waiting for quiet`);
  } finally {
    await running?.stop();
  }
}

await main();
