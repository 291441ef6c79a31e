/**
 * `npx tsx bench/sagas.ts`: sagas end to end, on Cloudflare Workflows under Miniflare. Each rep runs, on fresh
 * state each, `--sagas` (default 200) of the declared `place-order` (reserve stock, charge a balance, create the
 * order) and as many ad-hoc sagas of three document steps, with at most `--concurrency` (default 16) in flight.
 * Each saga is read with `GET /v1/_sagas/{id}` until it is `completed`. Reports, per rep and as medians of
 * `--reps` (default 3): sagas completed per second, start-to-completed latency (p50/p99/max), the 202's latency,
 * and errors: a start not answered 202, a saga that compensates or fails, or one still running after 60 s.
 * The figures include the polling: each saga in flight is read every POLL_MS, so its completion is seen on
 * average half an interval late, and the reads take their share of the machine. Locally the workflow engine, the
 * document objects, D1 and the queue consumer share one workerd thread: these are this machine's figures, not
 * the platform's.
 * Options: --sagas=N --concurrency=N --reps=N
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "./lib/args";
import { AUTH_BINDINGS, authFetch } from "./lib/credential";
import { bundle, type RunningSystem, start } from "./lib/server";

const args = parseArgs();
const arg = (name: string, fallback: number) => Number(args.get(name) ?? fallback);
const SAGAS = arg("sagas", 200);
const CONCURRENCY = arg("concurrency", 16);
const REPS = arg("reps", 3);
/** The status reads of all sagas in flight together stay under this rate: each saga is read every POLL_MS. */
const MAX_POLLS_PER_SECOND = 200;
const POLL_MS = Math.max(50, Math.ceil((CONCURRENCY * 1000) / MAX_POLLS_PER_SECOND));
const SAGA_TIMEOUT_MS = 60_000;
/** The sagas share this many items, customers and counters: some contention on each document, as in a shop. */
const POOL = 16;
const root = resolve(import.meta.dirname, "..");
// Not wrangler's note at every start that it read .dev.vars, in the middle of the table.
process.env.WRANGLER_LOG ??= "warn";

type Kind = "place-order" | "ad-hoc";

interface Workload {
  /** Documents that must exist before the sagas start: [path, data]. */
  readonly seed: Array<[string, unknown]>;
  readonly path: string;
  readonly body: (i: number) => unknown;
}

const increment = (collection: string, id: string, value: number) => ({
  op: "patch",
  collection,
  id,
  patch: [{ op: "increment", path: "/count", value }],
});

const pool = Array.from({ length: POOL }, (_, k) => k);
const WORKLOADS: Record<Kind, Workload> = {
  "place-order": {
    seed: pool.flatMap(
      (k): Array<[string, unknown]> => [
        [`/v1/inventory/sku${k}`, { stock: SAGAS }],
        [`/v1/balances/cust${k}`, { balance: SAGAS * 10 }],
      ],
    ),
    path: "/v1/_sagas/place-order",
    body: (i) => ({
      orderId: `o${i}`,
      sku: `sku${i % POOL}`,
      quantity: 1,
      customer: `cust${i % POOL}`,
      amount: 10,
      payment: "balance",
    }),
  },
  // Create a note, update it, count it on a shared counter; each undone in reverse.
  "ad-hoc": {
    seed: pool.map((k): [string, unknown] => [`/v1/counters/c${k}`, { count: 0 }]),
    path: "/v1/_sagas",
    body: (i) => ({
      steps: [
        {
          name: "create",
          action: { op: "put", collection: "notes", id: `n${i}`, exists: false, data: { stage: "new" } },
          compensation: { op: "delete", collection: "notes", id: `n${i}`, exists: true },
        },
        {
          name: "update",
          action: { op: "patch", collection: "notes", id: `n${i}`, merge: { stage: "updated", saga: i } },
          compensation: { op: "patch", collection: "notes", id: `n${i}`, merge: { stage: "reverted" } },
        },
        {
          name: "count",
          action: increment("counters", `c${i % POOL}`, 1),
          compensation: increment("counters", `c${i % POOL}`, -1),
        },
      ],
    }),
  },
};

interface RunResult {
  readonly seconds: number;
  readonly completed: number[];
  readonly accepted: number[];
  readonly errors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = { "content-type": "application/json" };

/** One saga: its start, then its record read until it ends; the two latencies in ms, or why it failed. */
async function oneSaga(
  url: string,
  work: Workload,
  i: number,
): Promise<{ accepted: number; completed: number } | string> {
  const t0 = performance.now();
  const res = await authFetch(`${url}${work.path}`, {
    method: "POST",
    headers: json,
    body: JSON.stringify(work.body(i)),
  });
  const accepted = performance.now() - t0;
  if (res.status !== 202) return `start answered ${res.status} ${(await res.text()).slice(0, 200)}`;
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    await sleep(POLL_MS);
    const view = await authFetch(`${url}/v1/_sagas/${id}`);
    if (!view.ok) return `GET /v1/_sagas/${id} answered ${view.status} ${(await view.text()).slice(0, 200)}`;
    const { status, reason } = (await view.json()) as { status: string; reason: string | null };
    if (status === "completed") return { accepted, completed: performance.now() - t0 };
    if (status !== "running") return `saga ${id} is ${status}: ${reason}`;
    if (performance.now() - t0 > SAGA_TIMEOUT_MS)
      return `saga ${id} still running after ${SAGA_TIMEOUT_MS} ms`;
  }
}

