/**
 * JSON Patch (RFC 6902), every operation, plus Tessera's `increment` extension:
 * `{ "op": "increment", "path": "/stock", "value": -2, "min": 0, "max": 100 }` adds `value` to the number at `path`
 * and fails, changing nothing, when the result would leave [min, max].
 */
import type { z } from "zod";
import { cloneJson, hasOwn, isObject, type JsonValue, jsonEqual, setOwn } from "../json";
import { JsonPatchDocument, MAX_PATCH_OPERATIONS } from "./json-patch-schema";
import { arrayIndex, formatPointer, type Pointer, parsePointer, resolve } from "./pointer";

export type PatchOperation =
  | { op: "add" | "replace" | "test"; path: Pointer; value: JsonValue }
  | { op: "remove"; path: Pointer }
  | { op: "move" | "copy"; from: Pointer; path: Pointer }
  | { op: "increment"; path: Pointer; value: number; min?: number; max?: number };

export type ParsedPatch = { ok: true; operations: PatchOperation[] } | { ok: false; detail: string };

export type PatchFailureCode =
  | "patch-test-failed"
  | "patch-path-not-found"
  | "patch-invalid-target"
  | "patch-not-a-number"
  | "patch-bound-exceeded"
  | "patch-result-too-large";

export type PatchResult =
  | { ok: true; value: JsonValue }
  | { ok: false; code: PatchFailureCode; detail: string; pointer: string };

export { MAX_PATCH_OPERATIONS };

/**
 * Checks the shape of a patch document against JsonPatchDocument (a 400 when wrong), and decodes its pointers;
 * whether it applies is decided later, against the document.
 */
export function parseJsonPatch(body: unknown): ParsedPatch {
  if (!Array.isArray(body))
    return { ok: false, detail: "a JSON Patch document must be an array of operations" };
  const checked = JsonPatchDocument.safeParse(body);
  if (!checked.success) return { ok: false, detail: describe(checked.error.issues[0], body) };
  return { ok: true, operations: checked.data.map(toOperation) };
}

/** A checked operation with its pointers decoded, keeping only the members its op uses. */
function toOperation(raw: z.output<typeof JsonPatchDocument>[number]): PatchOperation {
  const path = parsePointer(raw.path) ?? [];
  if (raw.op === "remove") return { op: raw.op, path };
  if ("from" in raw) return { op: raw.op, from: parsePointer(raw.from) ?? [], path };
  if (raw.op === "increment") {
    return {
      op: raw.op,
      path,
      value: raw.value,
      ...(raw.min === undefined ? {} : { min: raw.min }),
      ...(raw.max === undefined ? {} : { max: raw.max }),
    };
  }
  return { op: raw.op, path, value: raw.value as JsonValue };
}

/** A schema violation in words: which operation, which member, what is wrong. */
function describe(issue: z.core.$ZodIssue | undefined, body: unknown[]): string {
  if (issue === undefined) return "the patch document is not valid";
  const [index, member] = issue.path;
  if (typeof index !== "number") return `a patch may hold at most ${MAX_PATCH_OPERATIONS} operations`;
  const where = `operation ${index}`;
  const raw = body[index];
  if (!isObject(raw)) return `${where} is not an object`;
  const op = String(raw.op);
  if (member === "op" || (member === undefined && issue.code !== "custom")) {
    return `${where} has unknown op ${JSON.stringify(raw.op ?? null)}`;
  }
  // A rule across members (min and max).
  if (member === undefined) return `${where} (${op}): ${issue.message}`;
  const name = String(member);
  if (!hasOwn(raw, name)) return `${where} (${op}) needs "${name}"`;
  return `${where} (${op}): "${name}" ${issue.message}`;
}

class PatchFailure {
  constructor(
    readonly code: PatchFailureCode,
    readonly detail: string,
    readonly pointer: Pointer,
  ) {}
}

/** Applies every operation or none: works on a copy and returns the new document, or why it cannot apply. */
export function applyJsonPatch(
  document: JsonValue,
  operations: readonly PatchOperation[],
  maxCopiedChars = Number.POSITIVE_INFINITY,
): PatchResult {
  let root = cloneJson(document);
  // Only `copy` can grow a document beyond what the patch itself carries (each can double it): bound what it
  // copies so a few bytes of patch cannot exhaust memory before the final size check.
  let copied = 0;
  try {
    for (const operation of operations) {
      if (operation.op === "copy") {
        copied += JSON.stringify(valueAt(root, operation.from)).length;
        if (copied > maxCopiedChars) {
          throw new PatchFailure(
            "patch-result-too-large",
            "the patch copies more than the size limit",
            operation.path,
          );
        }
      }
      root = applyOne(root, operation);
    }
    return { ok: true, value: root };
  } catch (error) {
    if (error instanceof PatchFailure) {
      return { ok: false, code: error.code, detail: error.detail, pointer: formatPointer(error.pointer) };
    }
    throw error;
  }
}

