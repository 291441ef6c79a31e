/**
 * `npm run bench:databases`: the projection drain with the read model in one D1 database and in two, side by side
 * in one run (alternating, 3 runs each). Eight tenants write, four of them placed in each database when there are
 * two; 32 clients write `--events` (default 4,000) documents as fast as they go, and the drain is timed from the
 * first write until the read model holds every event; then every tenant is rebuilt from the archive, timed from
 * start to done. Reports each run, the medians and their ratio.
 * Options: --events=N --reps=N
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { defaultBinding } from "../domain/placement";
import { HARNESS_ADMIN_SECRET } from "./lib/credential";
import { benchDocument } from "./lib/payload";
import { bundle } from "./lib/server";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const EVENTS = arg("events", 4_000);
const REPS = arg("reps", 3);
const CONNECTIONS = 32;
const TENANTS = 8;
const root = resolve(import.meta.dirname, "..");
const operator = { authorization: `Bearer ${HARNESS_ADMIN_SECRET}` };

/** Eight tenant names, four of which the hash places in each of two databases. */
function tenants(): string[] {
  const picked: Record<string, string[]> = { DB: [], DB2: [] };
  for (let i = 0; (picked.DB?.length ?? 0) + (picked.DB2?.length ?? 0) < TENANTS; i++) {
    const name = `drain${i}`;
    const home = picked[defaultBinding(["DB", "DB2"], name)];
    if (home !== undefined && home.length < TENANTS / 2) home.push(name);
  }
  return [...(picked.DB ?? []), ...(picked.DB2 ?? [])];
}

async function startTessera(script: string, databases: 1 | 2, persist: string) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(root, "wrangler.toml"));
  const d1 = workerOptions.d1Databases as Record<string, string>;
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 9480,
    cf: false,
    defaultPersistRoot: persist,
    log: new Log(LogLevel.WARN),
    workers: [
      {
        ...workerOptions,
        name: "main",
        modules: true,
        scriptPath: script,
        d1Databases: { ...d1, DB2: "tessera-read-model-2" },
        bindings: {
          ...workerOptions.bindings,
          LOG_LEVEL: "off",
          TESSERA_ADMIN_SECRET: HARNESS_ADMIN_SECRET,
          READ_MODEL_DATABASES: databases === 1 ? "DB" : "DB,DB2",
        },
      },
    ],
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  for (const binding of ["DB", "DB2"]) {
    const db = await mf.getD1Database(binding);
    const dir = resolve(root, "migrations");
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort()) {
      for (const statement of unstable_splitSqlQuery(readFileSync(join(dir, file), "utf8"))) {
        await db.prepare(statement).run();
      }
    }
  }
  return { url, mf };
}

async function keyFor(url: string, tenant: string): Promise<string> {
  const res = await fetch(`${url}/v1/_admin/keys`, {
    method: "POST",
    headers: { ...operator, "content-type": "application/json" },
    body: JSON.stringify({ tenant, scopes: ["read", "write"], name: "drain bench", rateLimit: "none" }),
  });
  if (res.status !== 201) throw new Error(`making a key for ${tenant}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

async function projected(url: string): Promise<number> {
  const res = await fetch(`${url}/v1/_stats`, { headers: operator });
  if (!res.ok) throw new Error(`stats: ${res.status}`);
  return ((await res.json()) as { eventsProjected: number }).eventsProjected;
}

interface RebuildView {
  status: string;
  progress: { eventsRead: number; eventsPerSecond: number | null };
}

/**
 * A rebuild of every tenant from the archive, once the drain is done: seconds from start to done (which includes
 * its two 5 s waits for the projectors), and the scan's own rate as the rebuild reports it.
 */
async function rebuild(
  url: string,
): Promise<{ seconds: number; eventsRead: number; scanRate: number | null }> {
  const started = Date.now();
  const res = await fetch(`${url}/v1/_admin/rebuild`, {
    method: "POST",
    headers: { ...operator, "content-type": "application/json" },
    body: "{}",
  });
  if (res.status !== 202) throw new Error(`starting a rebuild: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    const view = (await (
      await fetch(`${url}/v1/_admin/rebuild/${id}`, { headers: operator })
    ).json()) as RebuildView;
    if (view.status === "done") {
      return {
        seconds: (Date.now() - started) / 1000,
        eventsRead: view.progress.eventsRead,
        scanRate: view.progress.eventsPerSecond,
      };
    }
    if (view.status === "failed" || view.status === "cancelled")
      throw new Error(`the rebuild ${view.status}`);
    if (Date.now() - started > 600_000) throw new Error("the rebuild did not finish in 10 minutes");
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One run: events per second from the first write until every event is projected; then a rebuild of it all. */
async function run(script: string, databases: 1 | 2) {
  const persist = mkdtempSync(join(tmpdir(), "tessera-drain-"));
  const { url, mf } = await startTessera(script, databases, persist);
  try {
    const names = tenants();
    const keys = await Promise.all(names.map((t) => keyFor(url, t)));
    const before = await projected(url);
    const started = Date.now();
    let next = 0;
    const client = async () => {
      for (;;) {
        const i = next++;
        if (i >= EVENTS) return;
        const res = await fetch(`${url}/v1/bench/d${i % 500}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${keys[i % keys.length]}`, "content-type": "application/json" },
          body: benchDocument(),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`a write answered ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, client));
    const deadline = Date.now() + 300_000;
    while ((await projected(url)) < before + EVENTS) {
      if (Date.now() > deadline) throw new Error("the drain did not finish in 5 minutes");
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    return { eventsPerSecond: EVENTS / seconds, seconds, rebuild: await rebuild(url) };
  } finally {
    await mf.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function main() {
  const script = bundle({ config: "wrangler.toml" }, resolve(root, "bench/.out/databases-bundle"));
  const results: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const rebuilds: Record<1 | 2, number[]> = { 1: [], 2: [] };
  for (let rep = 0; rep < REPS; rep++) {
    // Alternating which goes first, so that neither always runs on a warmer machine.
    for (const databases of rep % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
      const r = await run(script, databases);
      results[databases].push(r.eventsPerSecond);
      rebuilds[databases].push(r.rebuild.seconds);
      console.log(
        `run ${rep + 1}, ${databases} database${databases === 1 ? "" : "s"}: drain ${EVENTS} events in ${r.seconds.toFixed(2)} s = ${r.eventsPerSecond.toFixed(0)} events/s; ` +
          `rebuild of all ${r.rebuild.eventsRead} events in ${r.rebuild.seconds.toFixed(1)} s (scan ${r.rebuild.scanRate ?? "?"} events/s)`,
      );
    }
  }
  const one = median(results[1]);
  const two = median(results[2]);
  console.log(
    `\nprojection drain, median of ${REPS}: one database ${one.toFixed(0)} events/s, two ${two.toFixed(0)} events/s, ratio ${(two / one).toFixed(2)}`,
  );
  console.log(
    `rebuild of everything, median of ${REPS}: one database ${median(rebuilds[1]).toFixed(1)} s, two ${median(rebuilds[2]).toFixed(1)} s`,
  );
}

await main();
