/**
 * Authentication and authorization of every route the OpenAPI document declares secured: 401 (RFC 6750) for a
 * missing, malformed, unknown, revoked or wrong credential; 403 for a missing scope, the operator on tenant data,
 * or a collection the credential may not use. The route list comes from GET /openapi.json, so a new route is
 * covered (or this file fails until its scope is named here).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_ADMIN_SECRET } from "../credentials";
import { eventually, makeKey, problem, type Sent, send, uniqueId } from "../helpers";

/** This file's client address: its key lookups count against its own budget, not other files' "local" one. */
const CLIENT_IP = `2001:db8:a0::${crypto.randomUUID().slice(0, 4)}`;

type Scope = "read" | "write" | "admin";

/**
 * What each secured operation needs (`operator`: the operator secret alone, no tenant credential); the test below
 * fails when the document has one this table lacks.
 */
const SCOPE_OF: Record<string, Scope | "operator"> = {
  getChanges: "read",
  getDocument: "read",
  getDocumentHistory: "read",
  queryCollection: "read",
  createDocument: "write",
  putDocument: "write",
  patchDocument: "write",
  deleteDocument: "write",
  createKey: "admin",
  listKeys: "admin",
  revokeKey: "admin",
  listAudit: "admin",
  getStats: "admin",
  listDeadLetters: "admin",
  redriveDeadLetters: "admin",
  runTransaction: "write",
  startSaga: "write",
  startNamedSaga: "write",
  listSagas: "read",
  getSaga: "read",
  cancelSaga: "write",
  resumeSaga: "admin",
  getMetrics: "admin",
  exportDocuments: "read",
  importDocuments: "write",
  startRebuild: "operator",
  listRebuilds: "operator",
  getRebuild: "operator",
  cancelRebuild: "operator",
};
/** The operations every version of the API has had; newer ones (transactions, sagas) join SCOPE_OF as they land. */
const NEWER = [
  "runTransaction",
  "startSaga",
  "startNamedSaga",
  "listSagas",
  "getSaga",
  "cancelSaga",
  "resumeSaga",
  "exportDocuments",
  "importDocuments",
  "startRebuild",
  "listRebuilds",
  "getRebuild",
  "cancelRebuild",
];
const CORE = Object.keys(SCOPE_OF).filter((id) => !NEWER.includes(id));

interface Operation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly secured: boolean;
}

/** Sends a request with `authorization` as given (null: none at all), from this file's client address. */
function as(authorization: string | null, path: string, init: RequestInit = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  headers.set("authorization", authorization ?? "");
  headers.set("cf-connecting-ip", CLIENT_IP);
  return send(path, { ...init, headers });
}

const withBearer = (token: string) => `Bearer ${token}`;

/** An operation's path with placeholders filled (a collection, a document id, a key id) and a body when it takes one. */
function requestFor(op: Operation, collection = "todos"): { path: string; init: RequestInit } {
  const path = op.path
    .replace("{collection}", collection)
    .replace(/\/v1\/_admin\/keys\/\{id\}/, "/v1/_admin/keys/0123456789abcdef")
    .replace(
      "{saga}",
      op.method.toUpperCase() === "POST" && op.path === "/v1/_sagas/{saga}"
        ? "place-order"
        : "01J0000000000000000000000A",
    )
    .replace("{id}", uniqueId("auth"));
  const method = op.method.toUpperCase();
  if (method === "PUT" || method === "POST") {
    return {
      path,
      init: { method, headers: { "content-type": "application/json" }, body: '{"title":"t"}' },
    };
  }
  if (method === "PATCH") {
    return {
      path,
      init: { method, headers: { "content-type": "application/merge-patch+json" }, body: '{"title":"p"}' },
    };
  }
  return { path, init: { method } };
}

function keyId(key: string): string {
  const id = /^tsk_([0-9a-f]{16})_/.exec(key)?.[1];
  if (id === undefined) throw new Error(`not a key: ${key}`);
  return id;
}

const randomSecret = () =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

function expectProblem(sent: Sent, status: number, code: string): void {
  expect(sent.status).toBe(status);
  expect(sent.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(problem(sent)).toMatchObject({ status, code, type: expect.stringContaining(code) });
  expect(typeof problem(sent).detail).toBe("string");
}

function expectUnauthorized(sent: Sent, invalid: boolean): void {
  expectProblem(sent, 401, invalid ? "invalid-credential" : "unauthenticated");
  expect(sent.headers.get("www-authenticate")).toBe(
    invalid ? 'Bearer realm="tessera", error="invalid_token"' : 'Bearer realm="tessera"',
  );
}

function expectForbidden(sent: Sent, scope?: Scope): void {
  expectProblem(sent, 403, "insufficient-scope");
  const challenge = sent.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer realm="tessera", error="insufficient_scope"/);
  if (scope !== undefined) expect(challenge).toContain(`scope="${scope}"`);
}

