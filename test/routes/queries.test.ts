/**
 * Collection queries on the read model (GET /v1/{collection}): every operator, ordering, envelopes, cursors under
 * concurrent writes, the 400s, write-time validation of a declared collection, and the plans SQLite picks.
 * Writes reach the read model through the real queue, so every read polls until the projection shows it.
 */

import { env } from "cloudflare:workers";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { applyCursor, encodeCursor, parseQuery, type Query } from "../../domain/query";
import { indexFor, querySql } from "../../workers/read-model/queries";
import {
  eventually,
  get,
  getEventual,
  mergePatch,
  problem,
  put,
  type Sent,
  send,
  uniqueId,
} from "../helpers";

interface Envelope {
  collection: string;
  id: string;
  version: number;
  data: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

interface Page {
  items: Envelope[];
  next: string | null;
}

interface Todo {
  title: string;
  status?: "open" | "doing" | "done";
  priority?: number;
  owner?: string;
  done?: boolean;
}

const todo = (id: string) => `/v1/todos/${encodeURIComponent(id)}`;

type Params = Record<string, string | number>;

function qs(params: Params): string {
  return new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
}

async function query(params: Params, collection = "todos"): Promise<Sent> {
  return send(`/v1/${collection}?${qs(params)}`);
}

function pageOf(sent: Sent): Page {
  expect(sent.status, JSON.stringify(sent.body)).toBe(200);
  return sent.body as Page;
}

/** Every page of a query, following `next` until it is null. */
async function queryAll(params: Params): Promise<Envelope[]> {
  const items: Envelope[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = pageOf(await query(cursor === null ? params : { ...params, cursor }));
    items.push(...page.items);
    if (page.next === null) return items;
    cursor = page.next;
  }
  throw new Error("more than 100 pages");
}

async function createTodos(todos: Record<string, Todo>): Promise<void> {
  for (const [id, data] of Object.entries(todos)) {
    const res = await put(todo(id), data);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
}

/** Waits until the query (all pages) returns exactly these ids, in this order. */
async function untilIds(params: Params, ids: string[]): Promise<Envelope[]> {
  return eventually(async () => {
    const items = await queryAll(params);
    expect(items.map((item) => item.id)).toEqual(ids);
    return items;
  });
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe("GET /v1/todos: operators", () => {
  const owner = uniqueId("owner");
  const set: Record<string, Todo> = {
    [uniqueId("t")]: { title: "a", status: "open", priority: 1, owner, done: false },
    [uniqueId("t")]: { title: "b", status: "doing", priority: 3, owner, done: true },
    [uniqueId("t")]: { title: "c", status: "done", priority: 5, owner, done: true },
    [uniqueId("t")]: { title: "d", status: "open", priority: 5, owner, done: false },
    [uniqueId("t")]: { title: "e", status: "doing", priority: 8, owner },
    [uniqueId("t")]: { title: "f", status: "open", priority: 10, owner, done: false },
  };
  const ids = Object.keys(set).sort(byId);
  const matching = (keep: (t: Todo) => boolean) => ids.filter((id) => keep(set[id] as Todo));
  let created: Promise<void> | undefined;
  /** The set is created once, by the first test that needs it, and waited for until it is projected. */
  const ready = () => {
    created ??= createTodos(set).then(async () => {
      await untilIds({ "where[owner]": owner }, ids);
    });
    return created;
  };

  const cases: Array<[string, Record<string, string>, (t: Todo) => boolean]> = [
    ["eq (implicit)", { "where[status]": "open" }, (t) => t.status === "open"],
    ["eq (explicit)", { "where[status][eq]": "doing" }, (t) => t.status === "doing"],
    ["eq on a number", { "where[priority][eq]": "5" }, (t) => t.priority === 5],
    ["eq on a boolean", { "where[done]": "true" }, (t) => t.done === true],
    ["ne", { "where[status][ne]": "open" }, (t) => t.status !== "open"],
    ["gt", { "where[priority][gt]": "5" }, (t) => (t.priority ?? 0) > 5],
    ["gte", { "where[priority][gte]": "5" }, (t) => (t.priority ?? 0) >= 5],
    ["lt", { "where[priority][lt]": "5" }, (t) => (t.priority ?? 0) < 5],
    ["lte", { "where[priority][lte]": "5" }, (t) => (t.priority ?? 0) <= 5],
    ["in on strings", { "where[status][in]": "doing,done" }, (t) => t.status !== "open"],
    ["in on numbers", { "where[priority][in]": "1,8,9" }, (t) => [1, 8].includes(t.priority ?? -1)],
    [
      "two filters (AND)",
      { "where[status]": "open", "where[priority][gte]": "5" },
      (t) => t.status === "open" && (t.priority ?? 0) >= 5,
    ],
  ];

  for (const [name, filter, keep] of cases) {
    it(`${name} returns exactly the matching documents`, async () => {
      await ready();
      const expected = matching(keep);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(ids.length);
      // The owner filter scopes to this set: other tests in the file write todos too.
      const items = await queryAll({ "where[owner]": owner, ...filter });
      expect(items.map((item) => item.id)).toEqual(expected);
      // And with the owner filter last, the index of the tested field serves the query.
      const reordered = await queryAll({ ...filter, "where[owner]": owner });
      expect(reordered.map((item) => item.id)).toEqual(expected);
    });
  }

  it("prefix returns exactly the documents whose field starts with the prefix", async () => {
    const base = uniqueId("pfx");
    const docs: Record<string, Todo> = {
      [uniqueId("t")]: { title: "1", owner: `${base}/alice` },
      [uniqueId("t")]: { title: "2", owner: `${base}/alina` },
      [uniqueId("t")]: { title: "3", owner: `${base}/ali` },
      [uniqueId("t")]: { title: "4", owner: `${base}/bob` },
      [uniqueId("t")]: { title: "5", owner: `${base}/al` },
      [uniqueId("t")]: { title: "6", owner: `${base}/Alice` },
      [uniqueId("t")]: { title: "7", owner: `${base}/ali😀` },
      [uniqueId("t")]: { title: "8", owner: `${base}0ali` },
    };
    await createTodos(docs);
    const owners = (prefix: string) =>
      Object.keys(docs)
        .filter((id) => (docs[id]?.owner ?? "").startsWith(prefix))
        .sort(byId);
    await untilIds({ "where[owner][prefix]": `${base}` }, owners(base));
    expect(owners(`${base}/ali`)).toHaveLength(4);
    expect((await queryAll({ "where[owner][prefix]": `${base}/ali` })).map((i) => i.id)).toEqual(
      owners(`${base}/ali`),
    );
    expect((await queryAll({ "where[owner][prefix]": `${base}/` })).map((i) => i.id)).toEqual(
      owners(`${base}/`),
    );
  });

  it("prefix includes a value whose next character is U+10FFFF", async () => {
    const base = uniqueId("pfx");
    const [plain, last] = [uniqueId("t"), uniqueId("t")];
    await createTodos({
      [plain]: { title: "1", owner: `${base}/a` },
      [last]: { title: "2", owner: `${base}/\u{10ffff}` },
    });
    // Both owners start with `${base}/`; the prefix bound must not stop at the highest code point.
    await untilIds({ "where[owner][prefix]": base }, [plain, last].sort(byId));
    const items = await queryAll({ "where[owner][prefix]": `${base}/` });
    expect(items.map((i) => i.id)).toEqual([plain, last].sort(byId));
  });

  it("in on owner returns the documents of each listed owner", async () => {
    const a = uniqueId("own");
    const b = uniqueId("own");
    const c = uniqueId("own");
    const docs: Record<string, Todo> = {
      [uniqueId("t")]: { title: "1", owner: a },
      [uniqueId("t")]: { title: "2", owner: b },
      [uniqueId("t")]: { title: "3", owner: c },
      [uniqueId("t")]: { title: "4", owner: a },
    };
    await createTodos(docs);
    const expected = Object.keys(docs)
      .filter((id) => docs[id]?.owner !== c)
      .sort(byId);
    await untilIds({ "where[owner][in]": `${a},${b}` }, expected);
  });

  it("leaves deleted documents out", async () => {
    const owner = uniqueId("owner");
    const [keep, gone] = [uniqueId("t"), uniqueId("t")];
    await createTodos({ [keep]: { title: "k", owner }, [gone]: { title: "g", owner } });
    await untilIds({ "where[owner]": owner }, [keep, gone].sort(byId));
    expect((await send(todo(gone), { method: "DELETE" })).status).toBe(204);
    await untilIds({ "where[owner]": owner }, [keep]);
  });
});

describe("GET /v1/todos: order and envelopes", () => {
  it("orders by priority, then id, both ways; without order, by id", async () => {
    const owner = uniqueId("owner");
    const priorities = [3, 1, 3, 2, 3, 1, 7];
    const docs: Record<string, Todo> = {};
    for (const priority of priorities) docs[uniqueId("t")] = { title: "x", priority, owner };
    await createTodos(docs);
    const ascending = Object.keys(docs).sort(
      (a, b) => (docs[a]?.priority ?? 0) - (docs[b]?.priority ?? 0) || byId(a, b),
    );
    await untilIds({ "where[owner]": owner }, Object.keys(docs).sort(byId));
    expect((await queryAll({ "where[owner]": owner, order: "priority" })).map((i) => i.id)).toEqual(
      ascending,
    );
    expect((await queryAll({ "where[owner]": owner, order: "-priority" })).map((i) => i.id)).toEqual(
      [...ascending].reverse(),
    );
    expect((await queryAll({ "where[owner]": owner, order: "id" })).map((i) => i.id)).toEqual(
      Object.keys(docs).sort(byId),
    );
    expect((await queryAll({ "where[owner]": owner, order: "-id" })).map((i) => i.id)).toEqual(
      Object.keys(docs).sort(byId).reverse(),
    );
    // Ordering by a field lists only the documents that have it (README, Queries).
    const unprioritised = uniqueId("t");
    await createTodos({ [unprioritised]: { title: "no priority", owner } });
    await untilIds({ "where[owner]": owner }, [...Object.keys(docs), unprioritised].sort(byId));
    expect((await queryAll({ "where[owner]": owner, order: "priority" })).map((i) => i.id)).toEqual(
      ascending,
    );
    // The same orders, two at a time: the cursor continues correctly inside a run of equal priorities.
    for (const [order, expected] of [
      ["priority", ascending],
      ["-priority", [...ascending].reverse()],
    ] as const) {
      const paged = await queryAll({ "where[owner]": owner, order, limit: 2 });
      expect(paged.map((i) => i.id)).toEqual(expected);
    }
  });

  it("returns envelopes equal to the strong read, with Read-Source: read-model and next null on the last page", async () => {
    const owner = uniqueId("owner");
    const [first, second, third] = [uniqueId("t"), uniqueId("t"), uniqueId("t")];
    await createTodos({
      [first]: { title: "one", owner, status: "open", priority: 2 },
      [second]: { title: "two", owner },
      [third]: { title: "three", owner, done: true },
    });
    expect((await mergePatch(todo(second), { status: "doing" })).status).toBe(200);
    const ids = [first, second, third].sort(byId);
    const items = await eventually(async () => {
      const res = await query({ "where[owner]": owner });
      expect(res.headers.get("read-source")).toBe("read-model");
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const page = pageOf(res);
      expect(page.items.map((i) => i.id)).toEqual(ids);
      expect(page.items.find((i) => i.id === second)?.version).toBe(2);
      expect(page.next).toBeNull();
      return page.items;
    });
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(
        ["collection", "createdAt", "data", "id", "updatedAt", "version"].sort(),
      );
      expect(item).toEqual((await get(todo(item.id))).body);
    }
    const patched = items.find((i) => i.id === second) as Envelope;
    expect(patched.data).toEqual({ title: "two", owner, status: "doing" });
    expect(Date.parse(patched.updatedAt)).toBeGreaterThanOrEqual(Date.parse(patched.createdAt));

    const firstPage = pageOf(await query({ "where[owner]": owner, limit: 2 }));
    expect(firstPage.items.map((i) => i.id)).toEqual(ids.slice(0, 2));
    expect(typeof firstPage.next).toBe("string");
    const lastPage = pageOf(
      await query({ "where[owner]": owner, limit: 2, cursor: firstPage.next as string }),
    );
    expect(lastPage.items.map((i) => i.id)).toEqual(ids.slice(2));
    expect(lastPage.next).toBeNull();
    // A page that ends exactly at the last document also says so.
    const exact = pageOf(await query({ "where[owner]": owner, limit: 3 }));
    expect(exact.items).toHaveLength(3);
    expect(exact.next).toBeNull();
  });

  it("returns a document whose state is stored by reference (over 64 KB) in full", async () => {
    const owner = uniqueId("owner");
    const id = uniqueId("big");
    const data = { title: "big", owner, notes: "n".repeat(100 * 1024) };
    await createTodos({ [id]: data });
    const [item] = await untilIds({ "where[owner]": owner }, [id]);
    expect(item?.data).toEqual(data);
  });

  it("answers an empty page, not an error, for a query nothing matches", async () => {
    const page = pageOf(await query({ "where[owner]": uniqueId("nobody") }));
    expect(page).toEqual({ items: [], next: null });
  });
});

describe("GET /v1/todos/{id} at the default consistency", () => {
  it("says Read-Source on a 404 too, as on every read", async () => {
    const id = uniqueId("t");
    await createTodos({ [id]: { title: "short-lived" } });
    expect((await send(todo(id), { method: "DELETE" })).status).toBe(204);
    const eventual = await eventually(async () => {
      const res = await getEventual(todo(id));
      expect(res.status).toBe(404);
      return res;
    });
    expect(eventual.headers.get("read-source")).toBe("read-model");
    const strong = await get(todo(id));
    expect(strong.status).toBe(404);
    expect(strong.headers.get("read-source")).toBe("primary");
  });
});

describe("GET /v1/{collection}: refused queries", () => {
  it("answers 400 field-not-indexed for a filter on an undeclared field, naming it", async () => {
    const res = await query({ "where[title]": "x" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(problem(res)).toMatchObject({ status: 400, code: "field-not-indexed" });
    expect(problem(res).detail).toContain('"title"');
  });

  it("answers 400 field-not-indexed for an order on an undeclared field", async () => {
    const res = await query({ order: "-title" });
    expect(res.status).toBe(400);
    expect(problem(res)).toMatchObject({ code: "field-not-indexed" });
    expect(problem(res).detail).toContain('"title"');
  });

  it("answers 400 field-not-indexed on a collection with no declared indexes", async () => {
    const res = await send("/v1/notes?where[x]=1");
    expect(res.status).toBe(400);
    expect(problem(res)).toMatchObject({ status: 400, code: "field-not-indexed" });
    expect(problem(res).detail).toContain('"x"');
  });

  for (const limit of ["0", "201", "-1", "1.5", "abc", ""]) {
    it(`answers 400 invalid-query for limit=${JSON.stringify(limit)}`, async () => {
      const res = await query({ limit });
      expect(res.status).toBe(400);
      expect(problem(res)).toMatchObject({ code: "invalid-query" });
    });
  }

  it("answers 400 invalid-query for an unknown operator, a wrongly typed value and an unknown parameter", async () => {
    const refused: Params[] = [
      { "where[status][like]": "o%" },
      { "where[priority]": "high" },
      { "where[done]": "yes" },
      { "where[priority][prefix]": "1" },
      { colour: "red" },
      { "where[owner][in]": Array.from({ length: 51 }, (_, i) => `o${i}`).join(",") },
    ];
    for (const params of refused) {
      const res = await query(params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(problem(res)).toMatchObject({ code: "invalid-query" });
    }
    // At most 8 filters.
    const nine = Array.from({ length: 9 }, (_, i) => `where[priority][gte]=${i}`).join("&");
    const res = await send(`/v1/todos?${nine}`);
    expect(res.status).toBe(400);
    expect(problem(res)).toMatchObject({ code: "invalid-query" });
  });

  it("answers 400 invalid-consistency for a strong or unknown consistency: queries are eventual", async () => {
    for (const [params, headers] of [
      [{ consistency: "strong" }, {}],
      [{ consistency: "bogus" }, {}],
      [{}, { consistency: "strong" }],
    ] as Array<[Params, Record<string, string>]>) {
      const res = await send(`/v1/todos?${new URLSearchParams(params as Record<string, string>)}`, {
        headers,
      });
      expect(res.status, JSON.stringify([params, headers])).toBe(400);
      expect(problem(res)).toMatchObject({ code: "invalid-consistency" });
    }
    expect((await query({ consistency: "eventual" })).status).toBe(200);
  });

  it("answers 400 invalid-cursor for a cursor from another query, or a malformed one", async () => {
    const owner = uniqueId("owner");
    await createTodos({
      [uniqueId("t")]: { title: "1", owner, priority: 1 },
      [uniqueId("t")]: { title: "2", owner, priority: 2 },
    });
    const next = await eventually(async () => {
      const page = pageOf(await query({ "where[owner]": owner, limit: 1 }));
      expect(page.next).not.toBeNull();
      return page.next as string;
    });
    // The same query with another page size may continue from it.
    expect((await query({ "where[owner]": owner, limit: 5, cursor: next })).status).toBe(200);
    const ordered = pageOf(await query({ "where[owner]": owner, order: "priority", limit: 1 }));
    const foreign: Params[] = [
      { "where[owner]": uniqueId("owner"), cursor: next },
      { "where[owner]": owner, order: "-id", cursor: next },
      { "where[owner]": owner, "where[status]": "open", cursor: next },
      { cursor: next },
      { "where[owner]": owner, order: "-priority", cursor: ordered.next as string },
      { "where[owner]": owner, cursor: "not a cursor" },
      { "where[owner]": owner, cursor: btoa('{"s":"x","i":1}') },
    ];
    for (const params of foreign) {
      const res = await query(params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(problem(res)).toMatchObject({ code: "invalid-cursor" });
    }
  });
});

describe("GET /v1/todos: pagination under concurrent writes", () => {
  /**
   * Pages through `order` with limit 7 while, between pages, it creates documents and updates documents not yet
   * returned (each write waited for until the read model shows it). Every document that existed before and was
   * never modified must come back exactly once, and no document twice.
   */
  async function pageWhileWriting(order: string) {
    const owner = uniqueId("owner");
    const before: Record<string, Todo> = {};
    for (let i = 0; i < 30; i++) before[uniqueId("t")] = { title: `t${i}`, owner, priority: i % 4 };
    await createTodos(before);
    await untilIds({ "where[owner]": owner, limit: 200 }, Object.keys(before).sort(byId));

    const seen = new Map<string, number>();
    const modified = new Set<string>();
    let cursor: string | null = null;
    let round = 0;
    for (let pages = 0; pages < 50; pages++) {
      const params: Params = { "where[owner]": owner, order, limit: 7 };
      const page = pageOf(await query(cursor === null ? params : { ...params, cursor }));
      for (const item of page.items) {
        expect(item.data.owner).toBe(owner);
        seen.set(item.id, (seen.get(item.id) ?? 0) + 1);
      }
      if (page.next === null) break;
      cursor = page.next;

      // Concurrent writes: new documents at both ends of the id order and of the priority order...
      round += 1;
      const writes: Array<{ id: string; version: number }> = [];
      for (const [id, priority] of [
        [`0-${uniqueId("new")}`, 0],
        [`z-${uniqueId("new")}`, 3],
        [uniqueId("t"), round % 4],
      ] as const) {
        const res = await put(todo(id), { title: "new", owner, priority });
        expect(res.status).toBe(201);
        writes.push({ id, version: 1 });
      }
      // ...and updates of two documents not returned yet: one moves to the front, one to the back.
      const unseen = Object.keys(before).filter((id) => !seen.has(id) && !modified.has(id));
      for (const [id, priority] of [
        [unseen[0], 0],
        [unseen.at(-1), 3],
      ] as const) {
        if (id === undefined) continue;
        modified.add(id);
        const res = await mergePatch(todo(id), { priority, title: `moved in round ${round}` });
        expect(res.status).toBe(200);
        writes.push({ id, version: (res.body as Envelope).version });
      }
      for (const write of writes) {
        await eventually(async () => {
          const res = await getEventual(todo(write.id));
          expect(res.headers.get("read-source")).toBe("read-model");
          expect(res.body).toMatchObject({ version: write.version });
        });
      }
    }

    expect(round).toBeGreaterThanOrEqual(3);
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice).toEqual([]);
    const untouched = Object.keys(before).filter((id) => !modified.has(id));
    expect(untouched.length).toBeGreaterThanOrEqual(20);
    expect(untouched.filter((id) => seen.get(id) !== 1)).toEqual([]);
  }

  it("by id: every untouched document once, none twice", { timeout: 90_000 }, async () => {
    await pageWhileWriting("id");
  });

  it("by -priority: every untouched document once, none twice", { timeout: 90_000 }, async () => {
    await pageWhileWriting("-priority");
  });
});

describe("PUT/PATCH /v1/todos: the collection's schema", () => {
  it("refuses an empty title with 422 document-invalid at /title", async () => {
    const res = await put(todo(uniqueId("t")), { title: "" });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(problem(res)).toMatchObject({ status: 422, code: "document-invalid", pointer: "/title" });
  });

  it("refuses a string priority with 422 at /priority", async () => {
    const id = uniqueId("t");
    const res = await put(todo(id), { title: "a", priority: "high" });
    expect(res.status).toBe(422);
    expect(problem(res)).toMatchObject({ code: "document-invalid", pointer: "/priority" });
    expect((await get(todo(id))).status).toBe(404);
  });

  it("refuses other schema violations, each at its pointer", async () => {
    for (const [data, pointer] of [
      [{}, "/title"],
      [{ title: "a", status: "later" }, "/status"],
      [{ title: "a", priority: 11 }, "/priority"],
      [{ title: "a", priority: 1.5 }, "/priority"],
      [{ title: "a", done: "yes" }, "/done"],
      [{ title: "a", owner: 7 }, "/owner"],
      [{ title: "x".repeat(501) }, "/title"],
    ] as const) {
      const res = await put(todo(uniqueId("t")), data);
      expect(res.status, JSON.stringify(data)).toBe(422);
      expect(problem(res)).toMatchObject({ code: "document-invalid", pointer });
    }
  });

  it("creates a valid todo (201) and refuses a merge patch that would make it invalid, leaving it unchanged", async () => {
    const id = uniqueId("t");
    const data = { title: "write tests", status: "open", priority: 3, owner: "ada", done: false, extra: 1 };
    const created = await put(todo(id), data);
    expect(created.status).toBe(201);
    for (const [patch, pointer] of [
      [{ title: null }, "/title"],
      [{ priority: "high" }, "/priority"],
      [{ status: "someday" }, "/status"],
      [{ priority: 42 }, "/priority"],
    ] as const) {
      const res = await mergePatch(todo(id), patch);
      expect(res.status, JSON.stringify(patch)).toBe(422);
      expect(problem(res)).toMatchObject({ code: "document-invalid", pointer });
    }
    const now = await get(todo(id));
    expect(now.status).toBe(200);
    expect(now.headers.get("etag")).toBe('"1"');
    expect(now.body).toMatchObject({ version: 1, data });
    // A valid patch still applies.
    expect((await mergePatch(todo(id), { status: "done", done: true })).body).toMatchObject({
      version: 2,
      data: { ...data, status: "done", done: true },
    });
  });
});

describe("query plans", () => {
  const dialect = new SQLiteAsyncDialect();

  async function plan(query: Query): Promise<string[]> {
    const { sql, params } = dialect.sqlToQuery(querySql("default", query));
    const result = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return result.results.map((row) => row.detail);
  }

  function parsed(search: string, collection = "todos"): Query {
    const result = parseQuery(collection, new URLSearchParams(search));
    if (!result.ok) throw new Error(`${search}: ${result.detail}`);
    return result.query;
  }

  function continued(query: Query, value: string | number | null, id: string): Query {
    const next = applyCursor(query, encodeCursor(query, { value, id }));
    if (next === null) throw new Error("cursor refused");
    return next;
  }

  const shapes: Array<[string, Query, string, boolean]> = [
    // name, query, expected index, whether the index also gives the order (no temporary b-tree)
    ["no filter", parsed(""), "documents_by_id", true],
    ["no filter, -id", parsed("order=-id"), "documents_by_id", true],
    ["a collection without indexes", parsed("", "notes"), "documents_by_id", true],
    ["eq on status", parsed("where[status]=open"), "documents_k0", true],
    ["eq on done", parsed("where[done]=true"), "documents_k3", true],
    [
      "range on priority, order -priority",
      parsed("where[priority][gte]=2&where[priority][lt]=8&order=-priority"),
      "documents_k1",
      true,
    ],
    ["in on owner", parsed("where[owner][in]=a,b,c"), "documents_k2", false],
    ["prefix on owner", parsed("where[owner][prefix]=ad"), "documents_k2", false],
    ["status, ordered by priority", parsed("where[status]=open&order=priority"), "documents_k1", true],
    ["ne on status", parsed("where[status][ne]=done"), "documents_k0", false],
    [
      "after a cursor, by priority",
      continued(parsed("where[status]=open&order=priority"), 3, "t-1"),
      "documents_k1",
      true,
    ],
    [
      "after a cursor, by -priority",
      continued(parsed("where[owner]=ada&order=-priority"), 3, "t-1"),
      "documents_k1",
      true,
    ],
    ["after a cursor, by id", continued(parsed(""), null, "t-1"), "documents_by_id", true],
    ["after a cursor, eq on owner", continued(parsed("where[owner]=ada"), null, "t-1"), "documents_k2", true],
  ];

  for (const [name, query, index, ordered] of shapes) {
    it(`${name} searches ${index}, never a bare scan`, async () => {
      expect(indexFor(query)).toBe(index);
      const details = await plan(query);
      expect(details.length).toBeGreaterThan(0);
      const usesIndex = details.some(
        (d) =>
          d.includes(`USING INDEX ${index} `) ||
          d.endsWith(`USING INDEX ${index}`) ||
          d.includes(`USING COVERING INDEX ${index}`),
      );
      expect(usesIndex, details.join("\n")).toBe(true);
      for (const detail of details) {
        if (/^SCAN documents\b/.test(detail)) expect(detail, details.join("\n")).toMatch(/USING/);
      }
      if (ordered) expect(details.join("\n")).not.toMatch(/TEMP B-TREE/);
    });
  }
});
