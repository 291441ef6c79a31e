import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyCursor,
  DEFAULT_QUERY_LIMIT,
  encodeCursor,
  MAX_QUERY_LIMIT,
  parseQuery,
  type Query,
  type QueryParse,
  queryShape,
} from "../../domain/query";

function parse(search: string, collection = "todos"): QueryParse {
  return parseQuery(collection, new URLSearchParams(search));
}

/** The query of a search that must parse. */
function query(search: string, collection = "todos"): Query {
  const parsed = parse(search, collection);
  if (!parsed.ok) throw new Error(`${search} did not parse: ${parsed.detail}`);
  return parsed.query;
}

function failure(search: string, collection = "todos"): { code: string; detail: string } {
  const parsed = parse(search, collection);
  if (parsed.ok) throw new Error(`${search} parsed, expected a failure`);
  return { code: parsed.code, detail: parsed.detail };
}

const todos = (overrides: Partial<Query>): Query => ({
  collection: "todos",
  filters: [],
  order: null,
  descending: false,
  limit: 50,
  after: null,
  ...overrides,
});

describe("parseQuery filters", () => {
  it("parses where[status]=open as equality on slot 0", () => {
    expect(query("where[status]=open")).toStrictEqual(
      todos({ filters: [{ field: "status", slot: 0, op: "eq", values: ["open"] }] }),
    );
  });

  it("reads where[priority][gte]=3 as the number 3 on slot 1", () => {
    expect(query("where[priority][gte]=3").filters).toStrictEqual([
      { field: "priority", slot: 1, op: "gte", values: [3] },
    ]);
  });

  it("stores booleans as 1 and 0 on slot 3", () => {
    expect(query("where[done]=true").filters).toStrictEqual([
      { field: "done", slot: 3, op: "eq", values: [1] },
    ]);
    expect(query("where[done]=false").filters).toStrictEqual([
      { field: "done", slot: 3, op: "eq", values: [0] },
    ]);
  });

  it("splits an in list on commas and coerces each value", () => {
    expect(query("where[priority][in]=1,2,3").filters).toStrictEqual([
      { field: "priority", slot: 1, op: "in", values: [1, 2, 3] },
    ]);
  });

  it("keeps a comma inside an eq value as part of the value", () => {
    expect(query("where[owner]=a,b").filters).toStrictEqual([
      { field: "owner", slot: 2, op: "eq", values: ["a,b"] },
    ]);
  });

  it("parses a prefix filter on a string field", () => {
    expect(query("where[owner][prefix]=a").filters).toStrictEqual([
      { field: "owner", slot: 2, op: "prefix", values: ["a"] },
    ]);
  });

  it.each(["eq", "ne", "gt", "gte", "lt", "lte"])("accepts the %s operator on a number field", (op) => {
    expect(query(`where[priority][${op}]=4`).filters).toStrictEqual([
      { field: "priority", slot: 1, op, values: [4] },
    ]);
  });

  it("combines several filters in the order given", () => {
    expect(query("where[status]=open&where[priority][lt]=5").filters).toStrictEqual([
      { field: "status", slot: 0, op: "eq", values: ["open"] },
      { field: "priority", slot: 1, op: "lt", values: [5] },
    ]);
  });

  it("answers field-not-indexed, naming the field, for a field the collection does not index", () => {
    const result = failure("where[title]=x");
    expect(result.code).toBe("field-not-indexed");
    expect(result.detail).toContain('"title"');
  });

  it("answers field-not-indexed for any filter on a collection with no indexes", () => {
    const result = failure("where[status]=open", "notes");
    expect(result.code).toBe("field-not-indexed");
    expect(result.detail).toContain('"status"');
  });

  it("answers invalid-query, naming the operator, for an unknown operator", () => {
    const result = failure("where[priority][between]=1");
    expect(result.code).toBe("invalid-query");
    expect(result.detail).toContain('"between"');
  });

  it("answers invalid-query for prefix on a number field", () => {
    expect(failure("where[priority][prefix]=1").code).toBe("invalid-query");
  });

  it.each([
    ["a word for a number", "where[priority]=abc"],
    ["an empty number", "where[priority]="],
    ["a blank number", "where[priority]=%20"],
    ["infinity for a number", "where[priority]=Infinity"],
    ["one bad member of an in list", "where[priority][in]=1,x,3"],
    ["an empty member of an in list", "where[priority][in]=1,,3"],
    ["a word for a boolean", "where[done]=yes"],
  ])("answers invalid-query for %s", (_, search) => {
    expect(failure(search).code).toBe("invalid-query");
  });

  it("accepts 50 values in an in list and refuses 51", () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => i).join(",");
    expect(query(`where[priority][in]=${list(50)}`).filters[0]?.values).toHaveLength(50);
    expect(failure(`where[priority][in]=${list(51)}`).code).toBe("invalid-query");
  });

  it("accepts 8 filters and refuses 9", () => {
    const filters = (n: number) => Array.from({ length: n }, (_, i) => `where[priority][ne]=${i}`).join("&");
    expect(query(filters(8)).filters).toHaveLength(8);
    expect(failure(filters(9)).code).toBe("invalid-query");
  });

  it("answers invalid-query, naming the parameter, for an unknown parameter", () => {
    const result = failure("foo=1");
    expect(result.code).toBe("invalid-query");
    expect(result.detail).toContain('"foo"');
  });

  it("answers invalid-query for a where parameter with a malformed shape", () => {
    expect(failure("where[status=open").code).toBe("invalid-query");
    expect(failure("where[]=open").code).toBe("invalid-query");
  });

  it("ignores the consistency and cursor parameters", () => {
    expect(query("where[status]=open&consistency=strong&cursor=not-a-cursor")).toStrictEqual(
      query("where[status]=open"),
    );
  });
});

