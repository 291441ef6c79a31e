/**
 * Writes the OpenAPI document the app describes itself with (what GET /openapi.json serves) to docs/openapi.json,
 * for clients and code generators that work from a file. `--check` writes nothing and fails when the file is not
 * what the code produces (npm run check runs it).
 *
 * Runs in plain Node (tsx): nothing the app imports needs workerd at import time; the Worker types are erased.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "../workers/app";
import { openApiDocument } from "../workers/routes/system";

export const DOCUMENT_PATH = fileURLToPath(new URL("../docs/openapi.json", import.meta.url));

/** The document as docs/openapi.json holds it: pretty-printed, with a trailing newline. */
export function documentText(): string {
  return `${JSON.stringify(openApiDocument(createApp()), null, 2)}\n`;
}

function currentText(): string | undefined {
  try {
    return readFileSync(DOCUMENT_PATH, "utf8");
  } catch {
    return undefined;
  }
}

function main(args: readonly string[]): number {
  const text = documentText();
  if (args.includes("--check")) {
    if (currentText() === text) return 0;
    console.error("docs/openapi.json is stale: run npm run openapi");
    return 1;
  }
  writeFileSync(DOCUMENT_PATH, text);
  console.log(`wrote docs/openapi.json (${text.length} bytes)`);
  return 0;
}

// Run as a script, not when a test imports documentText.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = main(process.argv.slice(2));
}
