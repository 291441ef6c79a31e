import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../domain/json";
import {
  applyJsonPatch,
  MAX_PATCH_OPERATIONS,
  type PatchOperation,
  type PatchResult,
  parseJsonPatch,
} from "../../domain/patch/json-patch";
import { formatPointer, parsePointer, resolve } from "../../domain/patch/pointer";
import {
  deepFreeze,
  isJsonObject,
  jsonObject,
  jsonValue,
  pointerOf,
  tokenPathsIn,
  valueAtTokens,
} from "./json-arbitraries";

const parse = (text: string) => JSON.parse(text) as JsonValue;

/** Parses a patch document that must be well-formed. */
function operations(body: unknown): PatchOperation[] {
  const parsed = parseJsonPatch(body);
  if (!parsed.ok) throw new Error(`patch did not parse: ${parsed.detail}`);
  return parsed.operations;
}

/** Parses and applies, as the service does: both arguments as JSON text, like the RFC examples. */
function patchText(document: string, patch: string): PatchResult {
  return applyJsonPatch(parse(document), operations(JSON.parse(patch)));
}

function applied(document: JsonValue, patch: unknown): PatchResult {
  return applyJsonPatch(document, operations(patch));
}

describe("applyJsonPatch: RFC 6902 Appendix A", () => {
  it("A.1 adds an object member", () => {
    expect(patchText('{"foo":"bar"}', '[{ "op": "add", "path": "/baz", "value": "qux" }]')).toStrictEqual({
      ok: true,
      value: parse('{"baz":"qux","foo":"bar"}'),
    });
  });

  it("A.2 adds an array element, shifting the rest", () => {
    expect(
      patchText('{ "foo": [ "bar", "baz" ] }', '[{ "op": "add", "path": "/foo/1", "value": "qux" }]'),
    ).toStrictEqual({ ok: true, value: parse('{ "foo": [ "bar", "qux", "baz" ] }') });
  });

  it("A.3 removes an object member", () => {
    expect(patchText('{"baz":"qux","foo":"bar"}', '[{ "op": "remove", "path": "/baz" }]')).toStrictEqual({
      ok: true,
      value: parse('{"foo":"bar"}'),
    });
  });

  it("A.4 removes an array element, shifting the rest", () => {
    expect(
      patchText('{ "foo": [ "bar", "qux", "baz" ] }', '[{ "op": "remove", "path": "/foo/1" }]'),
    ).toStrictEqual({ ok: true, value: parse('{ "foo": [ "bar", "baz" ] }') });
  });

  it("A.5 replaces a value", () => {
    expect(
      patchText('{"baz":"qux","foo":"bar"}', '[{ "op": "replace", "path": "/baz", "value": "boo" }]'),
    ).toStrictEqual({ ok: true, value: parse('{"baz":"boo","foo":"bar"}') });
  });

  it("A.6 moves a value between objects", () => {
    expect(
      patchText(
        '{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}',
        '[{ "op": "move", "from": "/foo/waldo", "path": "/qux/thud" }]',
      ),
    ).toStrictEqual({
      ok: true,
      value: parse('{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}'),
    });
  });

  it("A.7 moves an array element to a later index", () => {
    expect(
      patchText(
        '{ "foo": [ "all", "grass", "cows", "eat" ] }',
        '[{ "op": "move", "from": "/foo/1", "path": "/foo/3" }]',
      ),
    ).toStrictEqual({ ok: true, value: parse('{ "foo": [ "all", "cows", "eat", "grass" ] }') });
  });

  it("A.8 succeeds, changing nothing, when every tested value matches", () => {
    expect(
      patchText(
        '{"baz":"qux","foo":["a",2,"c"]}',
        '[{ "op": "test", "path": "/baz", "value": "qux" }, { "op": "test", "path": "/foo/1", "value": 2 }]',
      ),
    ).toStrictEqual({ ok: true, value: parse('{"baz":"qux","foo":["a",2,"c"]}') });
  });

  it("A.9 fails with patch-test-failed when the tested value differs", () => {
    expect(patchText('{ "baz": "qux" }', '[{ "op": "test", "path": "/baz", "value": "bar" }]')).toMatchObject(
      {
        ok: false,
        code: "patch-test-failed",
        pointer: "/baz",
      },
    );
  });

  it("A.10 adds a nested member object", () => {
    expect(
      patchText('{ "foo": "bar" }', '[{ "op": "add", "path": "/child", "value": { "grandchild": { } } }]'),
    ).toStrictEqual({ ok: true, value: parse('{"foo":"bar","child":{"grandchild":{}}}') });
  });

  it("A.11 ignores unrecognized members of an operation", () => {
    expect(
      patchText('{ "foo": "bar" }', '[{ "op": "add", "path": "/baz", "value": "qux", "xyz": 123 }]'),
    ).toStrictEqual({ ok: true, value: parse('{"foo":"bar","baz":"qux"}') });
  });

  it("A.12 fails with patch-path-not-found when adding under a nonexistent parent", () => {
    expect(
      patchText('{ "foo": "bar" }', '[{ "op": "add", "path": "/baz/bat", "value": "qux" }]'),
    ).toMatchObject({ ok: false, code: "patch-path-not-found", pointer: "/baz/bat" });
  });

  // A.13 (an operation with two "op" members) cannot reach this code: JSON.parse keeps the last duplicate,
  // so the document arrives as an ordinary, single-op operation. Nothing here can observe the duplicate.

  it('A.14 decodes "~01" as "~1", not "/" (escape ordering)', () => {
    expect(patchText('{"/":9,"~1":10}', '[{"op": "test", "path": "/~01", "value": 10}]')).toStrictEqual({
      ok: true,
      value: parse('{"/":9,"~1":10}'),
    });
  });

  it("A.15 fails when comparing a string with a number", () => {
    expect(patchText('{"/":9,"~1":10}', '[{"op": "test", "path": "/~01", "value": "10"}]')).toMatchObject({
      ok: false,
      code: "patch-test-failed",
      pointer: "/~01",
    });
  });

  it('A.16 appends an array value as a single element with "-"', () => {
    expect(
      patchText('{ "foo": ["bar"] }', '[{ "op": "add", "path": "/foo/-", "value": ["abc", "def"] }]'),
    ).toStrictEqual({ ok: true, value: parse('{ "foo": ["bar", ["abc", "def"]] }') });
  });
});

