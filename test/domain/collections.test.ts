import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COLLECTIONS,
  collectionConfig,
  defineCollections,
  INDEX_SLOT_COUNT,
  indexedFields,
  indexValues,
  MAX_INDEXED_STRING_BYTES,
  validateDocument,
} from "../../domain/collections";
import type { JsonObject } from "../../domain/json";
import { jsonObject } from "./json-arbitraries";

describe("indexedFields", () => {
  it("gives todos' indexes slots 0 to 3 in declaration order", () => {
    expect(indexedFields("todos")).toStrictEqual([
      { field: "status", type: "string", slot: 0 },
      { field: "priority", type: "number", slot: 1 },
      { field: "owner", type: "string", slot: 2 },
      { field: "done", type: "boolean", slot: 3 },
    ]);
  });

  it("gives an undeclared collection no indexes and no configuration", () => {
    expect(indexedFields("notes")).toStrictEqual([]);
    expect(collectionConfig("notes")).toStrictEqual({});
  });
});

describe("validateDocument", () => {
  it("accepts a todo with only a title", () => {
    expect(validateDocument("todos", { title: "x" })).toBeNull();
  });

  it("accepts a todo with every field well typed, and fields it does not declare", () => {
    expect(
      validateDocument("todos", {
        title: "x",
        status: "doing",
        priority: 10,
        owner: "ann",
        done: false,
        tags: ["extra"],
      }),
    ).toBeNull();
  });

  it.each<[string, JsonObject, string]>([
    ["an empty title", { title: "" }, "/title"],
    ["a missing title", {}, "/title"],
    ["a title that is not a string", { title: 5 }, "/title"],
    ["a title over 500 characters", { title: "t".repeat(501) }, "/title"],
    ["a priority of the wrong index type", { title: "x", priority: "high" }, "/priority"],
    ["a priority above 10", { title: "x", priority: 11 }, "/priority"],
    ["a fractional priority", { title: "x", priority: 1.5 }, "/priority"],
    ["a status outside the enum", { title: "x", status: "bogus" }, "/status"],
    ["a status of the wrong index type", { title: "x", status: 3 }, "/status"],
    ["an owner that is an object", { title: "x", owner: { name: "ann" } }, "/owner"],
    ["done given as a string", { title: "x", done: "yes" }, "/done"],
  ])("rejects %s, pointing at the field", (_, data, pointer) => {
    const failure = validateDocument("todos", data);
    expect(failure?.pointer).toBe(pointer);
    expect(failure?.detail).toMatch(/\S/);
  });

  it("names the index type when an indexed field has the wrong type", () => {
    expect(validateDocument("todos", { title: "x", priority: "high" })).toStrictEqual({
      detail: '"priority" is indexed as number',
      pointer: "/priority",
    });
  });

  it("caps an indexed string at 512 UTF-8 bytes, counting bytes, not characters", () => {
    expect(validateDocument("todos", { title: "x", owner: "a".repeat(MAX_INDEXED_STRING_BYTES) })).toBeNull();
    expect(
      validateDocument("todos", { title: "x", owner: "é".repeat(MAX_INDEXED_STRING_BYTES / 2) }),
    ).toBeNull();
    expect(
      validateDocument("todos", { title: "x", owner: `${"é".repeat(MAX_INDEXED_STRING_BYTES / 2)}a` }),
    ).toMatchObject({
      pointer: "/owner",
      detail: expect.stringContaining("at most 512 UTF-8 bytes"),
    });
    // Strings that are not indexed are not capped.
    expect(validateDocument("todos", { title: "x", notes: "n".repeat(10_000) })).toBeNull();
  });

  it("accepts any object in an undeclared collection (property)", () => {
    fc.assert(
      fc.property(jsonObject(), (data) => {
        expect(validateDocument("notes", data)).toBeNull();
      }),
    );
  });
});

describe("indexValues", () => {
  it("maps each indexed field to its slot", () => {
    expect(
      indexValues("todos", { title: "x", status: "open", priority: 3, owner: "ann", done: true }),
    ).toStrictEqual(["open", 3, "ann", 1]);
  });

  it("stores false as 0", () => {
    expect(indexValues("todos", { title: "x", done: false })).toStrictEqual([null, null, null, 0]);
  });

  it("leaves missing fields null", () => {
    expect(indexValues("todos", { title: "x", priority: 0 })).toStrictEqual([null, 0, null, null]);
  });

  it("leaves wrongly typed and null fields null", () => {
    expect(indexValues("todos", { status: 1, priority: "3", owner: null, done: "true" })).toStrictEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(
      indexValues("todos", { status: ["open"], priority: { n: 3 }, owner: true, done: 1 }),
    ).toStrictEqual([null, null, null, null]);
  });

  it("gives four nulls for a deleted document", () => {
    expect(indexValues("todos", null)).toStrictEqual([null, null, null, null]);
    expect(indexValues("notes", null)).toHaveLength(INDEX_SLOT_COUNT);
  });

  it("gives four nulls for a collection without indexes", () => {
    expect(indexValues("notes", { status: "open", priority: 3 })).toStrictEqual([null, null, null, null]);
  });

  it("always gives one value per slot, each a string, number or null (property)", () => {
    fc.assert(
      fc.property(jsonObject(), (data) => {
        const values = indexValues("todos", data);
        expect(values).toHaveLength(INDEX_SLOT_COUNT);
        for (const value of values)
          expect(value === null || ["string", "number"].includes(typeof value)).toBe(true);
      }),
    );
  });
});

describe("defineCollections", () => {
  it("accepts this deployment's declaration (npm run check runs the same check before the server starts)", () => {
    expect(() => defineCollections(COLLECTIONS)).not.toThrow();
  });

  it("refuses a collection name a URL cannot carry, an empty or reserved field, and an unknown type", () => {
    expect(() => defineCollections({ Orders: {} })).toThrow(/collection "Orders"/);
    expect(() => defineCollections({ _sys: {} })).toThrow(/collection "_sys"/);
    expect(() => defineCollections({ a: { indexes: { "x..y": "string" } } })).toThrow(/cannot be an indexed/);
    expect(() => defineCollections({ a: { indexes: { id: "string" } } })).toThrow(/cannot be an indexed/);
    // A JavaScript declaration can hold any string where the type says FieldType.
    const untyped = { a: { indexes: { x: "date" } } } as unknown as Parameters<typeof defineCollections>[0];
    expect(() => defineCollections(untyped)).toThrow(/type "date"/);
  });

  it("refuses, when the module loads, a configuration a query could only fail on", () => {
    expect(() => defineCollections({ a: { indexes: { x: "string" }, defaults: { order: "-y" } } })).toThrow(
      /not one of its indexes/,
    );
    expect(() => defineCollections({ a: { defaults: { limit: 500 } } })).toThrow(/default limit/);
    expect(() =>
      defineCollections({
        a: { indexes: { a: "string", b: "string", c: "string", d: "string", e: "string" } },
      }),
    ).toThrow(/indexes; the limit is 4/);
    expect(
      defineCollections({ a: { indexes: { x: "number" }, defaults: { order: "-x", limit: 20 } } }),
    ).toBeTruthy();
  });
});
