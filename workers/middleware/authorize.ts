/**
 * Authentication, rate limiting and authorization for one route, as the route table declares its access: the
 * credential (operator secret, API key or JWT) becomes the request's principal, which alone decides its tenant;
 * the principal's tier limits its rate; the route's scope decides what it may do. 401 for a missing or invalid
 * credential (RFC 6750), 429 over the limit, 403 for a missing scope.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { errorText, log } from "../../platform/log";
import type { AppEnv } from "../app";
import { HttpProblem, unavailable } from "../http/problem";
import { looksLikeKey, verifyKey } from "../security/api-keys";
import { secretsEqual } from "../security/constant-time";
import { jwtConfigOf, looksLikeJwt, verifyJwt } from "../security/jwt";
import type { Access, Principal } from "../security/principal";
import { policyHeader, type Tier, tierOf, UNAUTHENTICATED, withinLimit } from "../security/rate-limits";

const REALM = 'Bearer realm="tessera"';
/** RFC 6750's b64token, bounded: a longer value is not a credential this service issued or accepts. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const MAX_CREDENTIAL_CHARS = 8192;

function unauthenticated(detail: string, invalid: boolean): HttpProblem {
  return new HttpProblem(
    401,
    invalid ? "invalid-credential" : "unauthenticated",
    "Unauthorized",
    detail,
    {},
    { "WWW-Authenticate": invalid ? `${REALM}, error="invalid_token"` : REALM },
  );
}

function forbidden(detail: string, scope?: string): HttpProblem {
  return new HttpProblem(
    403,
    "insufficient-scope",
    "Forbidden",
    detail,
    {},
    {
      "WWW-Authenticate": `${REALM}, error="insufficient_scope"${scope === undefined ? "" : `, scope="${scope}"`}`,
    },
  );
}

function tooMany(name: string, tier: Tier): HttpProblem {
  return new HttpProblem(
    429,
    "rate-limited",
    "Too Many Requests",
    `this credential made more than ${tier.limit} requests in ${tier.period} s; retry after the window`,
    { limit: tier.limit, periodSeconds: tier.period },
    {
      "Retry-After": String(tier.period),
      "RateLimit-Policy": policyHeader(name, tier),
      RateLimit: `"${name}";r=0;t=${tier.period}`,
    },
  );
}

/** The client's address as Cloudflare reports it (locally absent: all local clients share one budget). */
function clientAddress(c: Context<AppEnv>): string {
  return c.req.header("cf-connecting-ip") ?? "local";
}

/** The principal a request's credential stands for; throws 401 (or 503 when the key store cannot answer). */
async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const header = c.req.header("authorization");
  if (header === undefined || header.trim() === "") {
    throw unauthenticated("this route needs a credential: Authorization: Bearer <key or token>", false);
  }
  const match = header.length <= MAX_CREDENTIAL_CHARS ? BEARER.exec(header.trim()) : null;
  if (match === null) throw unauthenticated("the Authorization header is not a Bearer credential", true);
  const token = match[1] ?? "";
  const env = c.env;
  if (looksLikeKey(token)) {
    let principal: Awaited<ReturnType<typeof verifyKey>>;
    try {
      principal = await verifyKey(env.DB, token, () => withinLimit(env, UNAUTHENTICATED, clientAddress(c)));
    } catch (error) {
      log.warn("key lookup failed", { error: errorText(error) });
      throw unavailable("credentials-unavailable", "credentials cannot be checked right now; retry later", 1);
    }
    if (principal === "limited") throw tooMany("unauthenticated", UNAUTHENTICATED);
    if (principal !== null) return principal;
  } else if (looksLikeJwt(token)) {
    const jwt = jwtConfigOf(env);
    const principal = jwt === null ? null : await verifyJwt(jwt, token);
    if (principal !== null) return principal;
  } else {
    const secret = env.TESSERA_ADMIN_SECRET;
    if (typeof secret === "string" && secret.length >= 16 && (await secretsEqual(token, secret))) {
      return { kind: "operator", id: "operator", rateLimit: "none" };
    }
  }
  throw unauthenticated("the credential is not valid: unknown, revoked, expired or malformed", true);
}

/** Counts the request against its credential's tier; throws 429 over the limit. Returns the policy header. */
async function limit(c: Context<AppEnv>, principal: Principal): Promise<string | null> {
  const tier = tierOf(principal.rateLimit);
  if (tier === null) return null;
  const key =
    principal.kind === "operator" ? "operator" : `${principal.kind}:${principal.tenant}:${principal.id}`;
  if (!(await withinLimit(c.env, tier, key))) throw tooMany(tier.name, tier);
  return policyHeader(tier.name, tier);
}

function check(access: Access, principal: Principal): void {
  if (access.kind === "public") return;
  if (principal.kind === "operator") {
    if (access.kind === "operator" || access.operator === true) return;
    throw forbidden("the operator secret manages keys and operations; use a tenant's key for its data");
  }
  if (access.kind === "operator") throw forbidden("this route is for the operator");
  if (!principal.scopes.has(access.scope)) {
    throw forbidden(`this credential lacks the "${access.scope}" scope`, access.scope);
  }
}

/** The route table's guard: every route but the public ones runs behind it. */
export function authorize(access: Access) {
  return createMiddleware<AppEnv>(async function authorizeMiddleware(c, next) {
    if (access.kind === "public") return next();
    const principal = await authenticate(c);
    c.set("principal", principal);
    const policy = await limit(c, principal);
    check(access, principal);
    await next();
    if (policy !== null) c.res.headers.set("RateLimit-Policy", policy);
  });
}