let operations: Operation[] = [];
const secured = () => operations.filter((op) => op.secured);

beforeAll(async () => {
  const doc = await as(null, "/openapi.json");
  expect(doc.status).toBe(200);
  const paths = (
    doc.body as { paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>> }
  ).paths;
  operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      operationId: op.operationId,
      method,
      path,
      secured: (op.security ?? []).length > 0,
    })),
  );
});

describe("the route list", () => {
  it("names a scope for every secured operation, and only /healthz, /readyz and /openapi.json are public", () => {
    const ids = secured().map((op) => op.operationId);
    // A secured operation this file does not know fails here: name its scope in SCOPE_OF.
    for (const id of ids) expect(Object.keys(SCOPE_OF), `the scope of ${id}`).toContain(id);
    expect(ids).toEqual(expect.arrayContaining(CORE));
    expect(
      operations
        .filter((op) => !op.secured)
        .map((op) => `${op.method} ${op.path}`)
        .sort(),
    ).toEqual(["get /healthz", "get /openapi.json", "get /readyz"]);
  });
});

describe("without a valid credential", () => {
  it("answers 401 unauthenticated with a bare Bearer challenge on every secured route when no credential is sent", async () => {
    for (const op of secured()) {
      const { path, init } = requestFor(op);
      const sent = await as(null, path, init);
      expect(sent.status, `${op.method} ${path}`).toBe(401);
      expectUnauthorized(sent, false);
    }
  });

  const malformed: Array<[string, string]> = [
    ["a Basic credential", "Basic dXNlcjpwYXNzd29yZA=="],
    ["the Bearer scheme with no token", "Bearer"],
    ["a 10 KB bearer token", withBearer("a".repeat(10 * 1024))],
    ["a token with characters outside b64token", "Bearer tsk_{}<>"],
    ["two tokens", "Bearer one two"],
    ["something JWT-shaped that is no JWT", withBearer("aaaa.bbbb.cccc")],
    ["a wrong operator secret", withBearer(`${TEST_ADMIN_SECRET}x`)],
    ["a malformed key", withBearer("tsk_0123_short")],
  ];
  for (const [what, header] of malformed) {
    it(`answers 401 invalid-credential with error="invalid_token" on every secured route to ${what}`, async () => {
      for (const op of secured()) {
        const { path, init } = requestFor(op);
        const sent = await as(header, path, init);
        expect(sent.status, `${op.method} ${path}`).toBe(401);
        expectUnauthorized(sent, true);
      }
    });
  }

  it("answers 401 invalid-credential on every secured route to a well-formed key that was never issued", async () => {
    const unknown = `tsk_${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0")).join("")}_${randomSecret()}`;
    expect(unknown).toMatch(/^tsk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    for (const op of secured()) {
      const { path, init } = requestFor(op);
      const sent = await as(withBearer(unknown), path, init);
      expect(sent.status, `${op.method} ${path}`).toBe(401);
      expectUnauthorized(sent, true);
    }
  });

  it("answers 401 invalid-credential on every secured route to a key with the right id and a wrong secret", async () => {
    const tenant = uniqueId("t");
    const key = await makeKey({ tenant });
    const wrong = `tsk_${keyId(key)}_${randomSecret()}`;
    expect(wrong).not.toBe(key);
    // The key itself works (and is now cached): only the secret differs.
    expect((await as(withBearer(key), "/v1/_stats")).status).toBe(200);
    for (const op of secured()) {
      const { path, init } = requestFor(op);
      const sent = await as(withBearer(wrong), path, init);
      expect(sent.status, `${op.method} ${path}`).toBe(401);
      expectUnauthorized(sent, true);
    }
    // One character off at the end of the secret is as wrong as a random one.
    const last = key.at(-1) === "A" ? "B" : "A";
    expectUnauthorized(await as(withBearer(key.slice(0, -1) + last), "/v1/_stats"), true);
  });

  it("answers 401 with WWW-Authenticate on every secured route to a revoked key", async () => {
    const tenant = uniqueId("t");
    const key = await makeKey({ tenant });
    expect((await as(withBearer(key), "/v1/_stats")).status).toBe(200);
    const revoked = await as(withBearer(TEST_ADMIN_SECRET), `/v1/_admin/keys/${keyId(key)}`, {
      method: "DELETE",
    });
    expect(revoked.status).toBe(204);
    expect(revoked.body).toBe("");
    for (const op of secured()) {
      const { path, init } = requestFor(op);
      const sent = await as(withBearer(key), path, init);
      expect(sent.status, `${op.method} ${path}`).toBe(401);
      expectUnauthorized(sent, true);
    }
  });

  it("writes nothing for a request it refuses with 401", async () => {
    const id = uniqueId("refused");
    const refused = await as(withBearer("tsk_0123456789abcdef_nope"), `/v1/todos/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"title":"must not exist"}',
    });
    expectUnauthorized(refused, true);
    const key = await makeKey();
    const read = await as(withBearer(key), `/v1/todos/${id}`, { headers: { consistency: "strong" } });
    expectProblem(read, 404, "not-found");
  });

  it("keeps /healthz and /openapi.json open with no credential and with an invalid one", async () => {
    for (const authorization of [null, "Basic Zm9vOmJhcg==", withBearer("tsk_0123456789abcdef_nope")]) {
      const health = await as(authorization, "/healthz");
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: "ok" });
      const doc = await as(authorization, "/openapi.json");
      expect(doc.status).toBe(200);
      expect(doc.body).toMatchObject({ openapi: "3.1.0" });
    }
  });

  it("accepts the Bearer scheme in any letter case (RFC 9110: schemes are case-insensitive)", async () => {
    const key = await makeKey({ tenant: uniqueId("t") });
    const sent = await as(`bearer ${key}`, "/v1/_stats");
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ documents: 0 });
  });
});

describe("the operator secret", () => {
  const operator = withBearer(TEST_ADMIN_SECRET);

  it("reaches the key API, the audit trail and the operations routes", async () => {
    const tenant = uniqueId("t");
    const created = await as(operator, "/v1/_admin/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant, scopes: ["read"], name: "by the operator" }),
    });
    expect(created.status).toBe(201);
    const { id } = created.body as { id: string };
    const listed = await as(operator, `/v1/_admin/keys?tenant=${tenant}`);
    expect(listed.status).toBe(200);
    expect((listed.body as { items: Array<{ id: string }> }).items.map((k) => k.id)).toEqual([id]);
    const audit = await as(operator, `/v1/_admin/audit?tenant=${tenant}`);
    expect(audit.status).toBe(200);
    expect((audit.body as { items: Array<{ action: string }> }).items.map((e) => e.action)).toEqual([
      "key.create",
    ]);
    const stats = await as(operator, `/v1/_stats?tenant=${tenant}`);
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ documents: 0, eventsProjected: 0 });
    const dead = await as(operator, `/v1/_admin/dead-letters?tenant=${tenant}`);
    expect(dead.status).toBe(200);
    expect(dead.body).toEqual({ items: [], next: null });
    const redrive = await as(operator, `/v1/_admin/dead-letters/redrive?tenant=${tenant}`, {
      method: "POST",
    });
    expect(redrive.status).toBe(200);
    expect(redrive.body).toEqual({ redriven: 0, remaining: 0 });
    const revoked = await as(operator, `/v1/_admin/keys/${id}`, { method: "DELETE" });
    expect(revoked.status).toBe(204);
  });

  it("gets 403 insufficient-scope on every document route, query and the feed", async () => {
    const tenantRoutes = secured().filter(
      (op) => SCOPE_OF[op.operationId] !== "admin" && SCOPE_OF[op.operationId] !== "operator",
    );
    expect(tenantRoutes.length).toBeGreaterThanOrEqual(8);
    for (const op of tenantRoutes) {
      const { path, init } = requestFor(op);
      const sent = await as(operator, path, init);
      expect(sent.status, `${op.method} ${path}`).toBe(403);
      expectForbidden(sent);
    }
  });
});

describe("the operator's own routes", () => {
  it("admit the operator secret and refuse every tenant credential, a tenant admin's included", async () => {
    const operatorRoutes = secured().filter((op) => SCOPE_OF[op.operationId] === "operator");
    expect(operatorRoutes.length).toBeGreaterThanOrEqual(4);
    const tenantAdmin = await makeKey({ tenant: uniqueId("t"), scopes: ["read", "write", "admin"] });
    for (const op of operatorRoutes) {
      const { path, init } = requestFor(op);
      const asOperator = await as(withBearer(TEST_ADMIN_SECRET), path, init);
      expect([401, 403], `${op.method} ${path} answered ${asOperator.status}`).not.toContain(
        asOperator.status,
      );
      const asTenant = await as(withBearer(tenantAdmin), path, init);
      expect(asTenant.status, `${op.method} ${path}`).toBe(403);
      expectForbidden(asTenant);
    }
  });
});

describe("scopes", () => {
  for (const missing of ["read", "write", "admin"] as const) {
    it(`answers 403 with error="insufficient_scope" to a key without "${missing}" on exactly the routes that need it`, async () => {
      const tenant = uniqueId("t");
      const key = await makeKey({
        tenant,
        scopes: (["read", "write", "admin"] as const).filter((s) => s !== missing),
      });
      for (const op of secured()) {
        const { path, init } = requestFor(op);
        const sent = await as(withBearer(key), path, init);
        if (SCOPE_OF[op.operationId] === missing) {
          expect(sent.status, `${op.method} ${path}`).toBe(403);
          expectForbidden(sent, missing);
        } else if (SCOPE_OF[op.operationId] === "operator") {
          // No tenant credential reaches the operator's routes, whatever its scopes.
          expect(sent.status, `${op.method} ${path}`).toBe(403);
          expectForbidden(sent);
        } else {
          expect([401, 403], `${op.method} ${path} answered ${sent.status}`).not.toContain(sent.status);
        }
      }
    });
  }

  it("writes nothing for a write it refuses with 403", async () => {
    const tenant = uniqueId("t");
    const reader = await makeKey({ tenant, scopes: ["read"] });
    const id = uniqueId("ro");
    const refused = await as(withBearer(reader), `/v1/todos/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"title":"must not exist"}',
    });
    expectForbidden(refused, "write");
    const read = await as(withBearer(reader), `/v1/todos/${id}`, { headers: { consistency: "strong" } });
    expectProblem(read, 404, "not-found");
  });
});

