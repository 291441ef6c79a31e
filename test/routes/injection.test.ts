/**
 * Injection, case by case: prototype pollution through every write (PUT, merge patch, JSON Patch), the query
 * string, key requests and JWT claims; SQL injection through filters, order, limits, cursors, collection and id,
 * the change feed and the admin routes; header injection through ids (refused, or percent-encoded in Location);
 * and API key secrets, which are compared with crypto.subtle.timingSafeEqual.
 */
import { env } from "cloudflare:workers";
import { importJWK, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../domain/digest";
import { encodeCursor, parseQuery } from "../../domain/query";
import { TEST_ADMIN_SECRET } from "../credentials";
import {
  eventually,
  get,
  getEventual,
  jsonPatch,
  makeKey,
  problem,
  put,
  type Sent,
  send,
  uniqueId,
} from "../helpers";
import { TEST_JWT } from "../jwt-keys";

/** This file's client address: its key lookups count against its own budget, not other files' "local" one. */
const CLIENT_IP = `2001:db8:a7::${crypto.randomUUID().slice(0, 4)}`;

const doc = (collection: string, id: string) => `/v1/${collection}/${encodeURIComponent(id)}`;
const json = { "content-type": "application/json" };

/** A request with `token` as its bearer credential, from this file's client address. */
function as(token: string, path: string, init: RequestInit = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  headers.set("cf-connecting-ip", CLIENT_IP);
  return send(path, { ...init, headers });
}

interface Envelope {
  collection: string;
  id: string;
  version: number;
  data: Record<string, unknown>;
}

const dataText = (sent: Sent) => JSON.stringify((sent.body as Envelope).data);

const prototypeNames = () =>
  [Object.prototype, Array.prototype, Function.prototype].map((p) => Object.getOwnPropertyNames(p).sort());
const PROTOTYPES = prototypeNames();

/** Nothing reached a built-in prototype of this isolate, which the Worker shares in this pool. */
function expectNoPollution(): void {
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(probe.more).toBeUndefined();
  expect(probe.admin).toBeUndefined();
  expect(prototypeNames()).toEqual(PROTOTYPES);
}

function expectProblem(sent: Sent, status: number, code: string): void {
  expect(sent.status).toBe(status);
  expect(sent.headers.get("content-type")).toBe("application/problem+json");
  expect(problem(sent)).toMatchObject({ status, code });
}

describe("prototype pollution", () => {
  const PROTO_DOCUMENT =
    '{"__proto__":{"polluted":"put"},"constructor":{"prototype":{"polluted":"put"}},"prototype":{"polluted":"put"},"a":1}';

  it("stores a PUT's __proto__, constructor and prototype members as data, on every read path, and pollutes nothing", async () => {
    const id = uniqueId("proto-put");
    const created = await send(doc("things", id), { method: "PUT", headers: json, body: PROTO_DOCUMENT });
    expect(created.status).toBe(201);
    expect(dataText(created)).toBe(PROTO_DOCUMENT);
    expect(dataText(await get(doc("things", id)))).toBe(PROTO_DOCUMENT);
    // The read model, the change feed and the history hold the members as data too.
    await eventually(async () => {
      const eventual = await getEventual(doc("things", id));
      expect(eventual.headers.get("read-source")).toBe("read-model");
      expect(dataText(eventual)).toBe(PROTO_DOCUMENT);
    });
    const feed = await send("/v1/_changes?collection=things&limit=1000");
    const change = (feed.body as { changes: Array<{ id: string; data: unknown }> }).changes.find(
      (c) => c.id === id,
    );
    expect(JSON.stringify(change?.data)).toBe(PROTO_DOCUMENT);
    const history = await send(`${doc("things", id)}/_history`);
    expect(JSON.stringify((history.body as { items: Array<{ data: unknown }> }).items[0]?.data)).toBe(
      PROTO_DOCUMENT,
    );
    expectNoPollution();
  });

  it("merges a merge patch's __proto__ and constructor.prototype members as data, and removes them with null", async () => {
    const path = doc("things", uniqueId("proto-merge"));
    await put(path, { a: 1 });
    const patched = await send(path, {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: '{"__proto__":{"polluted":"merge"},"constructor":{"prototype":{"polluted":"merge"}}}',
    });
    expect(patched.status).toBe(200);
    expect(dataText(patched)).toBe(
      '{"a":1,"__proto__":{"polluted":"merge"},"constructor":{"prototype":{"polluted":"merge"}}}',
    );
    // A second patch merges into the member, as into any object.
    const deeper = await send(path, {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: '{"__proto__":{"more":1}}',
    });
    expect(dataText(deeper)).toBe(
      '{"a":1,"__proto__":{"polluted":"merge","more":1},"constructor":{"prototype":{"polluted":"merge"}}}',
    );
    const removed = await send(path, {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: '{"__proto__":null,"constructor":null}',
    });
    expect(dataText(removed)).toBe('{"a":1}');
    expect(dataText(await get(path))).toBe('{"a":1}');
    expectNoPollution();
  });

  it("applies JSON Patch operations on __proto__ and constructor/prototype as on any member", async () => {
    const path = doc("things", uniqueId("proto-json-patch"));
    await put(path, { a: 1 });
    const patched = await jsonPatch(path, [
      { op: "add", path: "/__proto__", value: { polluted: "json-patch" } },
      { op: "add", path: "/__proto__/more", value: 1 },
      { op: "add", path: "/constructor", value: {} },
      { op: "add", path: "/constructor/prototype", value: { polluted: "json-patch" } },
      { op: "copy", from: "/__proto__", path: "/copied" },
      { op: "increment", path: "/__proto__/more", value: 1 },
      { op: "test", path: "/__proto__/polluted", value: "json-patch" },
    ]);
    expect(patched.status).toBe(200);
    expect(dataText(patched)).toBe(
      '{"a":1,"__proto__":{"polluted":"json-patch","more":2},"constructor":{"prototype":{"polluted":"json-patch"}},"copied":{"polluted":"json-patch","more":1}}',
    );
    expect(dataText(await get(path))).toBe(dataText(patched));
    expectNoPollution();
  });

  it.each([
    ["adds under an inherited __proto__", [{ op: "add", path: "/__proto__/polluted", value: 1 }]],
    ["adds under an inherited constructor", [{ op: "add", path: "/constructor/prototype", value: {} }]],
    ["replaces an inherited method", [{ op: "replace", path: "/hasOwnProperty", value: 1 }]],
    ["removes an inherited member", [{ op: "remove", path: "/toString" }]],
    ["copies from an inherited member", [{ op: "copy", from: "/constructor", path: "/x" }]],
    ["tests an inherited member", [{ op: "test", path: "/__proto__", value: {} }]],
    ["increments an inherited member", [{ op: "increment", path: "/valueOf", value: 1 }]],
  ])("refuses a JSON Patch that %s: no such member, and nothing changes", async (_name, ops) => {
    const path = doc("things", uniqueId("proto-inherited"));
    await put(path, { a: 1 });
    const res = await jsonPatch(path, ops);
    expect([409, 422]).toContain(res.status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(problem(res).code).toMatch(/^patch-/);
    expect((await get(path)).body).toMatchObject({ version: 1, data: { a: 1 } });
    expectNoPollution();
  });

  it("refuses prototype names as query fields and operators, and ignores them as other parameters", async () => {
    for (const query of [
      "where[__proto__]=1",
      "where[constructor]=1",
      "order=__proto__",
      "order=-constructor",
    ]) {
      expectProblem(await send(`/v1/todos?${query}`), 400, "field-not-indexed");
    }
    expectProblem(await send("/v1/todos?where[constructor][prototype]=1"), 400, "invalid-query");
    expectProblem(await send("/v1/todos?where[status][__proto__]=1"), 400, "invalid-query");
    expect((await send("/v1/_changes?__proto__[polluted]=1&constructor[prototype][polluted]=1")).status).toBe(
      200,
    );
    expect((await send("/v1/things/none?__proto__=1")).status).toBe(404);
    expectNoPollution();
  });

  it("refuses a key request with a __proto__ member (and creates no key)", async () => {
    const before = await as(TEST_ADMIN_SECRET, "/v1/_admin/keys?limit=500");
    const res = await as(TEST_ADMIN_SECRET, "/v1/_admin/keys", {
      method: "POST",
      headers: json,
      body: '{"tenant":"default","scopes":["read"],"name":"x","__proto__":{"scopes":["admin"],"admin":true}}',
    });
    expectProblem(res, 400, "invalid-body");
    expect((await as(TEST_ADMIN_SECRET, "/v1/_admin/keys?limit=500")).body).toEqual(before.body);
    expectNoPollution();
  });

  it("grants no scope through a JWT's __proto__ claim", async () => {
    const jwk = (JSON.parse(env.TEST_JWT_PRIVATE_KEYS) as Record<string, JWK & { kid: string }>).RS256;
    if (jwk === undefined) throw new Error("no RS256 test key");
    const claims = JSON.parse('{"tenant":"default","__proto__":{"scope":"read write admin"}}') as Record<
      string,
      unknown
    >;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
      .setIssuer(TEST_JWT.issuer)
      .setAudience(TEST_JWT.audience)
      .setExpirationTime("5m")
      .sign(await importJWK(jwk, "RS256"));
    expectProblem(await as(token, "/v1/things/none"), 403, "insufficient-scope");
    expectNoPollution();
  });
});

describe("SQL injection", () => {
  const INJECTED = "x' OR '1'='1";
  const TODOS: Record<string, Record<string, unknown>> = {
    "t-open": { title: "open", status: "open", priority: 1, owner: "ada" },
    "t-done": { title: "done", status: "done", priority: 5, owner: INJECTED },
    "t-pct": { title: "percent", status: "doing", priority: 9, owner: "%admin_" },
    [INJECTED]: { title: "an injected id", status: "open", priority: 2, owner: "bob" },
  };
  const ALL = Object.keys(TODOS).sort();
  const q = (params: Record<string, string>) => `/v1/todos?${new URLSearchParams(params)}`;
  const idsOf = (sent: Sent) => (sent.body as { items: Envelope[] }).items.map((d) => d.id).sort();

  /** The read model's tables are all there, with every row this file wrote. */
  async function expectTablesIntact(): Promise<void> {
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{
      name: string;
    }>();
    expect(tables.results.map((t) => t.name)).toEqual(
      expect.arrayContaining(["documents", "changes", "api_keys", "audit_log", "dead_letters"]),
    );
    const count = await env.DB.prepare(
      "SELECT count(*) AS n FROM documents WHERE tenant = 'default' AND collection = 'todos'",
    ).first<{ n: number }>();
    expect(count?.n).toBe(ALL.length);
    expect(idsOf(await send("/v1/todos?limit=200"))).toEqual(ALL);
  }

  beforeAll(async () => {
    for (const [id, data] of Object.entries(TODOS))
      expect((await put(doc("todos", id), data)).status).toBe(201);
    await eventually(async () => expect(idsOf(await send("/v1/todos?limit=200"))).toEqual(ALL));
  });

  it("matches injection-shaped filter values literally: exact rows or none", async () => {
    expect(idsOf(await send(q({ "where[status]": INJECTED })))).toEqual([]);
    expect(idsOf(await send(q({ "where[owner]": INJECTED })))).toEqual(["t-done"]);
    expect(idsOf(await send(q({ "where[owner][prefix]": "%" })))).toEqual(["t-pct"]);
    expect(idsOf(await send(q({ "where[owner][prefix]": "_" })))).toEqual([]);
    expect(idsOf(await send(q({ "where[owner][prefix]": "x'" })))).toEqual(["t-done"]);
    expect(idsOf(await send(q({ "where[status][in]": "open','done" })))).toEqual([]);
    expect(idsOf(await send(q({ "where[status][in]": `open,${INJECTED}` })))).toEqual(
      ["t-open", INJECTED].sort(),
    );
    expect(idsOf(await send(q({ "where[status][ne]": "' OR ''='" })))).toEqual(ALL);
    // Compared as a string: "%admin_" sorts below "'", every other owner above it.
    expect(idsOf(await send(q({ "where[owner][gt]": "' OR 1=1 --" })))).toEqual(
      ALL.filter((id) => id !== "t-pct"),
    );
    await expectTablesIntact();
  });

  it("refuses injection-shaped numbers, fields, orders and limits with 400", async () => {
    for (const [params, code] of [
      [{ "where[priority]": "1 OR 1=1" }, "invalid-query"],
      [{ "where[priority]": "1; DROP TABLE documents" }, "invalid-query"],
      [{ "where[priority][in]": "1,2) OR (1=1" }, "invalid-query"],
      [{ "where[done]": "1 OR 1=1" }, "invalid-query"],
      [{ "where[status) OR (1=1]": "x" }, "field-not-indexed"],
      [{ order: "status; DROP TABLE documents" }, "field-not-indexed"],
      [{ order: "-priority, (SELECT 1)" }, "field-not-indexed"],
      [{ limit: "1 OR 1=1" }, "invalid-query"],
      [{ limit: "1; DROP TABLE documents" }, "invalid-query"],
    ] as const) {
      expectProblem(await send(q(params)), 400, code);
    }
    await expectTablesIntact();
  });

  it("refuses an injection-shaped cursor, and compares a cursor's id literally", async () => {
    expectProblem(await send(q({ cursor: "' OR 1=1 --" })), 400, "invalid-cursor");
    expectProblem(await send(q({ cursor: '"; DROP TABLE documents; --' })), 400, "invalid-cursor");
    // A well-formed cursor for this very query whose last id is injection-shaped: the page after it, exactly.
    const parsed = parseQuery("todos", new URLSearchParams());
    if (!parsed.ok) throw new Error(parsed.detail);
    const cursor = encodeCursor(parsed.query, { value: null, id: `t-done${INJECTED}` });
    expect(idsOf(await send(q({ cursor })))).toEqual(ALL.filter((id) => id > `t-done${INJECTED}`));
    await expectTablesIntact();
  });

  it("refuses an injection-shaped collection, and reads an injection-shaped id as exactly that document", async () => {
    expectProblem(await send(`/v1/${encodeURIComponent(`todos${INJECTED}`)}`), 400, "invalid-collection");
    expectProblem(await send(doc(`todos${INJECTED}`, "t-open")), 400, "invalid-collection");
    for (const read of [get, getEventual]) {
      const found = await read(doc("todos", INJECTED));
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({ id: INJECTED, data: TODOS[INJECTED] });
      expectProblem(await read(doc("todos", `t-open${INJECTED}`)), 404, "not-found");
      expectProblem(await read(doc("todos", "nothing' OR '1'='1' --")), 404, "not-found");
    }
    await expectTablesIntact();
  });

  it("refuses injection-shaped feed parameters, and filters the feed by collection exactly", async () => {
    expectProblem(
      await send(`/v1/_changes?${new URLSearchParams({ collection: `todos${INJECTED}` })}`),
      400,
      "invalid-query",
    );
    for (const after of ["' OR 1=1 --", "s0 OR 1=1", "s0'--"]) {
      expectProblem(await send(`/v1/_changes?${new URLSearchParams({ after })}`), 400, "invalid-cursor");
    }
    expectProblem(await send("/v1/_changes?limit=1%20OR%201%3D1"), 400, "invalid-query");
    const page = await send("/v1/_changes?collection=todos&limit=1000");
    expect((page.body as { changes: Array<{ id: string }> }).changes.map((c) => c.id).sort()).toEqual(ALL);
    await expectTablesIntact();
  });

  it("refuses injection-shaped history, stats and audit parameters, and compares key ids literally", async () => {
    expectProblem(
      await send(`${doc("todos", "t-open")}/_history?after=0%20OR%201%3D1`),
      400,
      "invalid-query",
    );
    const operator = (path: string, init?: RequestInit) => as(TEST_ADMIN_SECRET, path, init);
    expectProblem(
      await operator(`/v1/_stats?${new URLSearchParams({ tenant: `default${INJECTED}` })}`),
      400,
      "invalid-query",
    );
    expectProblem(await operator("/v1/_admin/audit?after=0%20OR%201%3D1"), 400, "invalid-query");
    expectProblem(
      await operator(`/v1/_admin/audit?${new URLSearchParams({ tenant: `default${INJECTED}` })}`),
      400,
      "invalid-query",
    );
    const keys = await operator("/v1/_admin/keys?limit=500");
    const keyIds = (keys.body as { items: Array<{ id: string }> }).items.map((k) => k.id);
    expect(keyIds.length).toBeGreaterThan(0);
    // `before` is compared as a string: below every hex id, none; above all of them, all.
    const below = await operator(`/v1/_admin/keys?${new URLSearchParams({ before: "' OR '1'='1" })}`);
    expect((below.body as { items: unknown[] }).items).toEqual([]);
    const above = await operator(`/v1/_admin/keys?${new URLSearchParams({ before: "z' OR '1'='1" })}`);
    expect((above.body as { items: Array<{ id: string }> }).items.map((k) => k.id)).toEqual(keyIds);
    expectProblem(
      await operator(`/v1/_admin/keys/${encodeURIComponent("x' OR '1'='1")}`, { method: "DELETE" }),
      404,
      "not-found",
    );
    expect((await operator("/v1/_admin/keys?limit=500")).body).toEqual(keys.body);
    await expectTablesIntact();
  });
});

describe("header injection through ids", () => {
  it.each([
    ["CR LF and a header", "a%0D%0ASet-Cookie:%20evil=1"],
    ["LF", "a%0Ab"],
    ["CR", "a%0Db"],
    ["NUL", "a%00b"],
    ["NEL (U+0085)", "a%C2%85b"],
  ])("refuses an id with %s, and no header carries it", async (_name, raw) => {
    const res = await send(`/v1/things/${raw}`, { method: "PUT", headers: json, body: "{}" });
    expectProblem(res, 400, "invalid-id");
    expect(res.headers.get("set-cookie")).toBeNull();
    for (const [name, value] of res.headers) {
      expect(`${name}: ${value}`).not.toMatch(/evil|[\r\n\0]/);
    }
  });

  it.each(["a b", "a?b#c", `x"y'z<>`, "ü", "💥", "%2F", "a\\b", ";,=&+$", "line\u2028separator", "(*)!~"])(
    "creates a document with the id %j at a Location that is its percent-encoded id",
    async (odd) => {
      const id = `${odd}-${uniqueId("h")}`;
      const res = await send(doc("things", id), { method: "PUT", headers: json, body: '{"odd":true}' });
      expect(res.status).toBe(201);
      const location = res.headers.get("location") ?? "";
      expect(location).toBe(`/v1/things/${encodeURIComponent(id)}`);
      expect(location).toMatch(/^[\x21-\x7e]+$/);
      const read = await get(location);
      expect(read.status).toBe(200);
      expect((read.body as Envelope).id).toBe(id);
    },
  );
});

describe("API key secrets", () => {
  const keyIdOf = (key: string) => /^tsk_([0-9a-f]{16})_/.exec(key)?.[1] ?? "";
  /** The secret part of `tsk_<id>_<secret>` (a base64url secret may itself hold "_"). */
  const secretOf = (key: string) => key.slice("tsk_".length + 16 + 1);
  const bytes = (text: string) => new TextEncoder().encode(text);
  function sameBytes(a: unknown, b: Uint8Array): boolean {
    const view =
      a instanceof ArrayBuffer
        ? new Uint8Array(a)
        : ArrayBuffer.isView(a)
          ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
          : null;
    return view !== null && view.length === b.length && view.every((byte, i) => byte === b[i]);
  }

  it("refuses a key with the right id and a wrong secret, comparing secret digests with crypto.subtle.timingSafeEqual", async () => {
    const key = await makeKey({ name: "injection: right id" });
    const secret = secretOf(key);
    // The record is cached by the first use: the wrong secret is then compared, not looked up.
    expect((await as(key, "/v1/things/none")).status).toBe(404);
    const wrong = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      const res = await as(`tsk_${keyIdOf(key)}_${wrong}`, "/v1/things/none");
      expectProblem(res, 401, "invalid-credential");
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="tessera", error="invalid_token"');
      expect(spy).toHaveBeenCalledWith(bytes(await sha256Hex(wrong)), bytes(await sha256Hex(secret)));
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses a key's secret under another key's id", async () => {
    const mine = await makeKey({ name: "injection: mine" });
    const other = await makeKey({ name: "injection: other" });
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      expectProblem(
        await as(`tsk_${keyIdOf(other)}_${secretOf(mine)}`, "/v1/things/none"),
        401,
        "invalid-credential",
      );
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses an operator secret one character off, comparing digests with crypto.subtle.timingSafeEqual", async () => {
    const wrong = `${TEST_ADMIN_SECRET.slice(0, -1)}${TEST_ADMIN_SECRET.endsWith("9") ? "8" : "9"}`;
    const digest = async (text: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes(text)));
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      expectProblem(await as(wrong, "/v1/_admin/keys"), 401, "invalid-credential");
      const [given, expected] = [await digest(wrong), await digest(TEST_ADMIN_SECRET)];
      expect(spy.mock.calls.some(([a, b]) => sameBytes(a, given) && sameBytes(b, expected))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});
