/**
 * A request's tenant and what it may touch, from its principal alone: never from the URL, a header the client
 * chooses, or the body. Another tenant's documents are simply not in the caller's tenant, so they answer 404.
 */
import type { Context } from "hono";
import type { DocumentKey } from "../../domain/keys";
import type { AppEnv } from "../app";
import { HttpProblem } from "../http/problem";
import { collectionFrom, documentKeyFrom } from "../http/request";
import type { Principal, TenantPrincipal } from "./principal";

function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  // The route table guards every route that reaches here; a missing principal is a wiring mistake.
  if (principal === undefined) throw new Error("a tenant route ran without a principal");
  return principal;
}

/** The caller as a tenant credential (tenant routes do not admit the operator). */
export function tenantPrincipal(c: Context<AppEnv>): TenantPrincipal {
  const principal = principalOf(c);
  if (principal.kind === "operator") throw new Error("the operator reached a tenant route");
  return principal;
}

/**
 * A 403 for what the credential may not do, with RFC 6750's challenge, as the route guard's scope 403s have it:
 * every `insufficient-scope` answer carries the same header.
 */
export function forbidden(detail: string, extensions: Record<string, unknown> = {}): HttpProblem {
  return new HttpProblem(403, "insufficient-scope", "Forbidden", detail, extensions, {
    "WWW-Authenticate": 'Bearer realm="tessera", error="insufficient_scope"',
  });
}

export function forbiddenCollection(collection: string): HttpProblem {
  return forbidden(`this credential may not use the collection ${collection}`, { collection });
}

/** Throws 403 unless the caller may use `collection`. */
export function checkCollection(principal: TenantPrincipal, collection: string): void {
  if (principal.collections !== null && !principal.collections.includes(collection)) {
    throw forbiddenCollection(collection);
  }
}

/** The caller's document that a `/v1/{collection}/{id}` URL names, in the caller's tenant. */
export function documentKey(c: Context<AppEnv>): DocumentKey {
  const principal = tenantPrincipal(c);
  const key = documentKeyFrom(c.req.url, principal.tenant);
  checkCollection(principal, key.collection);
  return key;
}

/** The caller's collection that a `/v1/{collection}` URL names, and its tenant. */
export function collectionOf(c: Context<AppEnv>): { tenant: string; collection: string } {
  const principal = tenantPrincipal(c);
  const collection = collectionFrom(c.req.url);
  checkCollection(principal, collection);
  return { tenant: principal.tenant, collection };
}

/**
 * The tenant an operations route acts on: a tenant admin's own; for the operator, the `tenant` it names in the
 * query, or null for every tenant.
 */
export function operationsTenant(c: Context<AppEnv>, named: string | undefined): string | null {
  const principal = principalOf(c);
  if (principal.kind === "operator") return named ?? null;
  if (named !== undefined && named !== principal.tenant) {
    throw forbidden("a tenant's admin acts on its own tenant only");
  }
  return principal.tenant;
}
