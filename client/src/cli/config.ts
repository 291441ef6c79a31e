/**
 * Where the CLI keeps its login and its imports' progress: the user's config directory (XDG_CONFIG_HOME or
 * ~/.config on Linux, ~/Library/Application Support on macOS, %APPDATA% on Windows; TESSERA_CONFIG_DIR overrides
 * it), readable by its owner only: the directory 700, the files 600.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, platform } from "node:os";
import { join } from "node:path";

export interface Login {
  readonly url: string;
  readonly key: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TESSERA_CONFIG_DIR) return env.TESSERA_CONFIG_DIR;
  const home = homedir();
  switch (platform()) {
    case "win32":
      return join(env.APPDATA ?? join(home, "AppData", "Roaming"), "tessera");
    case "darwin":
      return join(home, "Library", "Application Support", "tessera");
    default:
      return join(env.XDG_CONFIG_HOME || join(home, ".config"), "tessera");
  }
}

export const loginPath = () => join(configDir(), "config.json");

/** Writes `text` to `path` readable by its owner only, atomically (a reader never sees half a file). */
export function writePrivate(path: string, text: string): void {
  const dir = join(path, "..");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function readLogin(): Login | undefined {
  try {
    const parsed = JSON.parse(readFileSync(loginPath(), "utf8")) as Partial<Login>;
    return typeof parsed.url === "string" && typeof parsed.key === "string"
      ? { url: parsed.url, key: parsed.key }
      : undefined;
  } catch {
    return undefined;
  }
}

export function saveLogin(login: Login): string {
  const path = loginPath();
  writePrivate(path, `${JSON.stringify(login, null, 2)}\n`);
  return path;
}

export function removeLogin(): boolean {
  try {
    rmSync(loginPath());
    return true;
  } catch {
    return false;
  }
}

/** An import's progress: the next line to send, kept after each chunk the service answered. */
export interface ImportState {
  readonly file: string;
  readonly nextLine: number;
  readonly written: number;
  readonly replayed: number;
  readonly skipped: number;
  readonly refused: number;
}

const importPath = (importId: string) => join(configDir(), "imports", `${importId}.json`);

export function readImportState(importId: string): ImportState | undefined {
  try {
    return JSON.parse(readFileSync(importPath(importId), "utf8")) as ImportState;
  } catch {
    return undefined;
  }
}

export function saveImportState(importId: string, state: ImportState): void {
  writePrivate(importPath(importId), JSON.stringify(state));
}

export function clearImportState(importId: string): void {
  rmSync(importPath(importId), { force: true });
}
