/** Document addressing: tenant / collection / id, and the rules each part must follow. */
import { utf8Length } from "./json";

export interface DocumentKey {
  readonly tenant: string;
  readonly collection: string;
  readonly id: string;
}

export const DEFAULT_TENANT = "default";
export const MAX_ID_BYTES = 512;

/** Collections and tenants: a lower-case letter, then up to 62 of a-z, 0-9, _ and -. */
export const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
// C0 controls, DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export type KeyCheck = { ok: true } | { ok: false; reason: string };

/** Collections and tenants share one rule; names starting with `_` are reserved for system endpoints. */
export function checkName(kind: "collection" | "tenant", value: string): KeyCheck {
  if (NAME.test(value)) return { ok: true };
  return {
    ok: false,
    reason: `${kind} must match ${NAME.source} (lower-case letter first, then up to 62 of a-z, 0-9, _ and -)`,
  };
}

export function checkId(id: string): KeyCheck {
  if (id.length === 0) return { ok: false, reason: "id must not be empty" };
  if (id === "." || id === "..") return { ok: false, reason: "id must not be '.' or '..'" };
  if (id.includes("/")) return { ok: false, reason: "id must not contain '/'" };
  if (CONTROL.test(id)) return { ok: false, reason: "id must not contain control characters" };
  if (!id.isWellFormed()) return { ok: false, reason: "id must be well-formed Unicode" };
  const bytes = utf8Length(id, MAX_ID_BYTES);
  if (bytes > MAX_ID_BYTES)
    return { ok: false, reason: `id is ${bytes} UTF-8 bytes; the limit is ${MAX_ID_BYTES}` };
  return { ok: true };
}

/** The name of the Durable Object that owns a document. Unambiguous because no part may contain '/'. */
export function objectName(key: DocumentKey): string {
  return `${key.tenant}/${key.collection}/${key.id}`;
}

export function sameKey(a: DocumentKey, b: DocumentKey): boolean {
  return a.tenant === b.tenant && a.collection === b.collection && a.id === b.id;
}
