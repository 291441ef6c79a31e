/** Shared fast-check arbitraries and small helpers for the domain tests (not a test file itself). */
import fc from "fast-check";
import type { JsonObject, JsonValue } from "../../domain/json";

/**
 * Any JSON value as JSON.parse could produce it: keys include "__proto__" and other prototype names,
 * numbers include -0. fast-check's own JsonValue type marks members optional, hence the narrowing map.
 */
export function jsonValue(maxDepth = 3): fc.Arbitrary<JsonValue> {
  return fc.jsonValue({ maxDepth }).map((value) => value as JsonValue);
}

/** A JSON object (what Tessera stores as a document). */
export function jsonObject(maxDepth = 3): fc.Arbitrary<JsonObject> {
  return fc.dictionary(fc.string(), jsonValue(maxDepth - 1), { noNullPrototype: true, maxKeys: 6 });
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 6901 encoding written independently of the code under test: "~" first, then "/". */
export function pointerOf(tokens: readonly string[]): string {
  return tokens.map((token) => `/${token.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** Every location in a value, root first, as token lists. */
export function tokenPathsIn(value: JsonValue, prefix: readonly string[] = []): string[][] {
  const out: string[][] = [[...prefix]];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push(...tokenPathsIn(item, [...prefix, String(i)]));
    });
  } else if (isJsonObject(value)) {
    for (const [key, item] of Object.entries(value)) out.push(...tokenPathsIn(item, [...prefix, key]));
  }
  return out;
}

/** The value at a token path, walking own members only; undefined when absent. */
export function valueAtTokens(value: JsonValue, tokens: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = value;
  for (const token of tokens) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isJsonObject(node)) node = Object.hasOwn(node, token) ? node[token] : undefined;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Freezes a value all the way down, so any write to it throws (modules are strict). */
export function deepFreeze<T extends JsonValue>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
