import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setLogLevel, setLogSink } from "../../platform/log";
import { createApp } from "../../workers/app";
import { bearer, defaultCredential, get, jsonPatch, problem, put, send, uniqueId } from "../helpers";

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ name: string; in: string }>;
        responses: Record<string, { headers?: Record<string, unknown> }>;
      }
    >
  >;
  components: {
    schemas: Record<
      string,
      {
        items?: {
          oneOf?: Array<{
            required?: string[];
            properties?: Record<string, { enum?: string[]; const?: string }>;
          }>;
        };
      }
    >;
  };
}

describe("GET /openapi.json", () => {
  async function openapi(): Promise<OpenApi> {
    const res = await get("/openapi.json");
    expect(res.status).toBe(200);
    return res.body as OpenApi;
  }

  it("describes every document route with the shared schemas", async () => {
    const doc = await openapi();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths["/v1/{collection}/{id}"] ?? {}).sort()).toEqual([
      "delete",
      "get",
      "patch",
      "put",
    ]);
    expect(Object.keys(doc.paths["/v1/{collection}"] ?? {})).toContain("post");
    expect(doc.paths["/v1/{collection}/{id}/_history"]).toHaveProperty("get");
    expect(doc.components.schemas).toHaveProperty("Envelope");
    expect(doc.components.schemas).toHaveProperty("Problem");
    expect(doc.components.schemas).toHaveProperty("JsonPatch");
  });

  it("lists the statuses each write can answer, the headers it honours and the headers it returns", async () => {
    const doc = await openapi();
    const statuses = (path: string, method: string) =>
      Object.keys(doc.paths[path]?.[method]?.responses ?? {}).sort();
    // Every write also answers 401, 403 and 429: the route table declares them for each guarded route.
    const guarded = ["401", "403", "429"];
    const expected = (...codes: string[]) => [...codes, ...guarded].sort();
    expect(statuses("/v1/{collection}/{id}", "put")).toEqual(
      expected("200", "201", "400", "412", "413", "415", "422", "503"),
    );
    expect(statuses("/v1/{collection}", "post")).toEqual(
      expected("201", "400", "409", "412", "413", "415", "422", "503"),
    );
    expect(statuses("/v1/{collection}/{id}", "patch")).toEqual(
      expected("200", "400", "404", "409", "412", "413", "415", "422", "503"),
    );
    expect(statuses("/v1/{collection}/{id}", "delete")).toEqual(
      expected("204", "400", "404", "412", "422", "503"),
    );
    const put = doc.paths["/v1/{collection}/{id}"]?.put;
    const honoured = (put?.parameters ?? [])
      .filter((p) => p.in === "header")
      .map((p) => p.name.toLowerCase());
    expect(honoured).toEqual(
      expect.arrayContaining(["if-match", "if-none-match", "idempotency-key", "consistency-token"]),
    );
    expect(Object.keys(put?.responses["201"]?.headers ?? {})).toEqual(
      expect.arrayContaining(["ETag", "Location", "Consistency-Token", "X-Request-Id"]),
    );
    expect(Object.keys(put?.responses["503"]?.headers ?? {})).toContain("Retry-After");
  });

  it("publishes the JSON Patch schema the server validates with: value is required for add, replace and test", async () => {
    const doc = await openapi();
    const variants = doc.components.schemas.JsonPatch?.items?.oneOf ?? [];
    const forOp = (op: string) =>
      variants.find((v) => {
        const p = v.properties?.op;
        return p?.const === op || p?.enum?.includes(op);
      });
    for (const op of ["add", "replace", "test"])
      expect(forOp(op)?.required).toEqual(expect.arrayContaining(["op", "path", "value"]));
    expect(forOp("move")?.required).toEqual(expect.arrayContaining(["from", "path"]));
    expect(forOp("increment")?.required).toEqual(expect.arrayContaining(["path", "value"]));
    // And the server agrees: without value, add is a malformed patch.
    const id = uniqueId();
    await put(`/v1/openapi/${id}`, { a: 1 });
    const res = await jsonPatch(`/v1/openapi/${id}`, [{ op: "add", path: "/b" }]);
    expect(res.status).toBe(400);
    expect(problem(res).code).toBe("malformed-patch");
  });
});

describe("request log", () => {
  /** Runs requests through a fresh app with logging at `level`, recording the lines; the suite stays quiet after. */
  async function logged(level: string, paths: string[]): Promise<string[]> {
    const lines: string[] = [];
    const restore = setLogSink((_level, line) => lines.push(line));
    try {
      const app = createApp();
      for (const path of paths) {
        const res = await app.request(
          path,
          { headers: { "x-request-id": "r-1", ...bearer(defaultCredential.key) } },
          { ...env, LOG_LEVEL: level },
        );
        await res.text();
        expect(res.headers.get("x-request-id")).toBe("r-1");
      }
    } finally {
      restore();
      setLogLevel("off");
    }
    return lines;
  }

  it("writes one JSON line per request of the real app, with its id, method, path (no query), status and duration", async () => {
    const lines = await logged("info", ["/healthz?secret=1"]);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "{}");
    expect(entry).toMatchObject({
      level: "info",
      requestId: "r-1",
      method: "GET",
      path: "/healthz",
      status: 200,
    });
    expect(typeof entry.durationMs).toBe("number");
    expect(lines[0]).not.toContain("secret");
  });

  it("logs refused requests too, and writes nothing below the configured level", async () => {
    const lines = await logged("info", ["/v1/BAD/x"]);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ status: 400, path: "/v1/BAD/x" });
    expect(await logged("warn", ["/healthz", "/v1/BAD/x"])).toEqual([]);
  });
});

describe("X-Request-Id", () => {
  it("is returned on errors as on successes: the caller's when well-formed, a fresh one otherwise", async () => {
    const refused = await send("/v1/BAD/x", { headers: { "x-request-id": "trace-42" } });
    expect(refused.status).toBe(400);
    expect(refused.headers.get("x-request-id")).toBe("trace-42");
    const unknown = await send("/nowhere", { headers: { "x-request-id": "bad id with spaces" } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the route table", () => {
  it("answers 405 with Allow exactly as /openapi.json declares each path, and OPTIONS with the same Allow", async () => {
    const doc = (await send("/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const paths = Object.entries(doc.paths);
    expect(paths.length).toBeGreaterThan(8);
    for (const [path, operations] of paths) {
      const url = path.replace("{collection}", "todos").replace("{id}", "t-1");
      const declared = Object.keys(operations).map((m) => m.toUpperCase());
      const allow = [...declared.flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m])), "OPTIONS"];
      const other = ["PUT", "POST", "DELETE", "PATCH"].find((m) => !declared.includes(m)) ?? "TRACE";
      const refused = await send(url, { method: other });
      expect(refused.status, `${other} ${path}`).toBe(405);
      expect(refused.headers.get("allow")?.split(", ").sort(), path).toEqual(allow.sort());
      const options = await send(url, { method: "OPTIONS" });
      expect(options.status).toBe(204);
      expect(options.headers.get("allow")?.split(", ").sort()).toEqual(allow.sort());
    }
  });

  it("gives every operation a unique operationId", async () => {
    const doc = (await send("/openapi.json")).body as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
