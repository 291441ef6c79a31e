/** JSON values as documents hold them, and the few operations every layer needs on them. */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Deepest nesting a document may have; bounds every recursive walk (merge, compare, canonical form). */
export const MAX_DEPTH = 64;

const encoder = new TextEncoder();

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/** Nesting depth of a parsed JSON value, computed without recursion so hostile input cannot exhaust the stack. */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    const [node, depth] = top;
    if (typeof node !== "object" || node === null) continue;
    if (depth > max) max = depth;
    if (max > MAX_DEPTH) return max;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * Whether a parsed value holds a number JSON cannot carry: JSON.parse reads 1e400 as Infinity, which would be
 * stored as null while the object kept Infinity in memory. Iterative, like depthOf.
 */
export function hasNonFiniteNumber(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === "number" && !Number.isFinite(node)) return true;
    if (typeof node !== "object" || node === null) continue;
    // One push per child: spreading a 500,000-element array into push() would overflow the stack.
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push(child);
  }
  return false;
}

/** Sets an own property, even one named `__proto__`, without touching the prototype chain. */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

export function hasOwn(target: JsonObject, key: string): boolean {
  return Object.hasOwn(target, key);
}

/** Structural equality as RFC 6902's `test` defines it: object member order does not matter, array order does. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i] as JsonValue));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => hasOwn(b, k) && jsonEqual(a[k] as JsonValue, b[k] as JsonValue));
}

/** JSON with object keys sorted: two requests with the same meaning have the same canonical text. */
export function canonicalJson(value: JsonValue): string {
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(",")}}`;
}

export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}
