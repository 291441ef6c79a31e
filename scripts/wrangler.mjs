#!/usr/bin/env node
// Runs the project's wrangler with what every script needs: no metrics upload (send_metrics in wrangler.toml
// does not stop it for every command) and no Request.cf lookup over the network. `node scripts/wrangler.mjs <args>`.
import { spawnSync } from "node:child_process";

export const OFFLINE_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

const result = spawnSync("npx", ["--no-install", "wrangler", ...process.argv.slice(2)], {
  env: { ...process.env, ...OFFLINE_ENV },
  stdio: "inherit",
});
process.exit(result.status ?? 1);
