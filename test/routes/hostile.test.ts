/// <reference types="vite/client" />
/**
 * Hostile input, proven: a property-based suite (fast-check, fixed seed) that throws random and adversarial
 * requests at the whole API through the Worker's fetch handler, with its real object, queue, D1 and R2
 * (test/hostile-arbitraries.ts says what it generates: refused credentials and JWTs, hostile path segments and
 * traversal, methods, headers, bodies and query strings). For every request: never a 5xx, every 4xx a problem
 * document, X-Request-Id always, a request that must be refused is, no built-in prototype gains a member, a write
 * that succeeded (tenant scratch) reads back as it answered, and the Worker still answers the next plain request.
 * After every batch: the tenant's seed documents and the absent documents refused writes aimed at (read
 * strongly), its change feed, the key list and the audit trail are exactly as before. At the end a sentinel
 * write shows the feed took nothing else in the meantime.
 *
 * `npm test` runs DEFAULT_RUNS batches; `npm run fuzz` (vitest --mode fuzz) runs FUZZ_RUNS with the same seed.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { encodeBase64Url } from "../../domain/base64url";
import { PROBLEM_TYPE_BASE } from "../../workers/http/problem";
import worker from "../../workers/index";
import { TEST_ADMIN_SECRET } from "../credentials";
import { defaultCredential, eventually, makeKey } from "../helpers";
import {
  type Credential,
  canonicalMethod,
  type DocumentRef,
  expand,
  type HostileRequest,
  hostileRequest,
  REFUSED_CREDENTIALS,
  type RefusedCredential,
  SCENARIOS,
  type World,
} from "../hostile-arbitraries";
import { TEST_JWT } from "../jwt-keys";

const FUZZ = import.meta.env.MODE === "fuzz";
const DEFAULT_RUNS = 300;
const FUZZ_RUNS = 5000;
const RUNS = FUZZ ? FUZZ_RUNS : DEFAULT_RUNS;
const SEED = 20_260_506;

const BASE = "http://tessera.test";
/**
 * Client addresses of this file (key lookups count against a budget per address, so not other files' "local"):
 * the hostile client's, and the suite's own for setting up and reading state, as a victim's would be another's.
 */
const HOSTILE_IP = `2001:db8:a6::${crypto.randomUUID().slice(0, 4)}`;
const SUITE_IP = `2001:db8:a6:1::${crypto.randomUUID().slice(0, 4)}`;

/** Documents of the tenant `default` that exist (two as tombstone and patched) and that no request may change. */
const SEEDS: readonly DocumentRef[] = [
  { collection: "seeds", id: "plain" },
  { collection: "seeds", id: "patched" },
  { collection: "seeds", id: "deleted" },
  { collection: "seeds", id: "proto" },
  { collection: "seeds", id: `odd 'id" ü;%,` },
  { collection: "todos", id: "todo" },
];
/** Events the seeds' writes put in the feed: one each, plus the patch and the delete. */
const SEED_EVENTS = SEEDS.length + 2;
/** Documents of the tenant `default` that do not exist; refused writes aim at them and must not make them. */
const ABSENT: readonly DocumentRef[] = [
  { collection: "seeds", id: "never" },
  { collection: "fresh", id: "f-0" },
  { collection: "fresh", id: "f-1" },
  { collection: "todos", id: "never" },
];

const docPath = (ref: DocumentRef) => `/v1/${ref.collection}/${encodeURIComponent(ref.id)}`;

/** The value of every credential the arbitraries name, as Authorization headers (none, one, or duplicated). */
const credentials = new Map<Credential, string[]>();

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * Sends a request to the Worker's fetch handler (workers/index.ts) with an execution context of the pool, and
 * waits for its waitUntil work. Not through `exports.default.fetch` (test/helpers.ts): in vitest-pool-workers
 * 0.15.1 each call constructs the entrypoint wrapper, whose constructor wraps the class's prototype in one more
 * Proxy (createProxyPrototypeClass), so every call is slower than the last (measured: a /healthz from ~2-5 ms to
 * ~45 ms within 600 calls), and thousands of requests would take quadratic time.
 */
