/**
 * The OpenAPI document as a client sees it: docs/openapi.json is what the code produces, a standard linter
 * (Redocly's recommended rules) finds nothing in it that is not accepted below with a reason, every operation
 * has a unique operationId, and the types openapi-typescript generates from it give openapi-fetch a client in
 * which a collection query with where, order and cursor type-checks and an unknown parameter does not.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { DOCUMENT_PATH, documentText } from "../../scripts/openapi";

const text = documentText();
const document = JSON.parse(text) as OpenAPI3;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** Every operation in the document, with where it is. */
function operations() {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = (item as Partial<Record<(typeof METHODS)[number], { operationId?: string }>>)[method];
      return operation === undefined ? [] : [{ path, method, operationId: operation.operationId }];
    }),
  );
}

/** A JSON Pointer into the document, as the linter reports locations. */
const pointer = (...segments: string[]) =>
  `#/${segments.map((s) => s.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;

/** Recommended rules turned off for the whole document, each with why. */
const RULES_OFF: Record<string, string> = {
  // The one server is `npm run dev`'s, on purpose: a deployment's hostname is its deployer's to choose.
  "no-server-example.com": "the documented server is the local dev server",
};

/**
 * Findings accepted where they are, by operationId (so a new route is still held to the rule), with why: these
 * operations are public and take no parameters and no body, so there is no 4xx they can answer; declaring one
 * would make a generated client handle an error that never comes.
 */
const NO_4XX: Record<string, string> = {
  getHealth: "liveness: public, no input",
  getOpenApi: "this document: public, no input",
  getReadiness: "readiness: public, no input (a failed check is its 503)",
};

describe("the OpenAPI document", () => {
  it("is what docs/openapi.json holds", () => {
    const onDisk = readFileSync(DOCUMENT_PATH, "utf8");
    expect(onDisk === text, "docs/openapi.json is stale: run npm run openapi").toBe(true);
  });

  it("gives every operation an operationId, each once", () => {
    const all = operations();
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((o) => !o.operationId).map((o) => `${o.method} ${o.path}`)).toEqual([]);
    const ids = all.map((o) => o.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it("lints clean with Redocly's recommended rules", async () => {
    const located = new Map(operations().map((o) => [o.operationId, o]));
    const accepted = Object.keys(NO_4XX).map((operationId) => {
      const operation = located.get(operationId);
      if (operation === undefined) throw new Error(`NO_4XX names ${operationId}, which is no operation`);
      return pointer("paths", operation.path, operation.method, "responses");
    });
    const config = await createConfig(
      { extends: ["recommended"], rules: Object.fromEntries(Object.keys(RULES_OFF).map((r) => [r, "off"])) },
      { ignore: { [DOCUMENT_PATH]: { "operation-4xx-response": new Set(accepted) } } },
    );
    const problems = await lintFromString({ source: text, absoluteRef: DOCUMENT_PATH, config });
    const findings = problems
      .filter((p) => !p.ignored)
      .map(
        (p) => `${p.severity} ${p.ruleId} at ${p.location.map((l) => l.pointer).join(", ")}: ${p.message}`,
      );
    // Warnings fail too: each finding is either fixed or accepted above with its reason.
    expect(findings, `linter findings:\n${findings.join("\n")}`).toEqual([]);
    // An acceptance that no longer matches a finding is stale: remove it.
    const used = new Set(problems.filter((p) => p.ignored).map((p) => p.location[0]?.pointer));
    expect(
      accepted.filter((p) => !used.has(p)),
      "NO_4XX accepts findings the linter no longer makes",
    ).toEqual([]);
  });
});

describe("the client openapi-typescript and openapi-fetch make from it", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-openapi-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("type-checks a collection query with where, order, limit and cursor, and refuses unknown parameters", async () => {
    const ast = await openapiTS(document, { silent: true });
    writeFileSync(join(dir, "schema.ts"), astToString(ast));
    writeFileSync(join(dir, "query.ts"), QUERY_SAMPLE);
    writeFileSync(join(dir, "refused.ts"), REFUSED_SAMPLE);

    // The samples import openapi-fetch as a client project would; it resolves to the one installed here.
    const openapiFetch = dirname(createRequire(import.meta.url).resolve("openapi-fetch/package.json"));
    const program = ts.createProgram({
      rootNames: ["schema.ts", "query.ts", "refused.ts"].map((f) => join(dir, f)),
      options: {
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noUnusedLocals: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
        types: [],
        skipLibCheck: true,
        paths: { "openapi-fetch": [openapiFetch] },
      },
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const at = d.file?.getLineAndCharacterOfPosition(d.start ?? 0);
      const where =
        d.file && at ? `${d.file.fileName.slice(dir.length + 1)}:${at.line + 1}:${at.character + 1}: ` : "";
      return `${where}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(diagnostics, diagnostics.join("\n")).toEqual([]);
  });
});

const QUERY_SAMPLE = `import createClient from "openapi-fetch";
import type { paths } from "./schema";

const client = createClient<paths>({ baseUrl: "http://localhost:8787" });

export async function openTodos(): Promise<string | null> {
  const { data, error } = await client.GET("/v1/{collection}", {
    params: {
      path: { collection: "todos" },
      query: {
        where: { status: "open", priority: { gte: "2" } },
        order: "-priority",
        limit: 20,
        cursor: "abc",
      },
    },
  });
  if (error) {
    const code: string = error.code;
    throw new Error(code);
  }
  const versions: number[] = data.items.map((item) => item.version);
  return versions.length > 0 ? data.next : null;
}
`;

const REFUSED_SAMPLE = `import createClient from "openapi-fetch";
import type { paths } from "./schema";

const client = createClient<paths>({ baseUrl: "http://localhost:8787" });

export async function refused(): Promise<void> {
  await client.GET("/v1/{collection}", {
    params: {
      path: { collection: "todos" },
      // @ts-expect-error: no such query parameter
      query: { filter: "status=open" },
    },
  });
  await client.GET("/v1/{collection}", {
    // @ts-expect-error: no such operator
    params: { path: { collection: "todos" }, query: { where: { priority: { between: "1,3" } } } },
  });
  await client.GET("/v1/{collection}", {
    params: {
      path: { collection: "todos" },
      // @ts-expect-error: consistency is strong or eventual
      query: { consistency: "linearizable" },
    },
  });
}
`;