describe("JSON Pointer: RFC 6901", () => {
  const document = parse(`{
    "foo": ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "c%d": 2,
    "e^f": 3,
    "g|h": 4,
    "i\\\\j": 5,
    "k\\"l": 6,
    " ": 7,
    "m~n": 8
  }`);

  const section5: Array<[string, JsonValue]> = [
    ["", document],
    ["/foo", ["bar", "baz"]],
    ["/foo/0", "bar"],
    ["/", 0],
    ["/a~1b", 1],
    ["/c%d", 2],
    ["/e^f", 3],
    ["/g|h", 4],
    ["/i\\j", 5],
    ['/k"l', 6],
    ["/ ", 7],
    ["/m~0n", 8],
  ];

  it.each(section5)("resolves %j as section 5 says", (text, expected) => {
    const pointer = parsePointer(text);
    if (pointer === null) throw new Error(`${text} should parse`);
    expect(resolve(document, pointer)).toStrictEqual(expected);
  });

  it('decodes "~1" to "/" and "~0" to "~", and "~01" to "~1"', () => {
    expect(parsePointer("/a~1b/m~0n/~01")).toStrictEqual(["a/b", "m~n", "~1"]);
    expect(parsePointer("/")).toStrictEqual([""]);
    expect(parsePointer("//")).toStrictEqual(["", ""]);
    expect(parsePointer("")).toStrictEqual([]);
  });

  it.each(["a", "/~2", "/~", "/a~", "#/foo", "foo/bar"])("rejects %j as not a pointer", (text) => {
    expect(parsePointer(text)).toBeNull();
  });

  it("does not resolve inherited members such as constructor or __proto__", () => {
    expect(resolve({}, ["constructor"])).toBeUndefined();
    expect(resolve({}, ["__proto__"])).toBeUndefined();
    expect(resolve({ a: [1] }, ["a", "length"])).toBeUndefined();
  });

  it("round-trips any token list through formatPointer and parsePointer", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (tokens) => {
        const text = formatPointer(tokens);
        expect(text).toBe(pointerOf(tokens));
        expect(parsePointer(text)).toStrictEqual(tokens);
      }),
    );
  });
});

