import { env } from "cloudflare:workers";
import { OpenAPIHono } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../workers/app";
import { requestId } from "../../workers/middleware/request-id";
import { requestLog } from "../../workers/middleware/request-log";
import { get } from "../helpers";

describe("GET /openapi.json", () => {
  it("describes every document route with the shared schemas", async () => {
    const res = await get("/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
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
});

describe("request log", () => {
  it("writes one JSON line per request with its id, method, path, status and duration", async () => {
    const lines: string[] = [];
    const app = new OpenAPIHono<AppEnv>();
    app.use(requestId());
    app.use(requestLog((line) => lines.push(line)));
    app.get("/x", (c) => c.text("hi", 201));
    const res = await app.request(
      "/x?secret=1",
      { headers: { "x-request-id": "r-1" } },
      { ...env, LOG_REQUESTS: "true" },
    );
    await res.text();
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "{}");
    expect(entry).toMatchObject({ level: "info", requestId: "r-1", method: "GET", path: "/x", status: 201 });
    expect(typeof entry.durationMs).toBe("number");
  });

  it("stays quiet when LOG_REQUESTS is false", async () => {
    const lines: string[] = [];
    const app = new OpenAPIHono<AppEnv>();
    app.use(requestId());
    app.use(requestLog((line) => lines.push(line)));
    app.get("/x", (c) => c.text("hi"));
    await (await app.request("/x", {}, { ...env, LOG_REQUESTS: "false" })).text();
    expect(lines).toHaveLength(0);
  });
});
