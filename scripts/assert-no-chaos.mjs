#!/usr/bin/env node
// Proves the production bundle carries no fault injection: the chaos harness's code and bindings all say "chaos"
// (bench/chaos/entry.ts), and the production entry never imports it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "dist";
const bundles = readdirSync(dir).filter((f) => f.endsWith(".js"));
if (bundles.length === 0) {
  console.error(`no bundle in ${dir}`);
  process.exit(1);
}
for (const file of bundles) {
  const text = readFileSync(join(dir, file), "utf8");
  const hit = /CHAOS_|chaos:/.exec(text);
  if (hit !== null) {
    console.error(
      `${join(dir, file)} contains fault injection (${hit[0]}); the production entry must not import bench/chaos`,
    );
    process.exit(1);
  }
}
console.log(`${bundles.join(", ")}: no fault injection`);
