/**
 * The key API (POST/GET /v1/_admin/keys, DELETE /v1/_admin/keys/{id}) and the audit trail (GET /v1/_admin/audit):
 * for the operator across tenants, for a tenant's admins within their tenant; bad requests create nothing; a
 * revoked key stops at once where it was revoked and within KEY_CACHE_TTL_MS everywhere else; every admin action
 * is audited with its request id and never with a secret.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, onTestFinished } from "vitest";
import { sha256Hex } from "../../domain/digest";
import { KEY_CACHE_TTL_MS, keyClock } from "../../workers/security/api-keys";
import { TEST_ADMIN_SECRET } from "../credentials";
import { makeKey, problem, type Sent, send, uniqueId } from "../helpers";

/** This file's client address: its key lookups count against its own budget. */
const CLIENT_IP = `2001:db8:a1::${crypto.randomUUID().slice(0, 4)}`;
const OPERATOR = TEST_ADMIN_SECRET;

function as(token: string, path: string, init: RequestInit = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  headers.set("cf-connecting-ip", CLIENT_IP);
  return send(path, { ...init, headers });
}

function createKey(token: string, body: unknown, headers: Record<string, string> = {}): Promise<Sent> {
  return as(token, "/v1/_admin/keys", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const revoke = (token: string, id: string) => as(token, `/v1/_admin/keys/${id}`, { method: "DELETE" });

interface KeyInfo {
  id: string;
  tenant: string;
  name: string;
  scopes: string[];
  collections: string[] | null;
  rateLimit: string;
  createdAt: string;
}
type CreatedKey = KeyInfo & { key: string };
interface KeyList {
  items: KeyInfo[];
  next: string | null;
}
interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  tenant: string | null;
  action: string;
  target: string | null;
  requestId: string;
  detail: unknown;
}
interface AuditPage {
  items: AuditEntry[];
  next: number | null;
}

function keyId(key: string): string {
  const id = /^tsk_([0-9a-f]{16})_/.exec(key)?.[1];
  if (id === undefined) throw new Error(`not a key: ${key}`);
  return id;
}
const secretOf = (key: string) => key.slice("tsk_0123456789abcdef_".length);

/** Whether a key authenticates: 200 on a route every tenant key with the read scope may call. */
async function works(key: string): Promise<boolean> {
  const sent = await as(key, "/v1/_changes?limit=1");
  if (sent.status !== 200 && sent.status !== 401) throw new Error(`unexpected ${sent.status}`);
  return sent.status === 200;
}

async function count(table: "api_keys" | "audit_log"): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return row?.n ?? -1;
}