async function fetchRaw(path: string, init: RequestInit = {}, client = SUITE_IP): Promise<Answer> {
  const headers = new Headers(init.headers);
  headers.set("cf-connecting-ip", client);
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(BASE + path, { ...init, headers }), env, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, text };
}

/** A request with one of the suite's own credentials, for setting up and reading state. */
function as(credential: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${credential}`);
  return fetchRaw(path, { ...init, headers });
}

const asDefault = (path: string, init: RequestInit = {}) => as(defaultCredential.key, path, init);
const jsonBody = (method: string, body: string, type = "application/json"): RequestInit => ({
  method,
  headers: { "content-type": type },
  body,
});

function pathOf(request: HostileRequest): string {
  const path = `/${request.segments.map(expand).join("/")}`;
  return request.query.length === 0 ? path : `${path}?${request.query.map(expand).join("&")}`;
}

function bodyOf(request: HostileRequest): BodyInit | null {
  const body = request.body;
  if (body === null) return null;
  if (body.kind === "bytes") return new Uint8Array(body.bytes);
  const text = expand(body.text);
  if (body.kind === "text") return text;
  const bytes = new TextEncoder().encode(text);
  const CHUNK = 64 * 1024;
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

/** One line that says what was sent, for assertion messages (long parts cut). */
function describeRequest(request: HostileRequest): string {
  const cut = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}…(${s.length} chars)` : s);
  const headers = request.headers.map(([name, value]) => `${name}: ${cut(expand(value))}`).join("; ");
  const body =
    request.body === null
      ? "no body"
      : request.body.kind === "bytes"
        ? `bytes ${JSON.stringify(request.body.bytes)}`
        : `${request.body.kind} ${cut(expand(request.body.text))}${request.body.kind === "text" && request.body.declaredLength !== undefined ? ` (Content-Length: ${request.body.declaredLength})` : ""}`;
  return `[${request.scenario}: ${request.label}] ${request.method} ${cut(pathOf(request))} as ${request.credential} | ${headers} | ${body}`;
}

async function sendHostile(request: HostileRequest): Promise<Answer> {
  const headers = new Headers();
  for (const value of credentials.get(request.credential) ?? []) headers.append("authorization", value);
  for (const [name, value] of request.headers) headers.append(name, expand(value));
  if (request.body?.kind === "text" && request.body.declaredLength !== undefined) {
    headers.set("content-length", request.body.declaredLength);
  }
  return fetchRaw(pathOf(request), { method: request.method, headers, body: bodyOf(request) }, HOSTILE_IP);
}

