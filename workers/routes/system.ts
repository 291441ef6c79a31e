/** Liveness and the OpenAPI document. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app";
import { methodNotAllowed } from "../middleware/method-not-allowed";
import { Health } from "../schemas";

const health = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness",
  responses: {
    200: { description: "the Worker is up", content: { "application/json": { schema: Health } } },
  },
});

export function registerSystemRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath(health);
  app.get("/healthz", (c) => c.json({ status: "ok" as const }));
  app.all("/healthz", methodNotAllowed(["GET", "HEAD"]));

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Tessera",
      version: "1",
      description:
        "Documents with strongly consistent per-key writes on Cloudflare. Errors are RFC 9457 problem documents.",
    },
  });
  app.all("/openapi.json", methodNotAllowed(["GET", "HEAD"]));
}