describe("parseQuery order and limit", () => {
  it("orders by id ascending by default", () => {
    expect(query("")).toStrictEqual(todos({}));
  });

  it("parses order=-priority as descending on slot 1", () => {
    const parsed = query("order=-priority");
    expect(parsed.order).toStrictEqual({ field: "priority", slot: 1 });
    expect(parsed.descending).toBe(true);
  });

  it("parses order=owner as ascending on slot 2", () => {
    const parsed = query("order=owner");
    expect(parsed.order).toStrictEqual({ field: "owner", slot: 2 });
    expect(parsed.descending).toBe(false);
  });

  it("parses order=-id as descending by id", () => {
    const parsed = query("order=-id");
    expect(parsed.order).toBeNull();
    expect(parsed.descending).toBe(true);
  });

  it("answers field-not-indexed, naming the field, for an order on an undeclared field", () => {
    const result = failure("order=nope");
    expect(result.code).toBe("field-not-indexed");
    expect(result.detail).toContain('"nope"');
  });

  it("answers field-not-indexed for an order on a collection with no indexes", () => {
    expect(failure("order=-status", "notes").code).toBe("field-not-indexed");
  });

  it.each(["0", "201", "1.5", "abc", "", "-1"])("answers invalid-query for limit=%j", (limit) => {
    expect(failure(`limit=${limit}`).code).toBe("invalid-query");
  });

  it("accepts limits from 1 to 200", () => {
    expect(query("limit=1").limit).toBe(1);
    expect(query(`limit=${MAX_QUERY_LIMIT}`).limit).toBe(200);
  });

  it("uses the collection's default limit of 50 for todos", () => {
    expect(query("where[status]=open").limit).toBe(50);
  });

  it("uses the service default limit for a collection without defaults", () => {
    expect(query("", "notes").limit).toBe(DEFAULT_QUERY_LIMIT);
  });
});