function expectProblem(sent: Sent, status: number, code?: string): void {
  expect(sent.status).toBe(status);
  expect(sent.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(problem(sent).status).toBe(status);
  if (code !== undefined) expect(problem(sent).code).toBe(code);
}

describe("POST /v1/_admin/keys", () => {
  it("answers 201 with the key and its record to the operator, and the key works at once", async () => {
    const tenant = uniqueId("t");
    const created = await createKey(OPERATOR, {
      tenant,
      scopes: ["read", "write"],
      collections: ["todos"],
      name: "ingest service",
      rateLimit: "high",
    });
    expect(created.status).toBe(201);
    const body = created.body as CreatedKey;
    expect(Object.keys(body).sort()).toEqual(
      ["collections", "createdAt", "id", "key", "name", "rateLimit", "scopes", "tenant"].sort(),
    );
    expect(body).toMatchObject({
      tenant,
      scopes: ["read", "write"],
      collections: ["todos"],
      name: "ingest service",
      rateLimit: "high",
    });
    expect(body.key).toMatch(/^tsk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(keyId(body.key)).toBe(body.id);
    expect(Math.abs(Date.parse(body.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(created.headers.get("location")).toBe(`/v1/_admin/keys/${body.id}`);

    const id = uniqueId("k");
    const written = await as(body.key, `/v1/todos/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"title":"with a fresh key"}',
    });
    expect(written.status).toBe(201);
    const read = await as(body.key, `/v1/todos/${id}`, { headers: { consistency: "strong" } });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ data: { title: "with a fresh key" } });
    // The key's rights are what it was created with: not another collection, not admin.
    expectProblem(await as(body.key, `/v1/notes/${id}`, { headers: { consistency: "strong" } }), 403);
    expectProblem(await as(body.key, "/v1/_admin/keys"), 403);
  });

  it('defaults to every collection and the "default" tier', async () => {
    const tenant = uniqueId("t");
    const created = await createKey(OPERATOR, { tenant, scopes: ["read"], name: "reader" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ collections: null, rateLimit: "default" });
    const limited = await as((created.body as CreatedKey).key, "/v1/_changes");
    expect(limited.status).toBe(200);
    expect(limited.headers.get("ratelimit-policy")).toBe('"default";q=1200;w=60');
  });

  const bad: Array<[string, string, Record<string, string>, number]> = [
    ["malformed JSON", '{"tenant":', {}, 400],
    ["an empty body", "", {}, 400],
    ["null", "null", {}, 400],
    ["an array", "[]", {}, 400],
    ["an unknown field", JSON.stringify({ tenant: "x", scopes: ["read"], name: "n", admin: true }), {}, 400],
    [
      "a __proto__ field",
      '{"tenant":"x","scopes":["read"],"name":"n","__proto__":{"rateLimit":"none"}}',
      {},
      400,
    ],
    ["an unknown scope", JSON.stringify({ tenant: "x", scopes: ["superuser"], name: "n" }), {}, 400],
    ["no scopes", JSON.stringify({ tenant: "x", scopes: [], name: "n" }), {}, 400],
    ["repeated scopes", JSON.stringify({ tenant: "x", scopes: ["read", "read"], name: "n" }), {}, 400],
    ["scopes as a string", JSON.stringify({ tenant: "x", scopes: "read write", name: "n" }), {}, 400],
    ["a tenant with a path", JSON.stringify({ tenant: "../x", scopes: ["read"], name: "n" }), {}, 400],
    ["an upper-case tenant", JSON.stringify({ tenant: "Acme", scopes: ["read"], name: "n" }), {}, 400],
    ["an empty tenant", JSON.stringify({ tenant: "", scopes: ["read"], name: "n" }), {}, 400],
    ["a reserved tenant", JSON.stringify({ tenant: "_admin", scopes: ["read"], name: "n" }), {}, 400],
    [
      "a 64-character tenant",
      JSON.stringify({ tenant: `a${"b".repeat(63)}`, scopes: ["read"], name: "n" }),
      {},
      400,
    ],
    ["no tenant", JSON.stringify({ scopes: ["read"], name: "n" }), {}, 400],
    ["a blank name", JSON.stringify({ tenant: "x", scopes: ["read"], name: "   " }), {}, 400],
    ["no name", JSON.stringify({ tenant: "x", scopes: ["read"] }), {}, 400],
    [
      "an unknown tier",
      JSON.stringify({ tenant: "x", scopes: ["read"], name: "n", rateLimit: "unlimited" }),
      {},
      400,
    ],
    [
      "no collections",
      JSON.stringify({ tenant: "x", scopes: ["read"], name: "n", collections: [] }),
      {},
      400,
    ],
    [
      "a bad collection",
      JSON.stringify({ tenant: "x", scopes: ["read"], name: "n", collections: ["../y"] }),
      {},
      400,
    ],
    [
      "a 20 KB body",
      JSON.stringify({ tenant: "x", scopes: ["read"], name: "n", pad: "p".repeat(20 * 1024) }),
      {},
      413,
    ],
    [
      "text/plain",
      JSON.stringify({ tenant: "x", scopes: ["read"], name: "n" }),
      { "content-type": "text/plain" },
      415,
    ],
    ["a form", "tenant=x&scopes=read&name=n", { "content-type": "application/x-www-form-urlencoded" }, 415],
  ];
  for (const [what, body, headers, status] of bad) {
    it(`answers ${status} with a problem to ${what}, and creates no key and no audit entry`, async () => {
      const [keys, audit] = [await count("api_keys"), await count("audit_log")];
      const sent = await createKey(OPERATOR, body, headers);
      expectProblem(sent, status);
      expect(JSON.stringify(sent.body)).not.toMatch(/tsk_/);
      expect([await count("api_keys"), await count("audit_log")]).toEqual([keys, audit]);
    });
  }

  it("answers 415 to a body with no Content-Type, and creates nothing", async () => {
    const keys = await count("api_keys");
    const sent = await as(OPERATOR, "/v1/_admin/keys", {
      method: "POST",
      body: new Blob([JSON.stringify({ tenant: "x", scopes: ["read"], name: "n" })]),
    });
    expectProblem(sent, 415, "unsupported-media-type");
    expect(await count("api_keys")).toBe(keys);
  });
});

describe("GET /v1/_admin/keys", () => {
  it("lists a tenant's live keys, newest id first, pages them, and never shows a key or its hash", async () => {
    const tenant = uniqueId("t");
    const created: CreatedKey[] = [];
    for (const name of ["one", "two", "three"]) {
      const sent = await createKey(OPERATOR, { tenant, scopes: ["read"], name });
      expect(sent.status).toBe(201);
      created.push(sent.body as CreatedKey);
    }
    const gone = created.pop() as CreatedKey;
    expect((await revoke(OPERATOR, gone.id)).status).toBe(204);

    const all = await as(OPERATOR, `/v1/_admin/keys?tenant=${tenant}`);
    expect(all.status).toBe(200);
    const list = all.body as KeyList;
    expect(list.next).toBeNull();
    expect(list.items.map((k) => k.id)).toEqual(
      created
        .map((k) => k.id)
        .sort()
        .reverse(),
    );
    for (const item of list.items) {
      expect(Object.keys(item).sort()).toEqual(
        ["collections", "createdAt", "id", "name", "rateLimit", "scopes", "tenant"].sort(),
      );
    }
    const text = JSON.stringify(all.body);
    for (const { key } of [...created, gone]) {
      expect(text).not.toContain(secretOf(key));
      expect(text).not.toContain(await sha256Hex(secretOf(key)));
    }

    const first = await as(OPERATOR, `/v1/_admin/keys?tenant=${tenant}&limit=1`);
    const page1 = first.body as KeyList;
    expect(page1.items).toHaveLength(1);
    expect(page1.next).not.toBeNull();
    const second = await as(OPERATOR, `/v1/_admin/keys?tenant=${tenant}&limit=1&before=${page1.next}`);
    const page2 = second.body as KeyList;
    expect(page2.items).toHaveLength(1);
    expect([...page1.items, ...page2.items].map((k) => k.id)).toEqual(list.items.map((k) => k.id));
  });
});

describe("DELETE /v1/_admin/keys/{id}", () => {
  it("makes the key stop working at once, and a second revoke answers 404", async () => {
    const tenant = uniqueId("t");
    const { key, id } = (await createKey(OPERATOR, { tenant, scopes: ["read"], name: "short-lived" }))
      .body as CreatedKey;
    expect(await works(key)).toBe(true);
    const revoked = await revoke(OPERATOR, id);
    expect(revoked.status).toBe(204);
    expect(revoked.body).toBe("");
    const refused = await as(key, "/v1/_changes");
    expectProblem(refused, 401, "invalid-credential");
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="tessera", error="invalid_token"');
    expectProblem(await revoke(OPERATOR, id), 404, "not-found");
    expectProblem(await revoke(OPERATOR, "not-a-key-id"), 404, "not-found");
  });

  it(`keeps a key revoked elsewhere working from the cache for ${KEY_CACHE_TTL_MS / 1000} s at most, then answers 401`, async () => {
    const realNow = keyClock.now;
    onTestFinished(() => {
      keyClock.now = realNow;
    });
    const start = Date.now();
    keyClock.now = () => start;
    const tenant = uniqueId("t");
    const key = await makeKey({ tenant, scopes: ["read"] });
    expect(await works(key)).toBe(true); // looked up and cached at `start`

    // Another isolate revokes it: D1 changes, this isolate's cache does not hear of it.
    const changed = await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?")
      .bind(start, keyId(key))
      .run();
    expect(changed.meta.changes).toBe(1);
    expect(await works(key)).toBe(true);
    keyClock.now = () => start + KEY_CACHE_TTL_MS - 1;
    expect(await works(key)).toBe(true);

    keyClock.now = () => start + KEY_CACHE_TTL_MS;
    const refused = await as(key, "/v1/_changes");
    expectProblem(refused, 401, "invalid-credential");
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="tessera", error="invalid_token"');
    // And it stays refused (the fresh lookup is cached too).
    keyClock.now = () => start + KEY_CACHE_TTL_MS + 1_000;
    expect(await works(key)).toBe(false);
  });
});

describe("a tenant's admin", () => {
  async function tenants() {
    const a = uniqueId("ta");
    const b = uniqueId("tb");
    return {
      a,
      b,
      adminA: await makeKey({ tenant: a, scopes: ["admin"], name: "admin of a" }),
      keyB: await makeKey({ tenant: b, scopes: ["read"], name: "b's reader" }),
    };
  }

  it("creates, lists and revokes its own tenant's keys", async () => {
    const { a, adminA } = await tenants();
    const created = await createKey(adminA, { tenant: a, scopes: ["read", "write"], name: "made by a" });
    expect(created.status).toBe(201);
    const made = created.body as CreatedKey;
    expect(made).toMatchObject({ tenant: a, rateLimit: "default" });
    expect(await works(made.key)).toBe(true);

    const listed = await as(adminA, "/v1/_admin/keys");
    expect(listed.status).toBe(200);
    const items = (listed.body as KeyList).items;
    expect(items.map((k) => k.id).sort()).toEqual([keyId(adminA), made.id].sort());
    expect(items.every((k) => k.tenant === a)).toBe(true);
    expect((await as(adminA, `/v1/_admin/keys?tenant=${a}`)).body).toEqual(listed.body);

    expect((await revoke(adminA, made.id)).status).toBe(204);
    expect(await works(made.key)).toBe(false);
  });

  it("gets 403 creating or listing another tenant's keys, and creates nothing", async () => {
    const { b, adminA } = await tenants();
    const keys = await count("api_keys");
    const created = await createKey(adminA, { tenant: b, scopes: ["read"], name: "into b" });
    expectProblem(created, 403, "insufficient-scope");
    expect(created.headers.get("www-authenticate")).toBe(
      'Bearer realm="tessera", error="insufficient_scope"',
    );
    expect(await count("api_keys")).toBe(keys);
    const listed = await as(adminA, `/v1/_admin/keys?tenant=${b}`);
    expectProblem(listed, 403, "insufficient-scope");
    expect(JSON.stringify(listed.body)).not.toContain("b's reader");
  });

  it("gets 404 revoking another tenant's key, as for a key that never existed, and that key keeps working", async () => {
    const { adminA, keyB } = await tenants();
    const theirs = await revoke(adminA, keyId(keyB));
    const nobodys = await revoke(adminA, "0123456789abcdef");
    expectProblem(theirs, 404, "not-found");
    expectProblem(nobodys, 404, "not-found");
    expect(theirs.body).toEqual({
      ...(nobodys.body as object),
      detail: (problem(nobodys).detail as string).replace("0123456789abcdef", keyId(keyB)),
    });
    expect(await works(keyB)).toBe(true);
  });

  it('gets 403 creating a key with rateLimit "none", which only the operator may', async () => {
    const { a, adminA } = await tenants();
    const keys = await count("api_keys");
    const refused = await createKey(adminA, { tenant: a, scopes: ["read"], name: "n", rateLimit: "none" });
    expectProblem(refused, 403, "insufficient-scope");
    expect(await count("api_keys")).toBe(keys);
    const low = await createKey(adminA, { tenant: a, scopes: ["read"], name: "n", rateLimit: "low" });
    expect(low.status).toBe(201);
    const byOperator = await createKey(OPERATOR, {
      tenant: a,
      scopes: ["read"],
      name: "n",
      rateLimit: "none",
    });
    expect(byOperator.status).toBe(201);
    expect(byOperator.body).toMatchObject({ rateLimit: "none" });
  });

  it("limited to some collections, gets 403 creating a key for other collections or for all of them", async () => {
    const a = uniqueId("ta");
    const ordersAdmin = await makeKey({ tenant: a, scopes: ["admin"], collections: ["orders"] });
    const keys = await count("api_keys");
    const everything = await createKey(ordersAdmin, { tenant: a, scopes: ["read"], name: "all of a" });
    expectProblem(everything, 403, "insufficient-scope");
    expect(problem(everything)).toMatchObject({ collections: ["orders"] });
    expect(everything.headers.get("www-authenticate")).toBe(
      'Bearer realm="tessera", error="insufficient_scope"',
    );
    const todos = await createKey(ordersAdmin, {
      tenant: a,
      scopes: ["read"],
      name: "todos",
      collections: ["orders", "todos"],
    });
    expectProblem(todos, 403, "insufficient-scope");
    expect(await count("api_keys")).toBe(keys);
    const orders = await createKey(ordersAdmin, {
      tenant: a,
      scopes: ["read"],
      name: "orders",
      collections: ["orders"],
    });
    expect(orders.status).toBe(201);
    expect(orders.body).toMatchObject({ tenant: a, collections: ["orders"] });
  });
});

describe("GET /v1/_admin/audit", () => {
  it("records every create, revoke and redrive with actor, target and the request's X-Request-Id, never a key", async () => {
    const tenant = uniqueId("t");
    const admin = await makeKey({ tenant, scopes: ["admin"] });
    const byOperator = await createKey(
      OPERATOR,
      { tenant, scopes: ["read"], name: "audited" },
      { "x-request-id": `audit-${crypto.randomUUID()}` },
    );
    const byAdmin = await createKey(admin, { tenant, scopes: ["read", "write"], name: "by the admin" });
    expect([byOperator.status, byAdmin.status]).toEqual([201, 201]);
    const operatorKey = byOperator.body as CreatedKey;
    const adminKey = byAdmin.body as CreatedKey;
    const revoked = await revoke(admin, operatorKey.id);
    expect(revoked.status).toBe(204);
    const redrive = await as(OPERATOR, `/v1/_admin/dead-letters/redrive?tenant=${tenant}`, {
      method: "POST",
    });
    expect(redrive.status).toBe(200);
    expect(redrive.body).toEqual({ redriven: 0, remaining: 0 });
    const tenantRedrive = await as(admin, "/v1/_admin/dead-letters/redrive", { method: "POST" });
    expect(tenantRedrive.status).toBe(200);

    const audit = await as(OPERATOR, `/v1/_admin/audit?tenant=${tenant}`);
    expect(audit.status).toBe(200);
    const page = audit.body as AuditPage;
    expect(page.next).toBeNull();
    const requestId = (sent: Sent) => sent.headers.get("x-request-id");
    expect(requestId(byOperator)).toMatch(/^audit-/);
    expect(
      page.items.map(({ actor, tenant, action, target, requestId }) => ({
        actor,
        tenant,
        action,
        target,
        requestId,
      })),
    ).toEqual([
      {
        actor: "operator",
        tenant,
        action: "key.create",
        target: operatorKey.id,
        requestId: requestId(byOperator),
      },
      {
        actor: `key:${keyId(admin)}`,
        tenant,
        action: "key.create",
        target: adminKey.id,
        requestId: requestId(byAdmin),
      },
      {
        actor: `key:${keyId(admin)}`,
        tenant,
        action: "key.revoke",
        target: operatorKey.id,
        requestId: requestId(revoked),
      },
      {
        actor: "operator",
        tenant,
        action: "dead-letters.redrive",
        target: null,
        requestId: requestId(redrive),
      },
      {
        actor: `key:${keyId(admin)}`,
        tenant,
        action: "dead-letters.redrive",
        target: null,
        requestId: requestId(tenantRedrive),
      },
    ]);
    for (const entry of page.items) {
      expect(Math.abs(Date.parse(entry.at) - Date.now())).toBeLessThan(60_000);
    }
    expect(page.items[0]?.detail).toMatchObject({ name: "audited", scopes: ["read"], rateLimit: "default" });
    expect(page.items.map((e) => e.seq)).toEqual([...page.items.map((e) => e.seq)].sort((x, y) => x - y));

    const text = JSON.stringify(page);
    for (const key of [operatorKey.key, adminKey.key, admin]) {
      expect(text).not.toContain(secretOf(key));
      expect(text).not.toContain(await sha256Hex(secretOf(key)));
    }
    const rows = await env.DB.prepare("SELECT * FROM audit_log WHERE tenant = ?").bind(tenant).all();
    const stored = JSON.stringify(rows.results);
    for (const key of [operatorKey.key, adminKey.key, admin]) expect(stored).not.toContain(secretOf(key));
  });

  it("shows a tenant's admin its own tenant's entries only, and 403 for another's", async () => {
    const a = uniqueId("ta");
    const b = uniqueId("tb");
    const adminA = await makeKey({ tenant: a, scopes: ["admin"] });
    const adminB = await makeKey({ tenant: b, scopes: ["admin"] });
    const madeA = (await createKey(adminA, { tenant: a, scopes: ["read"], name: "a's" })).body as CreatedKey;
    const madeB = (await createKey(adminB, { tenant: b, scopes: ["read"], name: "b's" })).body as CreatedKey;
    // The operator's redrive over every tenant is no tenant's entry.
    expect((await as(OPERATOR, "/v1/_admin/dead-letters/redrive", { method: "POST" })).status).toBe(200);

    const seen = await as(adminA, "/v1/_admin/audit?limit=1000");
    expect(seen.status).toBe(200);
    const items = (seen.body as AuditPage).items;
    expect(items.map((e) => [e.tenant, e.target])).toEqual([[a, madeA.id]]);
    expect(JSON.stringify(seen.body)).not.toContain(madeB.id);
    expect(JSON.stringify(seen.body)).not.toContain(b);

    const theirs = await as(adminA, `/v1/_admin/audit?tenant=${b}`);
    expectProblem(theirs, 403, "insufficient-scope");
    expect(JSON.stringify(theirs.body)).not.toContain(madeB.id);

    // The operator sees both, and its own redrive over every tenant (tenant null).
    const all = (await as(OPERATOR, "/v1/_admin/audit?limit=1000")).body as AuditPage;
    const targets = all.items.map((e) => e.target);
    expect(targets).toEqual(expect.arrayContaining([madeA.id, madeB.id]));
    expect(all.items.some((e) => e.tenant === null && e.action === "dead-letters.redrive")).toBe(true);
  });
});
