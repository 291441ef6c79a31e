#!/usr/bin/env node
// Fails when worker-configuration.d.ts is not what `npm run types` makes of wrangler.toml and secrets.example.env.
// `wrangler types --check` cannot be trusted for this: wrangler 4.86 recomputes the hash without the --env-file the
// file was made with, so it reports every file with secrets as out of date. Regenerate, compare, put the file back.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const FILE = "worker-configuration.d.ts";
const committed = readFileSync(FILE, "utf8");
const run = spawnSync("npm", ["run", "--silent", "types"], { stdio: ["ignore", "ignore", "inherit"] });
const fresh = readFileSync(FILE, "utf8");
writeFileSync(FILE, committed);
if (run.status !== 0) {
  console.error("types:check: wrangler types failed");
  process.exit(run.status ?? 1);
}
if (fresh !== committed) {
  console.error(`types:check: ${FILE} is out of date with wrangler.toml; run npm run types and commit it`);
  process.exit(1);
}
console.log(`types:check: ${FILE} is up to date`);