function applyOne(root: JsonValue, operation: PatchOperation): JsonValue {
  switch (operation.op) {
    case "add":
      return add(root, operation.path, cloneJson(operation.value));
    case "remove":
      return remove(root, operation.path).root;
    case "replace":
      valueAt(root, operation.path);
      return replace(root, operation.path, cloneJson(operation.value));
    case "move": {
      if (isProperPrefix(operation.from, operation.path)) {
        throw new PatchFailure(
          "patch-invalid-target",
          "cannot move a value into one of its own children",
          operation.path,
        );
      }
      const removed = remove(root, operation.from);
      return add(removed.root, operation.path, removed.value);
    }
    case "copy":
      return add(root, operation.path, cloneJson(valueAt(root, operation.from)));
    case "test": {
      if (!jsonEqual(valueAt(root, operation.path), operation.value)) {
        throw new PatchFailure(
          "patch-test-failed",
          "the value at the path is not the tested value",
          operation.path,
        );
      }
      return root;
    }
    case "increment":
      return increment(root, operation);
  }
}

function valueAt(root: JsonValue, path: Pointer): JsonValue {
  const value = resolve(root, path);
  if (value === undefined) throw new PatchFailure("patch-path-not-found", "no value at the path", path);
  return value;
}

function parentOf(root: JsonValue, path: Pointer): { parent: JsonValue; token: string } {
  const token = path.at(-1) ?? "";
  const parent = resolve(root, path.slice(0, -1));
  if (parent === undefined || (!isObject(parent) && !Array.isArray(parent))) {
    throw new PatchFailure("patch-path-not-found", "the parent of the path does not exist", path);
  }
  return { parent, token };
}

function add(root: JsonValue, path: Pointer, value: JsonValue): JsonValue {
  if (path.length === 0) return value;
  const { parent, token } = parentOf(root, path);
  if (Array.isArray(parent)) {
    const index = token === "-" ? parent.length : arrayIndex(token);
    if (index === null || index > parent.length) {
      throw new PatchFailure("patch-invalid-target", `"${token}" is not a valid index for this array`, path);
    }
    parent.splice(index, 0, value);
  } else if (isObject(parent)) {
    setOwn(parent, token, value);
  }
  return root;
}

function remove(root: JsonValue, path: Pointer): { root: JsonValue; value: JsonValue } {
  const value = valueAt(root, path);
  if (path.length === 0)
    throw new PatchFailure("patch-invalid-target", "cannot remove the whole document", path);
  const { parent, token } = parentOf(root, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(token) ?? parent.length, 1);
  else if (isObject(parent)) delete parent[token];
  return { root, value };
}

function increment(root: JsonValue, operation: Extract<PatchOperation, { op: "increment" }>): JsonValue {
  const current = valueAt(root, operation.path);
  if (typeof current !== "number") {
    throw new PatchFailure("patch-not-a-number", "increment needs a number at the path", operation.path);
  }
  const next = current + operation.value;
  if (!Number.isFinite(next))
    throw new PatchFailure("patch-bound-exceeded", "the result is not finite", operation.path);
  if (operation.min !== undefined && next < operation.min) {
    throw new PatchFailure(
      "patch-bound-exceeded",
      `the result ${next} would be below min ${operation.min}`,
      operation.path,
    );
  }
  if (operation.max !== undefined && next > operation.max) {
    throw new PatchFailure(
      "patch-bound-exceeded",
      `the result ${next} would be above max ${operation.max}`,
      operation.path,
    );
  }
  return replace(root, operation.path, next);
}

/** Replaces an existing value where it stands, so object members keep their order. */
function replace(root: JsonValue, path: Pointer, value: JsonValue): JsonValue {
  if (path.length === 0) return value;
  const { parent, token } = parentOf(root, path);
  if (Array.isArray(parent)) parent[arrayIndex(token) ?? parent.length] = value;
  else if (isObject(parent)) setOwn(parent, token, value);
  return root;
}

function isProperPrefix(prefix: Pointer, path: Pointer): boolean {
  return prefix.length < path.length && prefix.every((token, i) => token === path[i]);
}
