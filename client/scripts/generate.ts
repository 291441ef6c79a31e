/**
 * Generates the client's wire types from the OpenAPI document (docs/openapi.json, which `npm run openapi` writes
 * from the Worker's route table) with openapi-typescript, into src/generated/openapi.ts. `--check` writes nothing
 * and fails when the file is not what the document produces (`npm run check` runs it through client:check), so
 * the client's types cannot drift from the API.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";

const DOCUMENT = fileURLToPath(new URL("../../docs/openapi.json", import.meta.url));
export const GENERATED = fileURLToPath(new URL("../src/generated/openapi.ts", import.meta.url));

const HEADER = `/**
 * Generated from docs/openapi.json by client/scripts/generate.ts (openapi-typescript): do not edit.
 * Regenerate with \`npm run client:generate\` after \`npm run openapi\`.
 */
`;

/** The generated module's text, from the document as docs/openapi.json holds it. */
export async function generatedText(): Promise<string> {
  const document = JSON.parse(readFileSync(DOCUMENT, "utf8")) as OpenAPI3;
  const ast = await openapiTS(document, { silent: true, exportType: true });
  return HEADER + astToString(ast);
}

async function main(args: readonly string[]): Promise<number> {
  const text = await generatedText();
  if (args.includes("--check")) {
    let current: string | undefined;
    try {
      current = readFileSync(GENERATED, "utf8");
    } catch {
      current = undefined;
    }
    if (current === text) return 0;
    console.error("client/src/generated/openapi.ts is stale: run npm run client:generate");
    return 1;
  }
  writeFileSync(GENERATED, text);
  console.log(`wrote client/src/generated/openapi.ts (${text.length} bytes)`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
