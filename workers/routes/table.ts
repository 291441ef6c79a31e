/**
 * The route table: each route is declared once, as its OpenAPI operation and its handler together, so that
 * /openapi.json and what the Worker serves cannot drift apart. Registering the table also answers every other
 * method on a declared path with 405 and an `Allow` derived from the table.
 */
import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { HttpProblem } from "../http/problem";

export type RouteHandler = (c: Context<AppEnv>) => Response | Promise<Response>;

export interface Route {
  readonly spec: RouteConfig & { operationId: string };
  readonly handler: RouteHandler;
}

export function route(spec: Route["spec"], handler: RouteHandler): Route {
  return { spec, handler };
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
  const paths = [...new Set(routes.map((r) => r.spec.path))];
  for (const path of paths) {
    for (const { spec, handler } of routes.filter((r) => r.spec.path === path)) {
      app.openAPIRegistry.registerPath(spec);
      app.on(spec.method.toUpperCase(), honoPath(path), handler);
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