describe("parseJsonPatch", () => {
  it.each<[string, unknown]>([
    ["an object instead of an array", { op: "add", path: "/a", value: 1 }],
    ["an operation that is not an object", ["add"]],
    ["an unknown op", [{ op: "frobnicate", path: "/a" }]],
    ["a missing op", [{ path: "/a", value: 1 }]],
    ["a missing path", [{ op: "remove" }]],
    ["a path that is not a pointer", [{ op: "remove", path: "a" }]],
    ["a path with a bad escape", [{ op: "remove", path: "/~2" }]],
    ["add without value", [{ op: "add", path: "/a" }]],
    ["replace without value", [{ op: "replace", path: "/a" }]],
    ["test without value", [{ op: "test", path: "/a" }]],
    ["move without from", [{ op: "move", path: "/a" }]],
    ["copy without from", [{ op: "copy", path: "/a" }]],
    ["move with a from that is not a pointer", [{ op: "move", from: "a", path: "/b" }]],
    ["increment with a string value", [{ op: "increment", path: "/n", value: "1" }]],
    ["increment without value", [{ op: "increment", path: "/n" }]],
    ["increment with a string min", [{ op: "increment", path: "/n", value: 1, min: "0" }]],
    ["increment with min greater than max", [{ op: "increment", path: "/n", value: 1, min: 5, max: 4 }]],
    [
      "a bad operation after a good one",
      [
        { op: "remove", path: "/a" },
        { op: "nope", path: "/a" },
      ],
    ],
  ])("rejects %s", (_, body) => {
    const parsed = parseJsonPatch(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.detail).not.toBe("");
  });

  it(`rejects more than ${MAX_PATCH_OPERATIONS} operations and accepts exactly that many`, () => {
    const op = { op: "test", path: "", value: {} };
    expect(parseJsonPatch(Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, () => op)).ok).toBe(false);
    expect(parseJsonPatch(Array.from({ length: MAX_PATCH_OPERATIONS }, () => op)).ok).toBe(true);
  });

  it("accepts null as a value, since the member is present", () => {
    expect(parseJsonPatch([{ op: "add", path: "/a", value: null }])).toStrictEqual({
      ok: true,
      operations: [{ op: "add", path: ["a"], value: null }],
    });
  });

  it("parses every op into decoded pointers, keeping only the members each op uses", () => {
    expect(
      parseJsonPatch([
        { op: "add", path: "/a~1b", value: 1, extra: true },
        { op: "remove", path: "/m~0n", value: "ignored" },
        { op: "replace", path: "", value: {} },
        { op: "move", from: "/x", path: "/y" },
        { op: "copy", from: "/x", path: "/z/-" },
        { op: "test", path: "/0", value: [1] },
        { op: "increment", path: "/n", value: -2, min: 0 },
        { op: "increment", path: "/n", value: 1, min: 1, max: 1 },
      ]),
    ).toStrictEqual({
      ok: true,
      operations: [
        { op: "add", path: ["a/b"], value: 1 },
        { op: "remove", path: ["m~n"] },
        { op: "replace", path: [], value: {} },
        { op: "move", from: ["x"], path: ["y"] },
        { op: "copy", from: ["x"], path: ["z", "-"] },
        { op: "test", path: ["0"], value: [1] },
        { op: "increment", path: ["n"], value: -2, min: 0 },
        { op: "increment", path: ["n"], value: 1, min: 1, max: 1 },
      ],
    });
  });

  it("accepts an empty patch, which changes nothing", () => {
    expect(applied({ a: 1 }, [])).toStrictEqual({ ok: true, value: { a: 1 } });
  });
});

