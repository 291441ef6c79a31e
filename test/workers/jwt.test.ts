/**
 * JWTs for end users: tokens signed with the test key set (vitest.config.ts binds its public halves as JWT_JWKS)
 * work through the real Worker with every configured algorithm; anything expired, premature, for another issuer
 * or audience, signed by another key, unsigned, HS256 against a key set, without exp, or without a usable tenant
 * is refused with 401 invalid_token. readJwtConfig and verifyJwt are also tested directly with an HS256 secret.
 */
import { env } from "cloudflare:workers";
import { exportSPKI, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { encodeBase64Url } from "../../domain/base64url";
import { CLOCK_SKEW_SECONDS, readJwtConfig, verifyJwt } from "../../workers/security/jwt";
import { problem, type Sent, send, uniqueId } from "../helpers";

const ISSUER = "https://issuer.test";
const AUDIENCE = "tessera-test";
const CLIENT_IP = `2001:db8:a4::${crypto.randomUUID().slice(0, 4)}`;

type Alg = "RS256" | "ES256" | "EdDSA";
const PRIVATE_KEYS = JSON.parse(env.TEST_JWT_PRIVATE_KEYS) as Record<Alg, JWK & { kid: string }>;

const now = () => Math.floor(Date.now() / 1000);

interface Options {
  alg?: Alg;
  /** Claims to set or (undefined) remove, over the defaults: iss, aud, exp in 5 minutes, tenant, scope, sub. */
  claims?: Record<string, unknown>;
  kid?: string;
}

/** A token signed with the test key set, with good claims unless `claims` says otherwise. */
async function token(tenant: string, options: Options = {}): Promise<string> {
  const alg = options.alg ?? "ES256";
  const jwk = PRIVATE_KEYS[alg];
  const payload: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 300,
    sub: `user-${tenant}`,
    tenant,
    scope: "read write",
    ...options.claims,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ alg, kid: options.kid ?? jwk.kid, typ: "JWT" })
    .sign(await importJWK(jwk, alg));
}

function as(jwt: string, path: string, init: RequestInit = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${jwt}`);
  headers.set("cf-connecting-ip", CLIENT_IP);
  return send(path, { ...init, headers });
}

const putDoc = (jwt: string, id: string, data: unknown) =>
  as(jwt, `/v1/todos/${id}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(data),
  });

