/** Another commit of this repository, checked out beside it (sharing node_modules), to benchmark against. */
import { execFileSync } from "node:child_process";
import { existsSync, symlinkSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

/** The directory of a checkout of `ref` under bench/.state/ab, created or moved to `ref` as needed. */
export function worktree(ref: string): string {
  const dir = resolve(root, "bench/.state/ab", ref.replace(/[^A-Za-z0-9._-]/g, "_"));
  // Resolved here: inside the worktree, a name like HEAD would mean the worktree's own HEAD.
  const commit = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  if (!existsSync(dir)) execFileSync("git", ["worktree", "add", "--detach", dir, commit], { cwd: root });
  else execFileSync("git", ["checkout", "--detach", commit], { cwd: dir });
  if (!existsSync(resolve(dir, "node_modules"))) {
    symlinkSync(resolve(root, "node_modules"), resolve(dir, "node_modules"));
  }
  return dir;
}