describe("a key limited to some collections", () => {
  it("gets 403 on another collection's every route and on its feed, and works on its own", async () => {
    const tenant = uniqueId("t");
    const orders = await makeKey({ tenant, collections: ["orders"], scopes: ["read", "write"] });
    for (const op of secured().filter((o) => o.path.includes("{collection}"))) {
      const { path, init } = requestFor(op, "todos");
      const sent = await as(withBearer(orders), path, init);
      expect(sent.status, `${op.method} ${path}`).toBe(403);
      expectForbidden(sent);
      expect(problem(sent)).toMatchObject({ collection: "todos" });
    }
    expectForbidden(await as(withBearer(orders), "/v1/_changes?collection=todos"));
    const id = uniqueId("o");
    const written = await as(withBearer(orders), `/v1/orders/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"item":"widget"}',
    });
    expect(written.status).toBe(201);
    const read = await as(withBearer(orders), `/v1/orders/${id}`, { headers: { consistency: "strong" } });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ data: { item: "widget" } });
  });

  it("gets 403 for a transaction that touches another collection, and nothing of it is written", async (ctx) => {
    if (!operations.some((op) => op.operationId === "runTransaction")) ctx.skip();
    const tenant = uniqueId("t");
    const orders = await makeKey({ tenant, collections: ["orders"], scopes: ["read", "write"] });
    const [orderId, todoId] = [uniqueId("o"), uniqueId("t")];
    const sent = await as(withBearer(orders), "/v1/_transactions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        operations: [
          { op: "put", collection: "orders", id: orderId, data: { item: "widget" } },
          { op: "put", collection: "todos", id: todoId, data: { title: "not mine" } },
        ],
      }),
    });
    expectForbidden(sent);
    expect(problem(sent)).toMatchObject({ collection: "todos" });
    const full = await makeKey({ tenant });
    for (const path of [`/v1/orders/${orderId}`, `/v1/todos/${todoId}`]) {
      expectProblem(
        await as(withBearer(full), path, { headers: { consistency: "strong" } }),
        404,
        "not-found",
      );
    }
  });

  it("sees only its collections in the feed when it names none", async () => {
    const tenant = uniqueId("t");
    const full = await makeKey({ tenant });
    const orders = await makeKey({ tenant, collections: ["orders"], scopes: ["read", "write"] });
    const orderId = uniqueId("o");
    const todoId = uniqueId("t");
    const putAs = async (key: string, path: string, data: unknown) => {
      const sent = await as(withBearer(key), path, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(data),
      });
      expect(sent.status).toBe(201);
    };
    await putAs(full, `/v1/todos/${todoId}`, { title: "hidden from orders" });
    await putAs(orders, `/v1/orders/${orderId}`, { item: "visible" });
    await putAs(full, `/v1/todos/${uniqueId("t")}`, { title: "also hidden" });

    type Feed = { changes: Array<{ collection: string; id: string }>; next: string };
    // Both collections reach the tenant's feed (so the limited key's view below is a filter, not a lag).
    await eventually(async () => {
      const all = await as(withBearer(full), "/v1/_changes?after=s0");
      expect(all.status).toBe(200);
      const ids = (all.body as Feed).changes.map((c) => c.id);
      expect(ids).toEqual(expect.arrayContaining([todoId, orderId]));
      expect(ids).toHaveLength(3);
    });
    const limited = await as(withBearer(orders), "/v1/_changes?after=s0");
    expect(limited.status).toBe(200);
    const changes = (limited.body as Feed).changes;
    expect(changes.map((c) => [c.collection, c.id])).toEqual([["orders", orderId]]);
    expect(JSON.stringify(limited.body)).not.toContain("hidden");
  });
});