/** The running system and its state directory, so that an exit (Ctrl-C, a crash) removes the state. */
let current: { persist: string; system?: RunningSystem } | undefined;

async function stopCurrent(): Promise<void> {
  const running = current;
  current = undefined;
  if (running === undefined) return;
  try {
    await running.system?.stop();
  } finally {
    rmSync(running.persist, { recursive: true, force: true });
  }
}

/** One measurement on fresh state: seed the documents, then SAGAS sagas, CONCURRENCY at a time. */
async function run(script: string, kind: Kind): Promise<RunResult> {
  const persist = mkdtempSync(join(tmpdir(), "tessera-sagas-"));
  const running: { persist: string; system?: RunningSystem } = { persist };
  current = running;
  try {
    const system = await start(
      {
        config: "wrangler.toml",
        migrationsDir: "migrations",
        bindings: { ...AUTH_BINDINGS, LOG_LEVEL: "off" },
      },
      script,
      // Port 0: any free port, out of the way of other harnesses on this machine.
      { port: 0, persistDir: persist, fresh: true },
    );
    running.system = system;
    const work = WORKLOADS[kind];
    for (const [path, data] of work.seed) {
      const res = await authFetch(`${system.url}${path}`, {
        method: "PUT",
        headers: json,
        body: JSON.stringify(data),
      });
      if (!res.ok) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    const result: RunResult = { seconds: 0, completed: [], accepted: [], errors: [] };
    let next = 0;
    const client = async () => {
      for (let i = next++; i < SAGAS; i = next++) {
        const outcome = await oneSaga(system.url, work, i).catch((error: unknown) => String(error));
        if (typeof outcome === "string") {
          result.errors.push(outcome);
          continue;
        }
        result.accepted.push(outcome.accepted);
        result.completed.push(outcome.completed);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, SAGAS) }, client));
    return { ...result, seconds: (performance.now() - started) / 1000 };
  } finally {
    await stopCurrent();
  }
}

/** The nearest-rank quantile (NaN of none). */
const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);

interface Row {
  rate: number;
  p50: number;
  p99: number;
  max: number;
  start50: number;
  start99: number;
  errors: number;
}

function summary(r: RunResult): Row {
  return {
    rate: r.completed.length / r.seconds,
    p50: quantile(r.completed, 0.5),
    p99: quantile(r.completed, 0.99),
    max: quantile(r.completed, 1),
    start50: quantile(r.accepted, 0.5),
    start99: quantile(r.accepted, 0.99),
    errors: r.errors.length,
  };
}

const COLUMNS = ["sagas/s", "p50", "p99", "max", "202 p50", "202 p99", "errors"];
const line = (label: string, row: Row) =>
  label.padEnd(22) +
  [row.rate.toFixed(1), row.p50, row.p99, row.max, row.start50, row.start99, row.errors]
    .map((v) => (typeof v === "number" ? v.toFixed(0) : v).padStart(8))
    .join("");

async function main() {
  const script = bundle({ config: "wrangler.toml" }, resolve(root, "bench/.out/sagas-bundle"));
  console.log(
    `${SAGAS} sagas per run, ${CONCURRENCY} in flight, each read every ${POLL_MS} ms, fresh state per run. ` +
      "sagas/s: completed, from the first start to the last completion; p50/p99/max: start to completed, ms; " +
      "202: the start's answer, ms\n",
  );
  console.log(`${"".padEnd(22)}${COLUMNS.map((c) => c.padStart(8)).join("")}`);
  const rows: Record<Kind, Row[]> = { "place-order": [], "ad-hoc": [] };
  for (let rep = 0; rep < REPS; rep++) {
    // Alternating which goes first, so that neither always runs on a warmer machine.
    const kinds: Kind[] = rep % 2 === 0 ? ["place-order", "ad-hoc"] : ["ad-hoc", "place-order"];
    for (const kind of kinds) {
      const r = await run(script, kind);
      const row = summary(r);
      rows[kind].push(row);
      console.log(line(`run ${rep + 1}, ${kind}`, row));
      if (r.errors[0] !== undefined) console.log(`  first error: ${r.errors[0]}`);
    }
  }
  for (const kind of ["place-order", "ad-hoc"] as const) {
    const pick = (f: (row: Row) => number) => median(rows[kind].map(f));
    const medians: Row = {
      rate: pick((r) => r.rate),
      p50: pick((r) => r.p50),
      p99: pick((r) => r.p99),
      max: pick((r) => r.max),
      start50: pick((r) => r.start50),
      start99: pick((r) => r.start99),
      errors: pick((r) => r.errors),
    };
    console.log(line(`median, ${kind}`, medians));
  }
}

// On Ctrl-C, wrangler's and Miniflare's own handlers stop workerd and exit at once: the state goes with them.
process.on("exit", () => {
  if (current !== undefined) rmSync(current.persist, { recursive: true, force: true });
});
await main();