describe("applyJsonPatch: array indexes", () => {
  const doc = () => ({ list: ["a", "b"] });

  it('appends with "-"', () => {
    expect(applied(doc(), [{ op: "add", path: "/list/-", value: "c" }])).toStrictEqual({
      ok: true,
      value: { list: ["a", "b", "c"] },
    });
  });

  it("adds at index == length (the end)", () => {
    expect(applied(doc(), [{ op: "add", path: "/list/2", value: "c" }])).toStrictEqual({
      ok: true,
      value: { list: ["a", "b", "c"] },
    });
  });

  it("adds at index 0, before every element", () => {
    expect(applied(doc(), [{ op: "add", path: "/list/0", value: "z" }])).toStrictEqual({
      ok: true,
      value: { list: ["z", "a", "b"] },
    });
  });

  it("fails with patch-invalid-target when adding past the end", () => {
    expect(applied(doc(), [{ op: "add", path: "/list/3", value: "c" }])).toMatchObject({
      ok: false,
      code: "patch-invalid-target",
      pointer: "/list/3",
    });
  });

  it.each(["01", "-1", "1.0", "+1", " 1", "x"])(
    "fails with patch-invalid-target when adding at index %j",
    (t) => {
      expect(applied(doc(), [{ op: "add", path: `/list/${t}`, value: "c" }])).toMatchObject({
        ok: false,
        code: "patch-invalid-target",
      });
    },
  );

  it.each([
    ["remove", { op: "remove", path: "/list/01" }],
    ["replace", { op: "replace", path: "/list/01", value: "x" }],
    ["test", { op: "test", path: "/list/01", value: "b" }],
    ["remove", { op: "remove", path: "/list/-" }],
    ["remove", { op: "remove", path: "/list/2" }],
    ["replace", { op: "replace", path: "/list/2", value: "x" }],
  ])("fails with patch-path-not-found when %s names a missing or malformed index", (_, op) => {
    expect(applied(doc(), [op])).toMatchObject({ ok: false, code: "patch-path-not-found" });
  });

  it("replaces an array element in place", () => {
    expect(applied(doc(), [{ op: "replace", path: "/list/1", value: "B" }])).toStrictEqual({
      ok: true,
      value: { list: ["a", "B"] },
    });
  });

  it('treats "-" as an ordinary member name on objects', () => {
    expect(applied({}, [{ op: "add", path: "/-", value: 1 }])).toStrictEqual({ ok: true, value: { "-": 1 } });
  });
});

