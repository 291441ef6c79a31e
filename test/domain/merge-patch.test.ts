import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../domain/json";
import { applyMergePatch } from "../../domain/patch/merge-patch";
import { deepFreeze, isJsonObject, jsonObject, jsonValue } from "./json-arbitraries";

const parse = (text: string) => JSON.parse(text) as JsonValue;

describe("applyMergePatch: RFC 7396 Appendix A", () => {
  // ORIGINAL, PATCH, RESULT exactly as the RFC's table writes them.
  const table: Array<[string, string, string]> = [
    ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
    ['{"a":"b"}', '{"a":null}', "{}"],
    ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
    ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
    ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
    ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
    ['["a","b"]', '["c","d"]', '["c","d"]'],
    ['{"a":"b"}', '["c"]', '["c"]'],
    ['{"a":"foo"}', "null", "null"],
    ['{"a":"foo"}', '"bar"', '"bar"'],
    ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
    ["[1,2]", '{"a":"b","c":null}', '{"a":"b"}'],
    ["{}", '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
  ];

  it.each(table)("merges %s with %s into %s", (original, patch, result) => {
    expect(applyMergePatch(parse(original), parse(patch))).toStrictEqual(parse(result));
  });

  it("keeps a null member of the target that the patch does not mention", () => {
    const result = applyMergePatch({ e: null }, { a: 1 });
    expect(isJsonObject(result) && Object.hasOwn(result, "e")).toBe(true);
    expect(result).toStrictEqual({ e: null, a: 1 });
  });
});

describe("applyMergePatch: RFC 7396 section 3 example", () => {
  it("changes the title, removes the family name, replaces tags and adds a phone number", () => {
    const original = parse(`{
      "title": "Goodbye!",
      "author" : { "givenName" : "John", "familyName" : "Doe" },
      "tags":[ "example", "sample" ],
      "content": "This will be unchanged"
    }`);
    const patch = parse(`{
      "title": "Hello!",
      "phoneNumber": "+01-123-456-7890",
      "author": { "familyName": null },
      "tags": [ "example" ]
    }`);
    expect(applyMergePatch(original, patch)).toStrictEqual(
      parse(`{
        "title": "Hello!",
        "author" : { "givenName" : "John" },
        "tags": [ "example" ],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890"
      }`),
    );
  });
});

describe("applyMergePatch: inputs", () => {
  it("does not mutate the target or the patch", () => {
    const target = parse('{"a":{"b":1,"c":[1,2]},"d":"x","gone":true}');
    const patch = parse('{"a":{"b":null,"e":{"f":1}},"gone":null,"d":["y"]}');
    const targetBefore = structuredClone(target);
    const patchBefore = structuredClone(patch);
    // Frozen: any write to either input throws instead of passing silently.
    const result = applyMergePatch(deepFreeze(target), deepFreeze(patch));
    expect(result).toStrictEqual(parse('{"a":{"c":[1,2],"e":{"f":1}},"d":["y"]}'));
    expect(target).toStrictEqual(targetBefore);
    expect(patch).toStrictEqual(patchBefore);
  });

  it("never mutates its inputs, for any target and patch", () => {
    fc.assert(
      fc.property(jsonValue(), jsonObject(), (target, patch) => {
        const targetText = JSON.stringify(target);
        const patchText = JSON.stringify(patch);
        applyMergePatch(deepFreeze(target), deepFreeze(patch));
        expect(JSON.stringify(target)).toBe(targetText);
        expect(JSON.stringify(patch)).toBe(patchText);
      }),
    );
  });
});

describe("applyMergePatch: __proto__", () => {
  it("adds a __proto__ member as an own property without changing any prototype", () => {
    const patch = parse('{"__proto__":{"polluted":true}}');
    const result = applyMergePatch({ a: 1 }, patch);
    if (!isJsonObject(result)) throw new Error("expected an object");
    expect(Object.hasOwn(result, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(result, "__proto__")?.value).toStrictEqual({ polluted: true });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toStrictEqual(["a", "__proto__"]);
    expect("polluted" in result).toBe(false);
    expect("polluted" in {}).toBe(false);
    expect(JSON.parse(JSON.stringify(result))).toStrictEqual(parse('{"a":1,"__proto__":{"polluted":true}}'));
  });

  it("merges into an existing own __proto__ member and can remove it with null", () => {
    const target = parse('{"__proto__":{"a":1},"keep":true}');
    const merged = applyMergePatch(target, parse('{"__proto__":{"b":2}}'));
    if (!isJsonObject(merged)) throw new Error("expected an object");
    expect(Object.getOwnPropertyDescriptor(merged, "__proto__")?.value).toStrictEqual({ a: 1, b: 2 });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);

    const removed = applyMergePatch(target, parse('{"__proto__":null}'));
    if (!isJsonObject(removed)) throw new Error("expected an object");
    expect(Object.hasOwn(removed, "__proto__")).toBe(false);
    expect(Object.getPrototypeOf(removed)).toBe(Object.prototype);
    expect(removed).toStrictEqual({ keep: true });
  });

  it("treats members named after Object.prototype methods as ordinary members", () => {
    const result = applyMergePatch({}, parse('{"constructor":{"x":1},"toString":null,"hasOwnProperty":2}'));
    expect(JSON.stringify(result)).toBe('{"constructor":{"x":1},"hasOwnProperty":2}');
  });
});

describe("applyMergePatch: laws", () => {
  it("is idempotent: applying a patch twice equals applying it once", () => {
    fc.assert(
      fc.property(jsonValue(), jsonObject(), (target, patch) => {
        const once = applyMergePatch(target, patch);
        expect(applyMergePatch(once, patch)).toStrictEqual(once);
      }),
    );
  });

  it("removes every member the patch sets to null and sets every non-object member it names", () => {
    fc.assert(
      fc.property(jsonValue(), jsonObject(), (target, patch) => {
        const result = applyMergePatch(target, patch);
        if (!isJsonObject(result)) throw new Error("an object patch must give an object");
        for (const [name, value] of Object.entries(patch)) {
          if (value === null) expect(Object.hasOwn(result, name)).toBe(false);
          else if (!isJsonObject(value)) {
            expect(Object.getOwnPropertyDescriptor(result, name)?.value).toStrictEqual(value);
          }
        }
      }),
    );
  });

  it("keeps every target member that the patch does not name", () => {
    fc.assert(
      fc.property(jsonObject(), jsonObject(), (target, patch) => {
        const result = applyMergePatch(target, patch);
        if (!isJsonObject(result)) throw new Error("an object patch must give an object");
        for (const [name, value] of Object.entries(target)) {
          if (Object.hasOwn(patch, name)) continue;
          expect(Object.getOwnPropertyDescriptor(result, name)?.value).toStrictEqual(value);
        }
      }),
    );
  });
});
