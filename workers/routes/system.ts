/** Liveness and the OpenAPI document. */
import type { OpenAPIHono } from "@hono/zod-openapi";

import type { AppEnv } from "../app";
import { HttpProblem } from "../http/problem";
import { readiness } from "../readiness";
import { Health, Readiness } from "../schemas";
import { PUBLIC } from "../security/principal";
import { JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

/** The OpenAPI document's head: everything but the paths and schemas, which come from the route table. */
export const OPENAPI_INFO: Parameters<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>[0] = {
  openapi: "3.1.0",
  info: {
    title: "Tessera",
    version: "1",
    description:
      "Documents with strongly consistent per-key writes on Cloudflare. Errors are RFC 9457 problem documents.",
    license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
  },
  servers: [{ url: "http://localhost:8787", description: "npm run dev" }],
};

/** The OpenAPI document the app describes itself with. */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  return app.getOpenAPI31Document(OPENAPI_INFO);
}

export function systemRoutes(app: OpenAPIHono<AppEnv>): Route[] {
  let document: ReturnType<typeof openApiDocument> | undefined;
  return [
    route(
      {
        operationId: "getHealth",
        method: "get",
        path: "/healthz",
        summary: "Liveness",
        responses: {
          200: { description: "the Worker is up", content: { [JSON_TYPE]: { schema: Health } } },
        },
      },
      PUBLIC,
      (c) => c.json({ status: "ok" as const }),
    ),
    route(
      {
        operationId: "getReadiness",
        method: "get",
        path: "/readyz",
        summary: "Readiness: D1, R2, the queue and a document object each answer (cached 5 s)",
        responses: {
          200: { description: "every dependency answered", content: { [JSON_TYPE]: { schema: Readiness } } },
          ...problems(503),
        },
      },
      PUBLIC,
      async (c) => {
        const checks = await readiness(c.env);
        const failed = Object.entries(checks)
          .filter(([, v]) => v !== "ok")
          .map(([k]) => k);
        if (failed.length > 0) {
          throw new HttpProblem(
            503,
            "not-ready",
            "Service Unavailable",
            `not answering: ${failed.join(", ")}`,
            { checks },
            { "Retry-After": "5" },
          );
        }
        return c.json({ status: "ready" as const, checks });
      },
    ),
    route(
      {
        operationId: "getOpenApi",
        method: "get",
        path: "/openapi.json",
        summary: "This OpenAPI document",
        responses: { 200: { description: "OpenAPI 3.1", content: { [JSON_TYPE]: { schema: {} } } } },
      },
      PUBLIC,
      (c) => {
        // Built once per isolate: the route table does not change while it runs.
        document ??= openApiDocument(app);
        return c.json(document);
      },
    ),
  ];
}
