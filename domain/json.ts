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

/**
 * The UTF-8 length of `text` when it could exceed `limit`; otherwise its UTF-16 length, which is then no larger
 * than the limit either (a UTF-16 unit is at most 3 UTF-8 bytes). Spares encoding every document to count it.
 */
export function utf8Length(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : byteLength(text);
}

/**
 * A parsed value's nesting depth (exact up to `maxDepth`, then any larger number) and whether every number in it
 * is finite: JSON.parse reads 1e400 as Infinity, which would be stored as null while memory kept Infinity.
 * One iterative walk, so hostile input cannot exhaust the stack.
 */
export function measureJson(value: unknown, maxDepth: number): { depth: number; finite: boolean } {
  let depth = 0;
  let finite = true;
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const level = depths.pop() ?? 1;
    if (typeof node === "number") {
      if (!Number.isFinite(node)) finite = false;
      continue;
    }
    if (typeof node !== "object" || node === null) continue;
    if (level > depth) depth = level;
    if (depth > maxDepth) return { depth, finite };
    // One push per child: spreading a 500,000-element array into push() would overflow the stack.
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      nodes.push(child);
      depths.push(level + 1);
    }
  }
  return { depth, finite };
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