/** What every answer must be, and what a request that must be refused must get. */
function checkAnswer(request: HostileRequest, answer: Answer): void {
  const what = `${answer.status} ${answer.text.slice(0, 300)} for ${describeRequest(request)}`;
  expect(answer.status, `no 5xx: ${what}`).toBeLessThan(500);
  expect(answer.headers.get("x-request-id"), `X-Request-Id on ${what}`).toBeTruthy();
  if (answer.status >= 400) {
    expect(answer.headers.get("content-type"), `a problem document: ${what}`).toBe(
      "application/problem+json",
    );
    if (canonicalMethod(request.method) !== "HEAD") {
      const problem = JSON.parse(answer.text) as Record<string, unknown>;
      expect(problem, `problem fields: ${what}`).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}${String(problem.code)}`,
        title: expect.any(String),
        status: answer.status,
        detail: expect.any(String),
        code: expect.stringMatching(/^[a-z0-9-]+$/),
      });
    }
    if (answer.status === 401) expect(answer.headers.get("www-authenticate"), what).toMatch(/^Bearer realm=/);
    if (answer.status === 405) expect(answer.headers.get("allow"), what).toBeTruthy();
  }
  if (request.mustRefuse) {
    const refused =
      (answer.status >= 400 && answer.status < 500) ||
      (canonicalMethod(request.method) === "OPTIONS" && answer.status === 204);
    expect(refused, `must be refused: ${what}`).toBe(true);
  }
}

const prototypeNames = () =>
  [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) =>
    Object.getOwnPropertyNames(p).sort().join(","),
  );
const PROTOTYPES = prototypeNames();

/** No request adds to a built-in prototype of this isolate (the Worker's too, in this pool). */
function expectNoPollution(request: HostileRequest): void {
  expect(({} as Record<string, unknown>).polluted, describeRequest(request)).toBeUndefined();
  expect(prototypeNames(), describeRequest(request)).toEqual(PROTOTYPES);
}

/**
 * A write of the tenant scratch that succeeded changed its document as it said: a strong read answers the
 * envelope the write did (a delete: 404).
 */
async function expectWriteStored(request: HostileRequest, answer: Answer): Promise<void> {
  const method = canonicalMethod(request.method);
  if (request.credential !== "scratch" || answer.status >= 300) return;
  if (!["PUT", "PATCH", "POST", "DELETE"].includes(method)) return;
  const scratch = credentials.get("scratch")?.[0] ?? "";
  const strong = { headers: { authorization: scratch, consistency: "strong" } };
  if (method === "DELETE") {
    const path = new URL(BASE + pathOf(request)).pathname;
    expect((await fetchRaw(path, strong)).status, describeRequest(request)).toBe(404);
    return;
  }
  const written = JSON.parse(answer.text) as { collection: string; id: string };
  const read = await fetchRaw(`/v1/${written.collection}/${encodeURIComponent(written.id)}`, strong);
  expect(read.status, describeRequest(request)).toBe(200);
  expect(JSON.parse(read.text), `read back after ${describeRequest(request)}`).toEqual(
    JSON.parse(answer.text),
  );
}

// --- the state that refused requests must leave alone --------------------------------------------------------

interface State {
  readonly documents: ReadonlyArray<{ ref: DocumentRef; status: number; etag: string | null; body: string }>;
  readonly feed: { count: number; next: string; changes: string };
  readonly keys: string;
  readonly audit: string;
}

/** The tenant's seed and absent documents (strong reads), its change feed, the key list and the audit trail. */
async function readState(): Promise<State> {
  const strong = { headers: { consistency: "strong" } };
  const [documents, feed, keys, audit] = await Promise.all([
    Promise.all(
      [...SEEDS, ...ABSENT].map(async (ref) => {
        const answer = await asDefault(docPath(ref), strong);
        return { ref, status: answer.status, etag: answer.headers.get("etag"), body: answer.text };
      }),
    ),
    asDefault("/v1/_changes?limit=1000"),
    as(TEST_ADMIN_SECRET, "/v1/_admin/keys?limit=500"),
    as(TEST_ADMIN_SECRET, "/v1/_admin/audit?limit=1000"),
  ]);
  for (const answer of [feed, keys, audit]) expect(answer.status, answer.text).toBe(200);
  const page = JSON.parse(feed.text) as { changes: unknown[]; next: string };
  return {
    // Whole answers: a 404's problem document carries nothing specific to the request that read it.
    documents,
    feed: { count: page.changes.length, next: page.next, changes: JSON.stringify(page.changes) },
    keys: keys.text,
    audit: audit.text,
  };
}

// --- credentials ---------------------------------------------------------------------------------------------

const keyIdOf = (key: string) => /^tsk_([0-9a-f]{16})_/.exec(key)?.[1] ?? "";
/** The secret part of `tsk_<id>_<secret>` (a base64url secret may itself hold "_"). */
const secretOf = (key: string) => key.slice("tsk_".length + 16 + 1);
const b64 = (value: unknown) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));

/** A JWT signed with the deployment's own RS256 test key (or `signWith`), `claims` over sane defaults. */
async function jwt(
  claims: Record<string, unknown>,
  options: { kid?: string; signWith?: CryptoKey | Uint8Array; alg?: string; expires?: number } = {},
): Promise<string> {
  const jwks = JSON.parse(env.TEST_JWT_PRIVATE_KEYS) as Record<string, JWK & { kid: string }>;
  const rs = jwks.RS256;
  if (rs === undefined) throw new Error("no RS256 test key");
  const key = options.signWith ?? (await importJWK(rs, "RS256"));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tenant: "default", scope: "read write admin", ...claims })
    .setProtectedHeader({ alg: options.alg ?? "RS256", kid: options.kid ?? rs.kid })
    .setIssuer(typeof claims.iss === "string" ? claims.iss : TEST_JWT.issuer)
    .setAudience(typeof claims.aud === "string" ? claims.aud : TEST_JWT.audience)
    .setSubject("hostile-suite")
    .setIssuedAt(now - 60)
    .setExpirationTime(options.expires ?? now + 600)
    .sign(key);
}

async function refusedCredentialValues(keys: {
  default: string;
  scratch: string;
  revoked: string;
}): Promise<Record<RefusedCredential, string[]>> {
  const now = Math.floor(Date.now() / 1000);
  const foreign = await generateKeyPair("ES256", { extractable: true });
  // A key pair the deployment has never seen, under the kid of one it trusts.
  const foreignJwk = await exportJWK(foreign.privateKey);
  const withoutExp = new SignJWT({ tenant: "default", scope: "read" })
    .setProtectedHeader({ alg: "RS256", kid: "test-rs256" })
    .setIssuer(TEST_JWT.issuer)
    .setAudience(TEST_JWT.audience);
  const rs = (JSON.parse(env.TEST_JWT_PRIVATE_KEYS) as Record<string, JWK>).RS256;
  if (rs === undefined) throw new Error("no RS256 test key");
  const otherSecret = secretOf(keys.default).replace(/^./, (c) => (c === "A" ? "B" : "A"));
  const operator = TEST_ADMIN_SECRET;
  return {
    none: [],
    empty: [""],
    blank: ["   "],
    "scheme-only": ["Bearer"],
    basic: [`Basic ${btoa(`default:${keys.default}`)}`],
    "token-scheme": [`Token ${keys.default}`],
    "tab-separated": [`Bearer\t${keys.default}`],
    duplicated: [`Bearer ${keys.default}`, `Bearer ${keys.scratch}`],
    "duplicated-with-garbage": [`Bearer ${keys.default}`, "Bearer garbage"],
    "wrong-secret": [`Bearer tsk_${keyIdOf(keys.default)}_${otherSecret}`],
    "unknown-key": [`Bearer tsk_0123456789abcdef_${secretOf(keys.default)}`],
    "truncated-key": [`Bearer ${keys.default.slice(0, -1)}`],
    "padded-key": [`Bearer ${keys.default}==`],
    "key-with-suffix": [`Bearer ${keys.default}.x`],
    "revoked-key": [`Bearer ${keys.revoked}`],
    "over-8k": [`Bearer ${"a".repeat(9_000)}`],
    "60k": [`Bearer ${"a".repeat(60_000)}`],
    "sql-shaped": ["Bearer ' OR 1=1 --", `Bearer ${keys.default}' OR '1'='1`],
    "operator-near-miss": [`Bearer ${operator.slice(0, -1)}${operator.endsWith("9") ? "8" : "9"}`],
    "operator-with-suffix": [`Bearer ${operator}x`],
    "jwt-alg-none": [
      `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ tenant: "default", scope: "read write admin", iss: TEST_JWT.issuer, aud: TEST_JWT.audience, exp: now + 600 })}.`,
    ],
    "jwt-expired": [`Bearer ${await jwt({}, { expires: now - 3600 })}`],
    "jwt-foreign-key": [
      `Bearer ${await jwt({}, { alg: "ES256", kid: "test-es256", signWith: await importJWK(foreignJwk, "ES256") })}`,
    ],
    "jwt-wrong-issuer": [`Bearer ${await jwt({ iss: "https://evil.example" })}`],
    "jwt-wrong-audience": [`Bearer ${await jwt({ aud: "someone-else" })}`],
    "jwt-bad-tenant": [`Bearer ${await jwt({ tenant: "_system" })}`],
    "jwt-sql-tenant": [`Bearer ${await jwt({ tenant: "default' OR '1'='1" })}`],
    "jwt-no-tenant": [`Bearer ${await jwt({ tenant: undefined })}`],
    "jwt-no-exp": [`Bearer ${await withoutExp.sign(await importJWK(rs, "RS256"))}`],
    "jwt-not-yet-valid": [`Bearer ${await jwt({ nbf: now + 3600 })}`],
    "jwt-hs256": [
      `Bearer ${await jwt({}, { alg: "HS256", signWith: new TextEncoder().encode(JSON.stringify(rs)) })}`,
    ],
    "jwt-kid-traversal": [`Bearer ${await jwt({}, { kid: "../../../../etc/passwd" })}`],
    "jwt-no-scopes": [`Bearer ${await jwt({ scope: "" })}`],
    "jwt-garbage": ["Bearer a.b.c", `Bearer ${b64({ alg: "RS256" })}.${b64({})}.${"A".repeat(342)}`],
  };
}

// --- the suite -----------------------------------------------------------------------------------------------

let world: World;
let baseline: State;

beforeAll(async () => {
  const scratch = await makeKey({ tenant: "scratch", name: "hostile: scratch" });
  const readOnly = await makeKey({ name: "hostile: read-only", scopes: ["read"] });
  const elsewhere = await makeKey({ name: "hostile: elsewhere", collections: ["elsewhere"] });
  const revoked = await makeKey({ name: "hostile: revoked" });
  expect(
    (await as(TEST_ADMIN_SECRET, `/v1/_admin/keys/${keyIdOf(revoked)}`, { method: "DELETE" })).status,
  ).toBe(204);

  credentials.set("default", [`Bearer ${defaultCredential.key}`]);
  credentials.set("scratch", [`Bearer ${scratch}`]);
  credentials.set("operator", [`Bearer ${TEST_ADMIN_SECRET}`]);
  credentials.set("read-only", [`Bearer ${readOnly}`]);
  credentials.set("elsewhere-only", [`Bearer ${elsewhere}`]);
  const refused = await refusedCredentialValues({ default: defaultCredential.key, scratch, revoked });
  for (const name of REFUSED_CREDENTIALS) credentials.set(name, refused[name]);

  // The seeds: a plain document, a patched one, a tombstone, one with an own __proto__ key, an odd id, a todo.
  const writes: Array<[DocumentRef, RequestInit]> = [
    [SEEDS[0] as DocumentRef, jsonBody("PUT", '{"name":"plain","n":1,"nested":{"k":"v"}}')],
    [SEEDS[1] as DocumentRef, jsonBody("PUT", '{"name":"patched","n":1}')],
    [SEEDS[1] as DocumentRef, jsonBody("PATCH", '{"n":2}', "application/merge-patch+json")],
    [SEEDS[2] as DocumentRef, jsonBody("PUT", '{"name":"deleted"}')],
    [SEEDS[2] as DocumentRef, { method: "DELETE" }],
    [SEEDS[3] as DocumentRef, jsonBody("PUT", '{"__proto__":{"inner":1},"name":"proto"}')],
    [SEEDS[4] as DocumentRef, jsonBody("PUT", '{"name":"odd"}')],
    [
      SEEDS[5] as DocumentRef,
      jsonBody("PUT", '{"title":"seed","status":"open","priority":3,"owner":"ada","done":false}'),
    ],
  ];
  for (const [ref, init] of writes) expect((await asDefault(docPath(ref), init)).status).toBeLessThan(300);
  await eventually(async () => {
    const feed = JSON.parse((await asDefault("/v1/_changes?limit=1000")).text) as { changes: unknown[] };
    expect(feed.changes).toHaveLength(SEED_EVENTS);
  });

  const openapi = JSON.parse((await fetchRaw("/openapi.json")).text) as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  const routes = Object.entries(openapi.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, op]) => (op.security ?? []).length > 0)
      .map(([method]) => ({ method: method.toUpperCase(), path })),
  );
  world = {
    seeds: SEEDS,
    absent: ABSENT,
    routes,
    keyIds: { default: [keyIdOf(defaultCredential.key), keyIdOf(readOnly)], scratch: [keyIdOf(scratch)] },
  };
  baseline = await readState();
  expect(baseline.feed.count).toBe(SEED_EVENTS);
});

describe("hostile requests through the whole API", () => {
  it(
    `never answer 5xx, refuse what they must with a problem document, and change nothing they were refused (${RUNS} batches, seed ${SEED})`,
    async () => {
      const seen = {
        requests: 0,
        refused: 0,
        succeeded: 0,
        scenarios: new Map<string, number>(),
        statuses: new Map<number, number>(),
      };
      await fc.assert(
        fc.asyncProperty(fc.array(hostileRequest(world), { minLength: 1, maxLength: 4 }), async (batch) => {
          for (const request of batch) {
            const answer = await sendHostile(request);
            checkAnswer(request, answer);
            expectNoPollution(request);
            await expectWriteStored(request, answer);
            seen.requests += 1;
            seen.scenarios.set(request.scenario, (seen.scenarios.get(request.scenario) ?? 0) + 1);
            seen.statuses.set(answer.status, (seen.statuses.get(answer.status) ?? 0) + 1);
            if (answer.status >= 400) seen.refused += 1;
            if (answer.status < 300) seen.succeeded += 1;
            // Still standing: the next plain request is answered.
            const health = await fetchRaw("/healthz");
            expect(health.status, `alive after ${describeRequest(request)}`).toBe(200);
          }
          expect(
            await readState(),
            `state after the batch ${batch.map(describeRequest).join(" ; ")}`,
          ).toEqual(baseline);
        }),
        // A failure is reported as it happened, unshrunk: the state a broken request changed stays changed, so
        // shrinking would blame whichever smaller batch ran next. Replay with the seed and the reported path.
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );

      // Nothing reached the feed behind the last check's back: a write made now is the one change after the baseline.
      const sentinel: DocumentRef = { collection: "seeds", id: "sentinel" };
      expect((await asDefault(docPath(sentinel), jsonBody("PUT", "{}"))).status).toBe(201);
      const after = await eventually(async () => {
        const page = JSON.parse((await asDefault(`/v1/_changes?after=${baseline.feed.next}`)).text) as {
          changes: Array<{ collection: string; id: string }>;
        };
        expect(page.changes.length).toBeGreaterThan(0);
        return page.changes;
      });
      expect(after.map((c) => `${c.collection}/${c.id}`)).toEqual(["seeds/sentinel"]);

      // The generator reached every scenario, and some requests (of the tenant scratch) succeeded.
      if (FUZZ)
        console.log(
          "hostile:",
          JSON.stringify({
            ...seen,
            scenarios: [...seen.scenarios],
            statuses: [...seen.statuses].sort((a, b) => a[0] - b[0]),
          }),
        );
      expect([...seen.scenarios.keys()].sort()).toEqual([...SCENARIOS].sort());
      expect(seen.succeeded).toBeGreaterThan(0);
    },
    FUZZ ? 3_600_000 : 120_000,
  );
});

describe("a refused revocation of another tenant's key", () => {
  // Found by the property above in a long run (npm run fuzz, batch 3,561: a 429 on the suite's own read): a
  // refused (404) DELETE of another tenant's key id evicted that key from the isolate's cache, so each of its next
  // requests cost a D1 lookup against its client's lookup budget; repeated, it drove another tenant into 429s.
  it("leaves that key cached: its next request makes no D1 lookup", async () => {
    const victim = await makeKey({ name: "hostile: victim" });
    const attacker = await makeKey({ tenant: "scratch", name: "hostile: attacker" });
    expect((await as(victim, "/v1/things/none")).status).toBe(404);
    const prepare = vi.spyOn(env.DB, "prepare");
    try {
      const refused = await as(attacker, `/v1/_admin/keys/${keyIdOf(victim)}`, { method: "DELETE" });
      expect(refused.status).toBe(404);
      const before = prepare.mock.calls.length;
      expect((await as(victim, "/v1/things/none")).status).toBe(404);
      const lookups = prepare.mock.calls.slice(before).filter(([sql]) => sql.includes("FROM api_keys"));
      expect(lookups).toEqual([]);
    } finally {
      prepare.mockRestore();
    }
  });
});