describe("applyJsonPatch: other operations", () => {
  it("copies a value deeply, so later changes to the copy leave the source alone", () => {
    expect(
      applied({ a: { x: [1] } }, [
        { op: "copy", from: "/a", path: "/b" },
        { op: "add", path: "/b/x/-", value: 2 },
        { op: "add", path: "/b/y", value: true },
      ]),
    ).toStrictEqual({ ok: true, value: { a: { x: [1] }, b: { x: [1, 2], y: true } } });
  });

  it("fails with patch-path-not-found when copying from a missing location", () => {
    expect(applied({}, [{ op: "copy", from: "/a", path: "/b" }])).toMatchObject({
      ok: false,
      code: "patch-path-not-found",
      pointer: "/a",
    });
  });

  it("replaces an existing member with add", () => {
    expect(applied({ a: 1 }, [{ op: "add", path: "/a", value: 2 }])).toStrictEqual({
      ok: true,
      value: { a: 2 },
    });
  });

  it("replaces the whole document with add or replace at the root", () => {
    expect(applied({ a: 1 }, [{ op: "add", path: "", value: [1] }])).toStrictEqual({ ok: true, value: [1] });
    expect(applied({ a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }])).toStrictEqual({
      ok: true,
      value: { b: 2 },
    });
  });

  it("fails with patch-invalid-target when removing the whole document", () => {
    expect(applied({ a: 1 }, [{ op: "remove", path: "" }])).toMatchObject({
      ok: false,
      code: "patch-invalid-target",
      pointer: "",
    });
  });

  it.each([
    ["remove", { op: "remove", path: "/missing" }],
    ["replace", { op: "replace", path: "/missing", value: 1 }],
    ["test", { op: "test", path: "/missing", value: null }],
    ["move", { op: "move", from: "/missing", path: "/b" }],
    ["add under a number", { op: "add", path: "/a/b", value: 1 }],
  ])("fails with patch-path-not-found for %s on a missing location", (_, op) => {
    expect(applied({ a: 1 }, [op])).toMatchObject({ ok: false, code: "patch-path-not-found" });
  });

  it("fails to remove or test an inherited member such as toString", () => {
    expect(applied({}, [{ op: "remove", path: "/toString" }])).toMatchObject({
      code: "patch-path-not-found",
    });
    expect(applied({}, [{ op: "test", path: "/constructor", value: {} }])).toMatchObject({
      code: "patch-path-not-found",
    });
  });

  it("compares objects regardless of member order, and arrays by order", () => {
    const doc = { o: { a: 1, b: [1, 2] } };
    expect(applied(doc, [{ op: "test", path: "/o", value: { b: [1, 2], a: 1 } }]).ok).toBe(true);
    expect(applied(doc, [{ op: "test", path: "/o", value: { b: [2, 1], a: 1 } }])).toMatchObject({
      code: "patch-test-failed",
    });
    expect(applied(doc, [{ op: "test", path: "/o", value: { a: 1 } }])).toMatchObject({
      code: "patch-test-failed",
    });
    expect(applied(doc, [{ op: "test", path: "/o/a", value: true }])).toMatchObject({
      code: "patch-test-failed",
    });
  });

  it("does not mistake an inherited __proto__ for an own member when comparing", () => {
    const doc = parse('{"__proto__":{}}');
    expect(applied(doc, [{ op: "test", path: "", value: { x: {} } }])).toMatchObject({
      code: "patch-test-failed",
    });
    expect(applied({ x: {} }, [{ op: "test", path: "", value: doc }])).toMatchObject({
      code: "patch-test-failed",
    });
    expect(applied(doc, [{ op: "test", path: "", value: parse('{"__proto__":{}}') }]).ok).toBe(true);
  });

  it("adds __proto__ as an own member without touching the prototype", () => {
    const result = applied({}, [{ op: "add", path: "/__proto__", value: { polluted: true } }]);
    if (!result.ok || !isJsonObject(result.value)) throw new Error("expected an object");
    expect(Object.hasOwn(result.value, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect("polluted" in {}).toBe(false);
    expect(applied(result.value, [{ op: "test", path: "/__proto__/polluted", value: true }]).ok).toBe(true);
    const removed = applied(result.value, [{ op: "remove", path: "/__proto__" }]);
    expect(removed.ok && isJsonObject(removed.value) && Object.hasOwn(removed.value, "__proto__")).toBe(
      false,
    );
  });

  it("does not share values with the patch: changing the result leaves the operation's value alone", () => {
    const ops = operations([{ op: "add", path: "/a", value: { n: 1 } }]);
    const first = applyJsonPatch({}, ops);
    if (!first.ok || !isJsonObject(first.value) || !isJsonObject(first.value.a))
      throw new Error("expected add");
    first.value.a.n = 2;
    expect(applyJsonPatch({}, ops)).toStrictEqual({ ok: true, value: { a: { n: 1 } } });
  });
});

describe("applyJsonPatch: move", () => {
  it("fails with patch-invalid-target when moving a value into its own child", () => {
    expect(applied({ a: { b: {} } }, [{ op: "move", from: "/a", path: "/a/b/c" }])).toMatchObject({
      ok: false,
      code: "patch-invalid-target",
      pointer: "/a/b/c",
    });
  });

  it("fails with patch-invalid-target when moving the root into a member", () => {
    expect(applied({ a: 1 }, [{ op: "move", from: "", path: "/a" }])).toMatchObject({
      ok: false,
      code: "patch-invalid-target",
    });
  });

  it("moves a value to a sibling whose name merely starts with the same text", () => {
    expect(applied({ a: 1 }, [{ op: "move", from: "/a", path: "/ab" }])).toStrictEqual({
      ok: true,
      value: { ab: 1 },
    });
  });

  it("leaves the document as it was when from and path are the same", () => {
    expect(applied({ a: [1, 2, 3] }, [{ op: "move", from: "/a/1", path: "/a/1" }])).toStrictEqual({
      ok: true,
      value: { a: [1, 2, 3] },
    });
  });

  it("moves an element to an earlier index", () => {
    expect(applied({ a: [1, 2, 3] }, [{ op: "move", from: "/a/2", path: "/a/0" }])).toStrictEqual({
      ok: true,
      value: { a: [3, 1, 2] },
    });
  });
});

describe("applyJsonPatch: member order", () => {
  it("keeps object member order on replace", () => {
    const result = applied({ a: 1, b: 2, c: 3 }, [{ op: "replace", path: "/b", value: 20 }]);
    if (!result.ok || !isJsonObject(result.value)) throw new Error("expected an object");
    expect(Object.keys(result.value)).toStrictEqual(["a", "b", "c"]);
    expect(result.value).toStrictEqual({ a: 1, b: 20, c: 3 });
  });

  it("keeps object member order on increment", () => {
    const result = applied({ a: 1, b: 2, c: 3 }, [{ op: "increment", path: "/a", value: 1 }]);
    if (!result.ok || !isJsonObject(result.value)) throw new Error("expected an object");
    expect(Object.keys(result.value)).toStrictEqual(["a", "b", "c"]);
  });
});

describe("applyJsonPatch: increment", () => {
  it("adds a positive or negative amount to the number at the path", () => {
    expect(applied({ stock: 5 }, [{ op: "increment", path: "/stock", value: -2 }])).toStrictEqual({
      ok: true,
      value: { stock: 3 },
    });
    expect(applied({ s: [1, 10] }, [{ op: "increment", path: "/s/1", value: 2.5 }])).toStrictEqual({
      ok: true,
      value: { s: [1, 12.5] },
    });
  });

  it("allows a result exactly on min or max", () => {
    expect(applied({ n: 5 }, [{ op: "increment", path: "/n", value: -5, min: 0 }])).toStrictEqual({
      ok: true,
      value: { n: 0 },
    });
    expect(applied({ n: 5 }, [{ op: "increment", path: "/n", value: 5, max: 10 }])).toStrictEqual({
      ok: true,
      value: { n: 10 },
    });
  });

  it("fails with patch-bound-exceeded below min, changing nothing", () => {
    expect(applied({ n: 5 }, [{ op: "increment", path: "/n", value: -6, min: 0 }])).toMatchObject({
      ok: false,
      code: "patch-bound-exceeded",
      pointer: "/n",
    });
  });

  it("fails with patch-bound-exceeded above max", () => {
    expect(applied({ n: 5 }, [{ op: "increment", path: "/n", value: 6, min: 0, max: 10 }])).toMatchObject({
      ok: false,
      code: "patch-bound-exceeded",
    });
  });

  it("fails with patch-bound-exceeded when the sum is not finite", () => {
    expect(
      applied({ n: Number.MAX_VALUE }, [{ op: "increment", path: "/n", value: Number.MAX_VALUE }]),
    ).toMatchObject({ ok: false, code: "patch-bound-exceeded" });
  });

  it.each<[string, JsonValue]>([
    ["a string", "5"],
    ["null", null],
    ["an object", {}],
    ["an array", [5]],
    ["a boolean", true],
  ])("fails with patch-not-a-number when the target is %s", (_, target) => {
    expect(applied({ n: target }, [{ op: "increment", path: "/n", value: 1 }])).toMatchObject({
      ok: false,
      code: "patch-not-a-number",
      pointer: "/n",
    });
  });

  it("fails with patch-path-not-found when the target is missing", () => {
    expect(applied({}, [{ op: "increment", path: "/n", value: 1 }])).toMatchObject({
      ok: false,
      code: "patch-path-not-found",
      pointer: "/n",
    });
  });

  it("applies several increments in order, checking bounds after each", () => {
    expect(
      applied({ n: 0 }, [
        { op: "increment", path: "/n", value: 3, max: 3 },
        { op: "increment", path: "/n", value: -1, min: 2 },
      ]),
    ).toStrictEqual({ ok: true, value: { n: 2 } });
    expect(
      applied({ n: 0 }, [
        { op: "increment", path: "/n", value: 3, max: 3 },
        { op: "increment", path: "/n", value: 1, max: 3 },
      ]),
    ).toMatchObject({ ok: false, code: "patch-bound-exceeded" });
  });
});

describe("applyJsonPatch: atomicity", () => {
  it("returns a failure and leaves the input unchanged when the second operation fails", () => {
    const document = parse('{"a":1,"list":[1,2],"o":{"x":true}}');
    const before = structuredClone(document);
    const result = applied(document, [
      { op: "add", path: "/b", value: 2 },
      { op: "test", path: "/a", value: 99 },
    ]);
    expect(result).toMatchObject({ ok: false, code: "patch-test-failed", pointer: "/a" });
    expect(result).not.toHaveProperty("value");
    expect(document).toStrictEqual(before);
  });

  it("undoes in-place array and object changes of earlier operations when a later one fails", () => {
    const document = parse('{"a":1,"list":[1,2],"o":{"x":true}}');
    const before = structuredClone(document);
    const result = applied(document, [
      { op: "remove", path: "/list/0" },
      { op: "replace", path: "/o/x", value: false },
      { op: "increment", path: "/a", value: 1 },
      { op: "move", from: "/o", path: "/p" },
      { op: "remove", path: "/nope" },
    ]);
    expect(result).toMatchObject({ ok: false, code: "patch-path-not-found", pointer: "/nope" });
    expect(document).toStrictEqual(before);
    expect(Object.keys(document as object)).toStrictEqual(["a", "list", "o"]);
  });
});

/** A document and one of its existing locations (root included). */
const docAndPath = jsonObject().chain((doc) =>
  fc.tuple(fc.constant(doc), fc.constantFrom(...tokenPathsIn(doc))),
);

/** A document with an object inside it (root included) and a member name that object does not have. */
const docObjectAndFreshKey = jsonObject().chain((doc) => {
  const objects = tokenPathsIn(doc).filter((tokens) => isJsonObject(valueAtTokens(doc, tokens)));
  return fc.constantFrom(...objects).chain((tokens) => {
    const target = valueAtTokens(doc, tokens);
    const taken = isJsonObject(target) ? Object.keys(target) : [];
    return fc.tuple(
      fc.constant(doc),
      fc.constant(tokens),
      fc.string().filter((key) => !taken.includes(key)),
      jsonValue(),
    );
  });
});

/** Any operation aimed at the document's real locations, or just beside them. */
function operationFor(doc: JsonValue): fc.Arbitrary<unknown> {
  const paths = tokenPathsIn(doc).map(pointerOf);
  const existing = fc.constantFrom(...paths);
  const anywhere = fc.oneof(
    existing,
    existing.map((p) => `${p}/-`),
    existing.map((p) => `${p}/new`),
  );
  return fc.oneof(
    fc.record({ op: fc.constant("add"), path: anywhere, value: jsonValue(2) }),
    fc.record({ op: fc.constant("remove"), path: existing }),
    fc.record({ op: fc.constant("replace"), path: existing, value: jsonValue(2) }),
    fc.record({ op: fc.constant("move"), from: existing, path: anywhere }),
    fc.record({ op: fc.constant("copy"), from: existing, path: anywhere }),
    fc.record({ op: fc.constant("test"), path: existing, value: jsonValue(2) }),
    fc.record({ op: fc.constant("increment"), path: existing, value: fc.integer({ min: -5, max: 5 }) }),
  );
}

describe("applyJsonPatch: laws", () => {
  it("passes a test of any existing location against its own value, changing nothing", () => {
    fc.assert(
      fc.property(docAndPath, ([doc, tokens]) => {
        const value = valueAtTokens(doc, tokens);
        if (value === undefined) throw new Error("generated path must exist");
        expect(applied(doc, [{ op: "test", path: pointerOf(tokens), value }])).toStrictEqual({
          ok: true,
          value: doc,
        });
      }),
    );
  });

  it("fails a test of any existing location against a different value", () => {
    fc.assert(
      fc.property(docAndPath, ([doc, tokens]) => {
        const value = valueAtTokens(doc, tokens);
        if (value === undefined) throw new Error("generated path must exist");
        const result = applied(doc, [{ op: "test", path: pointerOf(tokens), value: [value] }]);
        expect(result).toMatchObject({ ok: false, code: "patch-test-failed", pointer: pointerOf(tokens) });
      }),
    );
  });

  it("returns the original document after adding then removing a fresh member", () => {
    fc.assert(
      fc.property(docObjectAndFreshKey, ([doc, tokens, key, value]) => {
        const path = pointerOf([...tokens, key]);
        const added = applied(doc, [{ op: "add", path, value }]);
        if (!added.ok) throw new Error(`add failed: ${added.code}`);
        expect(valueAtTokens(added.value, [...tokens, key])).toStrictEqual(value);
        const both = applied(doc, [
          { op: "add", path, value },
          { op: "remove", path },
        ]);
        expect(both).toStrictEqual({ ok: true, value: doc });
        if (both.ok) expect(JSON.stringify(both.value)).toBe(JSON.stringify(doc));
      }),
    );
  });

  it("never mutates its input, whether the patch applies or not", () => {
    const docAndOps = jsonObject().chain((doc) =>
      fc.tuple(fc.constant(doc), fc.array(operationFor(doc), { minLength: 1, maxLength: 5 })),
    );
    fc.assert(
      fc.property(docAndOps, ([doc, body]) => {
        const parsed = parseJsonPatch(body);
        if (!parsed.ok) throw new Error(`generated patch must parse: ${parsed.detail}`);
        const before = structuredClone(doc);
        const text = JSON.stringify(doc);
        const result = applyJsonPatch(deepFreeze(doc), parsed.operations);
        expect(doc).toStrictEqual(before);
        expect(JSON.stringify(doc)).toBe(text);
        if (result.ok) expect(result.value).not.toBe(doc);
      }),
    );
  });
});