/** Whether the Worker accepts `jwt`: 200 on the feed, or 401 invalid_token (anything else fails the test). */
async function accepted(jwt: string): Promise<boolean> {
  const sent = await as(jwt, "/v1/_changes?limit=1");
  if (sent.status === 401) {
    expect(problem(sent).code).toBe("invalid-credential");
    expect(sent.headers.get("www-authenticate")).toBe('Bearer realm="tessera", error="invalid_token"');
    expect(sent.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    return false;
  }
  expect(sent.status).toBe(200);
  return true;
}

describe("a JWT through the Worker", () => {
  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    it(`signed with ${alg} writes and reads its tenant's documents`, async () => {
      const tenant = uniqueId("t");
      const jwt = await token(tenant, { alg });
      const id = uniqueId(alg.toLowerCase());
      const written = await putDoc(jwt, id, { title: `by ${alg}` });
      expect(written.status).toBe(201);
      expect(written.body).toMatchObject({ id, version: 1, data: { title: `by ${alg}` } });
      const read = await as(jwt, `/v1/todos/${id}`, { headers: { consistency: "strong" } });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, data: { title: `by ${alg}` } });
      // The tenant is the token's: another tenant's token does not find it.
      const other = await as(await token(uniqueId("t"), { alg }), `/v1/todos/${id}`, {
        headers: { consistency: "strong" },
      });
      expect(other.status).toBe(404);
    });
  }

  it(`accepts a token expired less than the ${CLOCK_SKEW_SECONDS} s skew ago, refuses one expired longer ago`, async () => {
    const tenant = uniqueId("t");
    expect(await accepted(await token(tenant, { claims: { exp: now() - 10 } }))).toBe(true);
    expect(await accepted(await token(tenant, { claims: { exp: now() - CLOCK_SKEW_SECONDS - 30 } }))).toBe(
      false,
    );
  });

  it("accepts a token valid from within the skew, refuses one not valid until later", async () => {
    const tenant = uniqueId("t");
    expect(await accepted(await token(tenant, { claims: { nbf: now() + 10 } }))).toBe(true);
    expect(await accepted(await token(tenant, { claims: { nbf: now() + CLOCK_SKEW_SECONDS + 60 } }))).toBe(
      false,
    );
  });

  const refused: Array<[string, (tenant: string) => Promise<string>]> = [
    ["a wrong issuer", (t) => token(t, { claims: { iss: "https://attacker.test" } })],
    ["no issuer", (t) => token(t, { claims: { iss: undefined } })],
    ["a wrong audience", (t) => token(t, { claims: { aud: "another-service" } })],
    ["no audience", (t) => token(t, { claims: { aud: undefined } })],
    ["no exp", (t) => token(t, { claims: { exp: undefined } })],
    ["no tenant claim", (t) => token(t, { claims: { tenant: undefined } })],
    ["a tenant claim with a path", () => token("../x")],
    ["an upper-case tenant", () => token("Acme")],
    ["a reserved tenant", () => token("_admin")],
    ["a tenant that is a number", () => token("x", { claims: { tenant: 42 } })],
    ["a tenant that is a list", () => token("x", { claims: { tenant: ["a", "b"] } })],
    ["an unknown kid", (t) => token(t, { kid: "not-a-test-key" })],
  ];
  for (const [what, make] of refused) {
    it(`answers 401 invalid_token to a token with ${what}`, async () => {
      expect(await accepted(await make(uniqueId("t")))).toBe(false);
    });
  }

  it("answers 401 invalid_token to a token signed by another key, even one claiming a configured key's kid", async () => {
    const tenant = uniqueId("t");
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const { privateKey } = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
      const claims = { iss: ISSUER, aud: AUDIENCE, tenant, scope: "read write", exp: now() + 300 };
      for (const kid of [PRIVATE_KEYS[alg].kid, undefined]) {
        const forged = await new SignJWT(claims)
          .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
          .sign(privateKey);
        expect(await accepted(forged), `${alg} kid=${kid}`).toBe(false);
      }
    }
  });

  it('answers 401 invalid_token to an unsigned token (alg "none")', async () => {
    const tenant = uniqueId("t");
    const part = (value: unknown) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));
    const payload = part({ iss: ISSUER, aud: AUDIENCE, tenant, scope: "read write", exp: now() + 300 });
    for (const header of [{ alg: "none" }, { alg: "none", typ: "JWT" }, { alg: "None" }, { alg: "NONE" }]) {
      expect(await accepted(`${part(header)}.${payload}.`), JSON.stringify(header)).toBe(false);
      // The same with some signature bytes attached.
      expect(await accepted(`${part(header)}.${payload}.c2lnbmF0dXJl`)).toBe(false);
    }
  });

  it("answers 401 invalid_token to HS256 tokens while the deployment verifies with a key set (algorithm confusion)", async () => {
    const tenant = uniqueId("t");
    const claims = { iss: ISSUER, aud: AUDIENCE, tenant, scope: "read write", exp: now() + 300 };
    const hs256 = (secret: Uint8Array, kid?: string) =>
      new SignJWT(claims)
        .setProtectedHeader(kid === undefined ? { alg: "HS256" } : { alg: "HS256", kid })
        .sign(secret);
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(await accepted(await hs256(encode("some-shared-secret-that-is-long-enough")))).toBe(false);
    // The classic attack: the verifier's own public key, as PEM and as JWK text, used as the HMAC secret.
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = PRIVATE_KEYS.RS256;
    const pem = await exportSPKI(
      (await importJWK({ ...publicJwk, ext: true }, "RS256", { extractable: true })) as CryptoKey,
    );
    expect(await accepted(await hs256(encode(pem), PRIVATE_KEYS.RS256.kid))).toBe(false);
    expect(await accepted(await hs256(encode(JSON.stringify(publicJwk)), PRIVATE_KEYS.RS256.kid))).toBe(
      false,
    );
  });

  it("reads scopes as a space-separated string or an array, and ignores unknown ones", async () => {
    const tenant = uniqueId("t");
    for (const scope of [
      "read write",
      ["read", "write"],
      "read write superuser",
      ["write", "read", "owner", 7],
    ]) {
      const jwt = await token(tenant, { claims: { scope } });
      const id = uniqueId("scoped");
      expect((await putDoc(jwt, id, { title: "scoped" })).status, JSON.stringify(scope)).toBe(201);
      const read = await as(jwt, `/v1/todos/${id}`, { headers: { consistency: "strong" } });
      expect(read.status).toBe(200);
      // Neither form grants admin, and an unknown scope grants nothing.
      const admin = await as(jwt, "/v1/_admin/keys");
      expect(admin.status).toBe(403);
      expect(problem(admin).code).toBe("insufficient-scope");
    }
  });

  it('answers 403 insufficient_scope to a write with a token holding only "read", and writes nothing', async () => {
    const tenant = uniqueId("t");
    const reader = await token(tenant, { claims: { scope: "read" } });
    const id = uniqueId("ro");
    const refused = await putDoc(reader, id, { title: "no" });
    expect(refused.status).toBe(403);
    expect(problem(refused).code).toBe("insufficient-scope");
    expect(refused.headers.get("www-authenticate")).toBe(
      'Bearer realm="tessera", error="insufficient_scope", scope="write"',
    );
    const read = await as(reader, `/v1/todos/${id}`, { headers: { consistency: "strong" } });
    expect(read.status).toBe(404);
    // No scope at all: reads are refused too.
    const none = await as(await token(tenant, { claims: { scope: undefined } }), "/v1/_changes");
    expect(none.status).toBe(403);
  });

  it('limits a JWT by the "default" tier (JWT_RATE_LIMIT unset)', async () => {
    const sent = await as(await token(uniqueId("t")), "/v1/_changes");
    expect(sent.status).toBe(200);
    expect(sent.headers.get("ratelimit-policy")).toBe('"default";q=1200;w=60');
  });
});

