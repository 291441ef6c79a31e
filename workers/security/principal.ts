/** Who a request acts for, as its credential says: the only source of a request's tenant and rights. */

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export type Principal =
  /** The deployment's operator (TESSERA_ADMIN_SECRET): the key API and operations, never a tenant's data. */
  | { readonly kind: "operator"; readonly id: "operator"; readonly rateLimit: string }
  | {
      readonly kind: "key" | "jwt";
      /** The key's id, or the token's subject: what the audit log and the rate limiter name. */
      readonly id: string;
      readonly tenant: string;
      readonly scopes: ReadonlySet<Scope>;
      /** The collections it may touch; null for all of its tenant's. */
      readonly collections: readonly string[] | null;
      /** Its rate-limit tier (wrangler.toml), or "none". */
      readonly rateLimit: string;
    };

export type TenantPrincipal = Extract<Principal, { kind: "key" | "jwt" }>;

/**
 * What a route requires. `public`: nothing. A scope: a tenant credential that holds it (and, for document
 * routes, the collection). `admin` routes also admit the operator, across tenants, when `operator` is true;
 * `operator` alone admits only the operator.
 */
export type Access =
  | { readonly kind: "public" }
  | { readonly kind: "scope"; readonly scope: Scope; readonly operator?: boolean }
  | { readonly kind: "operator" };

export const PUBLIC: Access = { kind: "public" };
export const needs = (scope: Scope, options: { operator?: boolean } = {}): Access => ({
  kind: "scope",
  scope,
  ...options,
});

/** A short label for logs and the audit trail: never the credential itself. */
export function actorOf(principal: Principal): string {
  return principal.kind === "operator" ? "operator" : `${principal.kind}:${principal.id}`;
}
