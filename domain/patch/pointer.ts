/** JSON Pointer (RFC 6901): parsing with its escapes, and resolution against a document. */
import { hasOwn, isObject, type JsonValue } from "../json";

export type Pointer = readonly string[];

/** Parses a pointer; returns null when the text is not a valid pointer (bad escape, missing leading '/'). */
export function parsePointer(text: string): Pointer | null {
  if (text === "") return [];
  if (!text.startsWith("/")) return null;
  const tokens = text.slice(1).split("/");
  for (const token of tokens) if (/~(?![01])/.test(token)) return null;
  return tokens.map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

export function formatPointer(pointer: Pointer): string {
  return pointer.map((t) => `/${t.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** An array index token as RFC 6901 allows it (no leading zeros, no sign), or null. */
export function arrayIndex(token: string): number | null {
  return ARRAY_INDEX.test(token) ? Number(token) : null;
}

/** The value at `pointer`, or undefined when any step of it does not exist. */
export function resolve(root: JsonValue, pointer: Pointer): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const token of pointer) {
    if (Array.isArray(node)) {
      const index = arrayIndex(token);
      node = index === null ? undefined : node[index];
    } else if (isObject(node)) {
      node = hasOwn(node, token) ? node[token] : undefined;
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}
