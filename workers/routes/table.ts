/**
 * The route table: each route is declared once, as its OpenAPI operation and its handler together, so that
 * /openapi.json and what the Worker serves cannot drift apart. Registering the table also answers every other
 * method on a declared path with 405 and an `Allow` derived from the table.
 */
import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { HttpProblem } from "../http/problem";
import { authorize } from "../middleware/authorize";
import type { Access } from "../security/principal";
import { problems } from "./openapi";

export type RouteHandler = (c: Context<AppEnv>) => Response | Promise<Response>;

export interface Route {
  readonly spec: RouteConfig & { operationId: string };
  /** Who may call it: public, a tenant scope (and perhaps the operator), or the operator alone. */
  readonly access: Access;
  readonly handler: RouteHandler;
}

export function route(spec: Route["spec"], access: Access, handler: RouteHandler): Route {
  return { spec, access, handler };
}

/** How the OpenAPI document says who may call a route, and what it answers when they may not. */
function secured(spec: Route["spec"], access: Access): RouteConfig {
  if (access.kind === "public") return { ...spec, security: [] };
  const who =
    access.kind === "operator"
      ? "the operator secret"
      : `a tenant credential with the "${access.scope}" scope${access.operator === true ? ", or the operator secret (every tenant)" : ""}`;
  return {
    ...spec,
    description: [spec.description, `Needs ${who}.`].filter((d) => d !== undefined).join(" "),
    security: [{ bearer: [] }],
    responses: { ...spec.responses, ...problems(401, 403, 429) },
  };
}

/** `/v1/{collection}/{id}` as Hono writes it: `/v1/:collection/:id`. */
export function honoPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ":$1");
}

/** The methods a path answers, as `Allow` lists them: HEAD with GET, and OPTIONS always. */
export function allowedMethods(routes: readonly Route[], path: string): string[] {
  const methods = routes.filter((r) => r.spec.path === path).map((r) => r.spec.method.toUpperCase());
  if (methods.includes("GET")) methods.splice(methods.indexOf("GET") + 1, 0, "HEAD");
  return [...methods, "OPTIONS"];
}

/**
 * Registers every route, path by path in the table's order: a path's handlers, then its 405. The router tries
 * routes in registration order, so a system path (`/v1/_changes`) listed before a parameter path
 * (`/v1/{collection}`) is never taken for it, whatever the method.
 */
export function registerRoutes(app: OpenAPIHono<AppEnv>, routes: readonly Route[]): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key (tsk_...), a JWT from the configured issuer, or the operator secret; see docs/security.md",
  });
  const paths = [...new Set(routes.map((r) => r.spec.path))];
  for (const path of paths) {
    for (const { spec, access, handler } of routes.filter((r) => r.spec.path === path)) {
      app.openAPIRegistry.registerPath(secured(spec, access));
      app.on(spec.method.toUpperCase(), honoPath(path), authorize(access), handler);
    }
    app.all(honoPath(path), methodNotAllowed(allowedMethods(routes, path)));
  }
}

function methodNotAllowed(allowed: readonly string[]) {
  const allow = allowed.join(", ");
  return function methodNotAllowedHandler(c: Context): Response {
    if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: { Allow: allow } });
    throw new HttpProblem(
      405,
      "method-not-allowed",
      "Method Not Allowed",
      `${c.req.method} is not allowed here; allowed: ${allow}`,
      {},
      { Allow: allow },
    );
  };
}
