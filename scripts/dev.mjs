#!/usr/bin/env node
// `npm run dev`: prepares local state (D1 migrations), then runs `wrangler dev` offline, passing extra arguments
// through (`npm run dev -- --port 8790 --ip 127.0.0.1`).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

const env = {
  ...process.env,
  // No Request.cf lookup over the network, no telemetry prompt: the service runs with no account and no network.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
};
const wrangler = ["exec", "--", "wrangler"];

// The operator secret: made once, kept in .dev.vars (which git ignores), shown on every start so that the README's
// examples can use it. In production it is a secret: `wrangler secret put TESSERA_ADMIN_SECRET`.
const devVars = resolve(import.meta.dirname, "..", ".dev.vars");
if (!existsSync(devVars) || !/^TESSERA_ADMIN_SECRET=/m.test(readFileSync(devVars, "utf8"))) {
  const secret = randomBytes(24).toString("base64url");
  const before = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
  writeFileSync(
    devVars,
    `${before}${before === "" || before.endsWith("\n") ? "" : "\n"}# Made by npm run dev; never commit this file.\nTESSERA_ADMIN_SECRET=${secret}\n`,
    { mode: 0o600 },
  );
  console.log(`npm run dev: made an operator secret in ${devVars}`);
}
const adminSecret = /^TESSERA_ADMIN_SECRET=(.*)$/m.exec(readFileSync(devVars, "utf8"))?.[1]?.trim() ?? "";
console.log(
  `npm run dev: the operator secret is in .dev.vars: export ADMIN=$(sed -n 's/^TESSERA_ADMIN_SECRET=//p' .dev.vars)`,
);
if (adminSecret.length < 16)
  console.warn("npm run dev: TESSERA_ADMIN_SECRET in .dev.vars is under 16 characters; it is refused");

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
