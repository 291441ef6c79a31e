/**
 * JWTs for end users' clients: verified with jose against the configured key set (a JWKS URL, fetched and cached
 * by jose; an inline JWKS; or an HS256 secret), with issuer, audience, expiry and not-before checked and a small
 * clock skew. Configured claims carry the tenant, the scopes and, optionally, the collections.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { checkName } from "../../domain/keys";
import { SCOPES, type Scope, type TenantPrincipal } from "./principal";
import { isTierName, TIER_NAMES } from "./rate-limits";

export const JWT_ALGORITHMS = ["RS256", "ES256", "EdDSA"];
export const CLOCK_SKEW_SECONDS = 30;

export interface JwtConfig {
  readonly keys: JWTVerifyGetKey | Uint8Array;
  readonly algorithms: string[];
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly tenantClaim: string;
  readonly scopesClaim: string;
  readonly collectionsClaim: string | undefined;
  readonly rateLimit: string;
}

export interface JwtVars {
  readonly JWT_JWKS_URL?: string;
  readonly JWT_JWKS?: string;
  readonly JWT_HS256_SECRET?: string;
  readonly JWT_ISSUER?: string;
  readonly JWT_AUDIENCE?: string;
  readonly JWT_TENANT_CLAIM?: string;
  readonly JWT_SCOPES_CLAIM?: string;
  readonly JWT_COLLECTIONS_CLAIM?: string;
  readonly JWT_RATE_LIMIT?: string;
}

/** A misspelt tier would leave JWT users unlimited: refuse it, as every other configuration mistake is refused. */
function tier(name: string): string {
  if (!isTierName(name))
    throw new Error(`JWT_RATE_LIMIT must be one of ${TIER_NAMES.join(", ")}, got "${name}"`);
  return name;
}

const nonEmpty = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? undefined : value;

/** The deployment's JWT settings; null when JWTs are not configured (then a JWT is refused like any bad token). */
export function readJwtConfig(vars: JwtVars): JwtConfig | null {
  const url = nonEmpty(vars.JWT_JWKS_URL);
  const inline = nonEmpty(vars.JWT_JWKS);
  const secret = nonEmpty(vars.JWT_HS256_SECRET);
  let keys: JwtConfig["keys"];
  let algorithms = JWT_ALGORITHMS;
  if (url !== undefined)
    keys = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  else if (inline !== undefined) keys = createLocalJWKSet(JSON.parse(inline) as JSONWebKeySet);
  else if (secret !== undefined) {
    keys = new TextEncoder().encode(secret);
    algorithms = ["HS256"];
  } else return null;
  return {
    keys,
    algorithms,
    issuer: nonEmpty(vars.JWT_ISSUER),
    audience: nonEmpty(vars.JWT_AUDIENCE),
    tenantClaim: nonEmpty(vars.JWT_TENANT_CLAIM) ?? "tenant",
    scopesClaim: nonEmpty(vars.JWT_SCOPES_CLAIM) ?? "scope",
    collectionsClaim: nonEmpty(vars.JWT_COLLECTIONS_CLAIM),
    rateLimit: tier(nonEmpty(vars.JWT_RATE_LIMIT) ?? "default"),
  };
}

const configs = new WeakMap<object, JwtConfig | null>();

/** The deployment's JWT settings, read once per isolate (jose's remote key set keeps its cache in it). */
export function jwtConfigOf(env: Env): JwtConfig | null {
  let config = configs.get(env);
  if (config === undefined) {
    config = readJwtConfig(env);
    configs.set(env, config);
  }
  return config;
}

/** Whether a bearer token has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** The principal a token stands for; null when it does not verify or lacks a usable tenant. */
export async function verifyJwt(config: JwtConfig, token: string): Promise<TenantPrincipal | null> {
  let payload: JWTPayload;
  try {
    const options = {
      algorithms: config.algorithms,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp"],
      ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
      ...(config.audience === undefined ? {} : { audience: config.audience }),
    };
    ({ payload } =
      config.keys instanceof Uint8Array
        ? await jwtVerify(token, config.keys, options)
        : await jwtVerify(token, config.keys, options));
  } catch {
    return null;
  }
  const tenant = payload[config.tenantClaim];
  if (typeof tenant !== "string" || !checkName("tenant", tenant).ok) return null;
  return {
    kind: "jwt",
    id: typeof payload.sub === "string" ? payload.sub.slice(0, 200) : "anonymous",
    tenant,
    scopes: new Set(scopesOf(payload[config.scopesClaim])),
    collections:
      config.collectionsClaim === undefined ? null : collectionsOf(payload[config.collectionsClaim]),
    rateLimit: config.rateLimit,
  };
}

/** OAuth's space-separated `scope`, or an array; unknown scopes are ignored. */
function scopesOf(claim: unknown): Scope[] {
  const list = typeof claim === "string" ? claim.split(" ") : Array.isArray(claim) ? claim : [];
  return list.filter((s): s is Scope => SCOPES.includes(s as Scope));
}

/** A collections claim that is not a list of names allows no collection (never all of them). */
function collectionsOf(claim: unknown): string[] {
  if (!Array.isArray(claim)) return [];
  return claim.filter((c): c is string => typeof c === "string");
}
