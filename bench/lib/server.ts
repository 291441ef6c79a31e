/**
 * Runs a Worker the way production runs it, minus the network: the bundle `wrangler deploy --dry-run` builds,
 * the bindings wrangler derives from its config, on Miniflare's own HTTP server (no `wrangler dev` proxy hop),
 * with state persisted on disk.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { signIn } from "./credential";

export interface SystemSpec {
  /** Path of the wrangler config, relative to the repository root. */
  readonly config: string;
  /** Entry to bundle instead of the config's `main` (the chaos harness uses its own). */
  readonly entry?: string;
  readonly migrationsDir?: string;
  readonly bindings?: Record<string, string>;
  /** The checkout to build from (default: this repository); bench:cpu compares two. */
  readonly root?: string;
  /** What messages call the system (default: its config and checkout). */
  readonly label?: string;
}

export interface RunningSystem {
  readonly url: string;
  readonly mf: Miniflare;
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, "../..");
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

function bundleArgs(spec: SystemSpec, outdir: string): string[] {
  rmSync(outdir, { recursive: true, force: true });
  const args = ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "--config", spec.config];
  if (spec.entry !== undefined) args.push(spec.entry);
  return args;
}

function bundlePath(outdir: string): string {
  // The bundle is named after its entry (index.js, worker.js, ...).
  const name = existsSync(outdir) ? readdirSync(outdir).find((f) => f.endsWith(".js")) : undefined;
  if (name === undefined) throw new Error(`wrangler produced no bundle in ${outdir}`);
  return join(outdir, name);
}

/** Bundles a Worker with wrangler into `outdir`; returns the bundle's path. */
export function bundle(spec: SystemSpec, outdir: string): string {
  const args = bundleArgs(spec, outdir);
  execFileSync("npx", args, { cwd: spec.root ?? root, env, stdio: ["ignore", "ignore", "inherit"] });
  return bundlePath(outdir);
}

/** bundle(), without blocking: several Workers bundle at once. */
export async function bundleAsync(spec: SystemSpec, outdir: string): Promise<string> {
  const args = bundleArgs(spec, outdir);
  await promisify(execFile)("npx", args, { cwd: spec.root ?? root, env });
  return bundlePath(outdir);
}

/**
 * Starts a bundled Worker on 127.0.0.1:`port` with its state under `persistDir` (kept across restarts). A system
 * given an operator secret (TESSERA_ADMIN_SECRET: Tessera) is signed in to at every start, and the harness's
 * requests to it carry the credential from then on (./credential).
 */
export async function start(
  spec: SystemSpec,
  script: string,
  options: { port: number; persistDir: string; fresh: boolean; inspectorPort?: number },
): Promise<RunningSystem> {
  if (options.fresh) rmSync(options.persistDir, { recursive: true, force: true });
  const base = spec.root ?? root;
  const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(base, spec.config));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: options.port,
    cf: false,
    defaultPersistRoot: options.persistDir,
    log: new Log(process.env.BENCH_LOG === "info" ? LogLevel.INFO : LogLevel.WARN),
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    workers: [
      {
        ...workerOptions,
        name: "main",
        modules: true,
        scriptPath: script,
        bindings: { ...workerOptions.bindings, ...spec.bindings },
      },
    ],
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  if (options.fresh && spec.migrationsDir !== undefined) await migrate(mf, resolve(base, spec.migrationsDir));
  if (spec.bindings?.TESSERA_ADMIN_SECRET !== undefined) {
    try {
      await signIn(url, spec.label ?? `${spec.config} in ${base}`, options.fresh);
    } catch (error) {
      await mf.dispose();
      throw error;
    }
  }
  return { url, mf, stop: () => mf.dispose() };
}

/** Applies D1 migrations (what `wrangler d1 migrations apply --local` does) to a fresh database. */
async function migrate(mf: Miniflare, dir: string): Promise<void> {
  const db = await mf.getD1Database("DB");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    for (const statement of unstable_splitSqlQuery(readFileSync(join(dir, file), "utf8"))) {
      await db.prepare(statement).run();
    }
  }
}
