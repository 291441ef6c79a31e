/** JSON Merge Patch (RFC 7396), without mutating its inputs. */
import { hasOwn, isObject, type JsonObject, type JsonValue, setOwn } from "../json";

export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const result: JsonObject = {};
  if (isObject(target)) for (const [k, v] of Object.entries(target)) setOwn(result, k, v);
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[name];
    } else {
      const current = hasOwn(result, name) ? result[name] : undefined;
      setOwn(result, name, applyMergePatch(current ?? null, value));
    }
  }
  return result;
}