describe("cursors", () => {
  const ordered = query("where[status]=open&order=-priority");

  it("continues the same query after the cursor's row", () => {
    const cursor = encodeCursor(ordered, { value: 3, id: "doc-9" });
    expect(applyCursor(ordered, cursor)).toStrictEqual({ ...ordered, after: { value: 3, id: "doc-9" } });
  });

  it("continues a query ordered by id after the cursor's id", () => {
    const byId = query("where[done]=false");
    const cursor = encodeCursor(byId, { value: null, id: "doc-3" });
    expect(applyCursor(byId, cursor)?.after).toStrictEqual({ value: null, id: "doc-3" });
  });

  it("round-trips any order value and id (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "grapheme" }),
          fc.integer(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        ),
        fc.string({ unit: "grapheme", minLength: 1 }),
        (value, id) => {
          const cursor = encodeCursor(ordered, { value, id });
          expect(applyCursor(ordered, cursor)?.after).toStrictEqual({
            value: Object.is(value, -0) ? 0 : value,
            id,
          });
        },
      ),
    );
  });

  it("keeps working when only the page size changes", () => {
    const cursor = encodeCursor(ordered, { value: 3, id: "doc-9" });
    const bigger = query("where[status]=open&order=-priority&limit=200");
    expect(applyCursor(bigger, cursor)?.after).toStrictEqual({ value: 3, id: "doc-9" });
  });

  it("does not depend on the order in which filters are given", () => {
    const a = query("where[status]=open&where[priority][gt]=1");
    const b = query("where[priority][gt]=1&where[status]=open");
    expect(queryShape(a)).toBe(queryShape(b));
    expect(applyCursor(b, encodeCursor(a, { value: null, id: "doc-1" }))).not.toBeNull();
  });

  it.each([
    ["a different filter value", "where[status]=done&order=-priority"],
    ["a different operator", "where[status][ne]=open&order=-priority"],
    ["an extra filter", "where[status]=open&where[done]=true&order=-priority"],
    ["no filter", "order=-priority"],
    ["the opposite direction", "where[status]=open&order=priority"],
    ["a different order field", "where[status]=open&order=-owner"],
    ["order by id", "where[status]=open"],
  ])("refuses a cursor moved to a query with %s", (_, search) => {
    const cursor = encodeCursor(ordered, { value: 3, id: "doc-9" });
    expect(applyCursor(query(search), cursor)).toBeNull();
  });

  it("refuses a cursor moved to another collection", () => {
    const cursor = encodeCursor(query(""), { value: null, id: "doc-9" });
    expect(applyCursor(query("", "notes"), cursor)).toBeNull();
  });

  it("refuses a cursor for another filter value, for any two values (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        const qa = query(`where[owner]=${encodeURIComponent(a)}`);
        const qb = query(`where[owner]=${encodeURIComponent(b)}`);
        expect(applyCursor(qb, encodeCursor(qa, { value: null, id: "x" }))).toBeNull();
      }),
    );
  });

  const base64 = (json: string) => btoa(json).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

  it.each([
    ["the empty string", ""],
    ["characters outside base64", "!!!"],
    ["base64 that is not JSON", base64("{nope")],
    ["JSON null", base64("null")],
    ["a cursor without its shape", base64('{"v":3,"i":"doc-9"}')],
    ["a cursor with a forged shape", base64('{"s":"0","v":3,"i":"doc-9"}')],
  ])("refuses %s", (_, cursor) => {
    expect(applyCursor(ordered, cursor)).toBeNull();
  });

  it("refuses a cursor for an ordered query whose id or value is missing", () => {
    const genuine = encodeCursor(ordered, { value: 3, id: "doc-9" });
    const shape = (JSON.parse(atob(genuine.replaceAll("-", "+").replaceAll("_", "/"))) as { s: string }).s;
    expect(applyCursor(ordered, base64(JSON.stringify({ s: shape, v: 3 })))).toBeNull();
    expect(applyCursor(ordered, base64(JSON.stringify({ s: shape, v: null, i: "doc-9" })))).toBeNull();
    expect(applyCursor(ordered, base64(JSON.stringify({ s: shape, v: 3, i: "doc-9" })))).not.toBeNull();
  });
});

describe("limits that keep a valid-looking query within D1", () => {
  it("refuses, with a 400, a query comparing more values than one D1 statement can bind", () => {
    const fifty = (prefix: string) => Array.from({ length: 50 }, (_, i) => `${prefix}${i}`).join(",");
    const result = parseQuery(
      "todos",
      new URLSearchParams({ "where[status][in]": fifty("s"), "where[owner][in]": fifty("o") }),
    );
    expect(result).toMatchObject({ ok: false, code: "invalid-query" });
  });

  it("encodes a cursor over a 200 KB order value without overflowing the stack", () => {
    const parsed = parseQuery("todos", new URLSearchParams({ order: "owner" }));
    if (!parsed.ok) throw new Error("the query should parse");
    const value = "o".repeat(200_000);
    const cursor = encodeCursor(parsed.query, { value, id: "x" });
    expect(applyCursor(parsed.query, cursor)?.after).toEqual({ value, id: "x" });
  });
});