describe("readJwtConfig and verifyJwt with an HS256 secret", () => {
  const SECRET = "an-hs256-secret-of-at-least-32-bytes!";
  const vars = { JWT_HS256_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };
  const sign = (claims: Record<string, unknown>, secret = SECRET) =>
    new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: now() + 300, ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(secret));

  it("is null when no key source is configured (blank values count as unset)", () => {
    expect(readJwtConfig({})).toBeNull();
    expect(
      readJwtConfig({ JWT_JWKS_URL: "", JWT_JWKS: "  ", JWT_HS256_SECRET: "", JWT_ISSUER: ISSUER }),
    ).toBeNull();
  });

  it("reads the secret, HS256 only, the issuer and audience, and the default claims and tier", () => {
    const config = readJwtConfig(vars);
    expect(config).toMatchObject({
      algorithms: ["HS256"],
      issuer: ISSUER,
      audience: AUDIENCE,
      tenantClaim: "tenant",
      scopesClaim: "scope",
      collectionsClaim: undefined,
      rateLimit: "default",
    });
    expect(config?.keys).toBeInstanceOf(Uint8Array);
  });

  it("verifies a good token into a principal of its tenant, subject and scopes", async () => {
    const config = readJwtConfig(vars);
    if (config === null) throw new Error("no config");
    const principal = await verifyJwt(
      config,
      await sign({ tenant: "acme", sub: "user-1", scope: "read admin x" }),
    );
    expect(principal).toEqual({
      kind: "jwt",
      id: "user-1",
      tenant: "acme",
      scopes: new Set(["read", "admin"]),
      collections: null,
      rateLimit: "default",
    });
    expect((await verifyJwt(config, await sign({ tenant: "acme" })))?.id).toBe("anonymous");
  });

  it("refuses a wrong secret, an asymmetric algorithm, a wrong issuer or audience, expiry and missing exp", async () => {
    const config = readJwtConfig(vars);
    if (config === null) throw new Error("no config");
    expect(
      await verifyJwt(config, await sign({ tenant: "acme" }, "another-secret-of-at-least-32-bytes!!")),
    ).toBeNull();
    expect(await verifyJwt(config, await token("acme", { alg: "ES256" }))).toBeNull();
    expect(await verifyJwt(config, await sign({ tenant: "acme", iss: "https://other.test" }))).toBeNull();
    expect(await verifyJwt(config, await sign({ tenant: "acme", aud: "other" }))).toBeNull();
    expect(
      await verifyJwt(config, await sign({ tenant: "acme", exp: now() - CLOCK_SKEW_SECONDS - 5 })),
    ).toBeNull();
    const noExp = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, tenant: "acme" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(SECRET));
    expect(await verifyJwt(config, noExp)).toBeNull();
    expect(await verifyJwt(config, "not.a.jwt")).toBeNull();
    expect(await verifyJwt(config, await sign({ tenant: "../x" }))).toBeNull();
  });

  it("reads the tenant, scopes and collections from the claims it is told to, and a bad collections claim allows none", async () => {
    const config = readJwtConfig({
      ...vars,
      JWT_TENANT_CLAIM: "org",
      JWT_SCOPES_CLAIM: "permissions",
      JWT_COLLECTIONS_CLAIM: "collections",
      JWT_RATE_LIMIT: "low",
    });
    if (config === null) throw new Error("no config");
    const principal = await verifyJwt(
      config,
      await sign({
        org: "acme",
        tenant: "ignored",
        permissions: ["write"],
        scope: "admin",
        collections: ["orders", 3],
      }),
    );
    expect(principal).toMatchObject({
      tenant: "acme",
      scopes: new Set(["write"]),
      collections: ["orders"],
      rateLimit: "low",
    });
    const malformed = await verifyJwt(
      config,
      await sign({ org: "acme", permissions: "read", collections: "orders" }),
    );
    expect(malformed?.collections).toEqual([]);
    const absent = await verifyJwt(config, await sign({ org: "acme", permissions: "read" }));
    expect(absent?.collections).toEqual([]);
    expect(await verifyJwt(config, await sign({ tenant: "acme", permissions: "read" }))).toBeNull();
  });

  it("with no issuer or audience configured, does not require them", async () => {
    const config = readJwtConfig({ JWT_HS256_SECRET: SECRET });
    if (config === null) throw new Error("no config");
    const bare = await new SignJWT({ tenant: "acme", exp: now() + 60 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(SECRET));
    expect(await verifyJwt(config, bare)).toMatchObject({ tenant: "acme" });
  });
});
