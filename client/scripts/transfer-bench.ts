/**
 * Export and import at scale, end to end through the CLI: the Worker bundled by wrangler and run by Miniflare
 * (bench/lib/server.ts), N documents (default 100,000) imported into a tenant, exported, imported into an empty
 * tenant and exported again, the two exports compared document by document. Prints each step's time and rate.
 *
 *   npx tsx client/scripts/transfer-bench.ts [--documents 100000] [--chunk-lines 500] [--rate 0] [--settle 0]
 *
 * One workerd process holds every document's object here, and its SQLite memory is process-wide: past about
 * 2,500 live objects their writes fail with SQLITE_NOMEM until idle ones are evicted, and each stays live a few
 * seconds after a write, until its outbox has seen the event in the feed. So with `--settle L` the bench pauses the
 * CLI (SIGSTOP) after every L lines it has sent, until the read model has caught up and those objects went idle,
 * then lets it go on (SIGCONT); the import's time is reported with and without those pauses. On Cloudflare each
 * object runs on its own, and none of this applies.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { HARNESS_ADMIN_SECRET } from "../../bench/lib/credential";
import { bundle, start } from "../../bench/lib/server";

const root = resolve(import.meta.dirname, "../..");
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const N = arg("documents", 100_000);
const CHUNK = arg("chunk-lines", 500);
const PORT = arg("port", 8931);
const RATE = arg("rate", 0);
const SETTLE = arg("settle", 0);
const pace = RATE > 0 ? ["--rate", String(RATE)] : [];
const work = mkdtempSync(join(tmpdir(), "tessera-transfer-"));
const cli = join(root, "client/dist/cli/main.js");

execFileSync("npm", ["run", "build", "-w", "client"], { cwd: root, stdio: "ignore" });
const script = bundle({ config: "wrangler.toml" }, join(root, ".wrangler", "transfer-bench"));
const spec = {
  config: "wrangler.toml",
  migrationsDir: "migrations",
  bindings: { LOG_LEVEL: "off", TESSERA_ADMIN_SECRET: HARNESS_ADMIN_SECRET },
};
const state = join(work, "state");
const server = await start(spec, script, { port: PORT, persistDir: state, fresh: true });
const url = server.url;

async function tessera(
  key: string,
  args: string[],
): Promise<{ seconds: number; stdout: string; stderr: string }> {
  const started = Date.now();
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      TESSERA_URL: url,
      TESSERA_KEY: key,
      TESSERA_CONFIG_DIR: join(work, "config"),
    },
    maxBuffer: 1024 * 1024 * 1024,
  });
  return { seconds: (Date.now() - started) / 1000, stdout, stderr };
}

async function keyFor(tenant: string): Promise<string> {
  const res = await fetch(`${url}/v1/_admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${HARNESS_ADMIN_SECRET}`, "content-type": "application/json" },
    body: JSON.stringify({
      tenant,
      scopes: ["read", "write", "admin"],
      name: "transfer bench",
      rateLimit: "none",
    }),
  });
  return ((await res.json()) as { key: string }).key;
}

/** Waits until the tenant's read model holds `n` documents; returns the seconds waited. */
async function projected(key: string, n: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${url}/v1/_stats`, {
        headers: { authorization: `Bearer ${key}`, connection: "close" },
      });
      const { documents } = (await res.json()) as { documents: number };
      if (documents >= n) return (Date.now() - started) / 1000;
    } catch {
      // the service is restarting
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

const documentsOf = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .slice(1, -1)
    .map((line) => {
      const { collection, id, data } = JSON.parse(line) as { collection: string; id: string; data: unknown };
      return JSON.stringify([collection, id, data]);
    });

const rate = (n: number, s: number) => Math.round(n / s);

/** The lines the CLI's import has sent, and the documents they wrote, from its saved progress. */
function progressOf(): { sent: number; documents: number } {
  const dir = join(work, "config", "imports");
  const [file] = existsSync(dir) ? readdirSync(dir) : [];
  if (file === undefined) return { sent: 0, documents: 0 };
  try {
    const saved = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
      nextLine: number;
      written: number;
      replayed: number;
    };
    return { sent: saved.nextLine - 1, documents: saved.written + saved.replayed };
  } catch {
    return { sent: 0, documents: 0 };
  }
}

async function importInto(key: string, file: string, what: string) {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [cli, "import", file, "--chunk-lines", String(CHUNK), ...pace, "--json", "--quiet"],
    {
      env: {
        PATH: process.env.PATH ?? "",
        TESSERA_URL: url,
        TESSERA_KEY: key,
        TESSERA_CONFIG_DIR: join(work, "config"),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  let paused = 0;
  let pauses = 0;
  if (SETTLE > 0) {
    let mark = SETTLE;
    let done = false;
    void exited.then(() => {
      done = true;
    });
    while (!done) {
      await new Promise((r) => setTimeout(r, 250));
      const { sent, documents } = progressOf();
      if (done || sent < mark) continue;
      const stop = Date.now();
      child.kill("SIGSTOP");
      await projected(key, documents);
      // Objects go idle and are evicted a few seconds after their outbox confirmed the event.
      await new Promise((r) => setTimeout(r, 15_000));
      child.kill("SIGCONT");
      paused += Date.now() - stop;
      pauses += 1;
      mark = sent + SETTLE;
    }
  }
  const code = await exited;
  const seconds = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`the import exited ${code}`);
  const summary = JSON.parse(stdout) as { written: number; replayed: number; refused: number };
  const active = seconds - paused / 1000;
  console.log(
    `${what}: ${seconds.toFixed(1)} s, ${rate(N, seconds)} documents/s` +
      (pauses > 0
        ? `; ${active.toFixed(1)} s and ${rate(N, active)} documents/s without its ${pauses} pauses`
        : "") +
      ` (written ${summary.written}, replayed ${summary.replayed}, refused ${summary.refused})`,
  );
  console.log(`  the read model caught up ${(await projected(key, N)).toFixed(1)} s after the import ended`);
  rmSync(join(work, "config", "imports"), { recursive: true, force: true });
}

try {
  const [a, b] = [await keyFor("transfer-a"), await keyFor("transfer-b")];
  const source = join(work, "source.ndjson");
  const rows: string[] = [];
  for (let i = 0; i < N; i++) {
    const data = {
      n: i,
      name: `item ${i}`,
      price: (i % 1000) / 10,
      tags: ["bench", `t${i % 13}`],
      active: i % 2 === 0,
    };
    const collection = i % 10 === 0 ? "orders" : "items";
    rows.push(JSON.stringify({ collection, id: `d-${String(i).padStart(7, "0")}`, data }));
  }
  writeFileSync(source, `${rows.join("\n")}\n`);
  console.log(
    `transfer: ${N} documents, ${(readFileSync(source).length / 1e6).toFixed(1)} MB of NDJSON, chunks of ${CHUNK} ` +
      `lines${RATE > 0 ? `, at most ${RATE} lines/s` : ""}${SETTLE > 0 ? `, pausing every ${SETTLE} lines for the local runtime` : ""}`,
  );
  await importInto(a, source, "import into an empty tenant");

  const exportA = join(work, "a.ndjson");
  const exported = await tessera(a, ["export", "--output", exportA, "--quiet"]);
  console.log(
    `export: ${exported.seconds.toFixed(1)} s, ${rate(N, exported.seconds)} documents/s, ${(readFileSync(exportA).length / 1e6).toFixed(1)} MB`,
  );

  await importInto(b, exportA, "import of the export into an empty tenant");
  const exportB = join(work, "b.ndjson");
  const again = await tessera(b, ["export", "--output", exportB, "--quiet"]);
  console.log(`export again: ${again.seconds.toFixed(1)} s, ${rate(N, again.seconds)} documents/s`);
  const [before, after] = [documentsOf(exportA), documentsOf(exportB)];
  const same = before.length === N && after.length === N && before.every((d, i) => d === after[i]);
  console.log(
    `round trip: ${same ? "identical" : "DIFFERENT"} (${before.length} and ${after.length} documents)`,
  );
  process.exitCode = same ? 0 : 1;
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
