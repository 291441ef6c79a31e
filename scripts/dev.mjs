#!/usr/bin/env node
// `npm run dev`: prepares local state (D1 migrations), then runs `wrangler dev` offline, passing extra arguments
// through (`npm run dev -- --port 8790 --ip 127.0.0.1`).
import { spawn, spawnSync } from "node:child_process";

const env = {
  ...process.env,
  // No Request.cf lookup over the network, no telemetry prompt: the service runs with no account and no network.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
};
const wrangler = ["exec", "--", "wrangler"];

// A mistake in domain/collections.ts is named here, in one line, before wrangler starts.
const collections = spawnSync("npm", ["run", "--silent", "collections"], { env, stdio: "inherit" });
if (collections.status !== 0) process.exit(collections.status ?? 1);

// stdin is not a terminal here, so wrangler applies local migrations without asking "continue? (Y/n)".
const migrate = spawnSync("npm", [...wrangler, "d1", "migrations", "apply", "DB", "--local"], {
  env,
  stdio: ["ignore", "inherit", "inherit"],
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn("npm", [...wrangler, "dev", ...process.argv.slice(2)], { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
