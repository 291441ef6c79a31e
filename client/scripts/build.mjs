// Compiles src/ to dist/ (ESM and declarations) in a fresh directory, then swaps it in: a stale file never ships
// and dist/ is never missing for more than a rename (a CLI started meanwhile still finds it).
import { execFileSync } from "node:child_process";
import { renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync("dist.next", { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", "dist.next"], {
  stdio: "inherit",
});
rmSync("dist.old", { recursive: true, force: true });
try {
  renameSync("dist", "dist.old");
} catch {
  // the first build: no dist yet
}
renameSync("dist.next", "dist");
rmSync("dist.old", { recursive: true, force: true });
