/** Turning the parts of a request that name and condition a write into domain values, or a 400. */
import { checkId, checkName, type DocumentKey } from "../../domain/keys";
import { type Preconditions, parseTagCondition } from "../../domain/preconditions";
import { badRequest } from "./problem";

/**
 * Path segments as sent (still percent-encoded), so that an encoded '/' cannot pass as a separator. Cut from the
 * request's absolute URL as the runtime normalised it, without building a URL object on the hot path.
 */
function rawSegments(url: string): string[] {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return [""];
  let end = url.length;
  for (const mark of ["?", "#"]) {
    const at = url.indexOf(mark, start);
    if (at >= 0 && at < end) end = at;
  }
  return url.slice(start, end).split("/");
}

function checkedCollection(collection: string): string {
  const check = checkName("collection", collection);
  if (!check.ok) throw badRequest("invalid-collection", check.reason, { collection });
  return collection;
}

export function collectionFrom(url: string): string {
  return checkedCollection(rawSegments(url)[2] ?? "");
}

/** The document a `/v1/{collection}/{id}[/...]` request addresses, in `tenant` (the credential's). */
export function documentKeyFrom(url: string, tenant: string): DocumentKey {
  const segments = rawSegments(url);
  const collection = checkedCollection(segments[2] ?? "");
  return { tenant, collection, id: decodeId(segments[3] ?? "") };
}

/** Whether the URL has a query string at all: most reads have none, and need no query parsing. */
export function hasQuery(url: string): boolean {
  return url.includes("?");
}

export function decodeId(raw: string): string {
  let id: string;
  try {
    id = raw.includes("%") ? decodeURIComponent(raw) : raw;
  } catch {
    throw badRequest("invalid-id", "the id is not valid percent-encoded UTF-8");
  }
  const check = checkId(id);
  if (!check.ok) throw badRequest("invalid-id", check.reason);
  return id;
}

export function preconditionsFrom(headers: Headers): Preconditions {
  const result: { ifMatch?: Preconditions["ifMatch"]; ifNoneMatch?: Preconditions["ifNoneMatch"] } = {};
  for (const [name, field] of [
    ["if-match", "ifMatch"],
    ["if-none-match", "ifNoneMatch"],
  ] as const) {
    const raw = headers.get(name);
    if (raw === null) continue;
    const parsed = parseTagCondition(raw);
    if (parsed === null)
      throw badRequest("invalid-precondition", `${name} must be * or a list of entity tags`);
    result[field] = parsed;
  }
  return result;
}

const KEY_CHARS = /^[\x20-\x7e]{1,255}$/;

/**
 * The Idempotency-Key header: an RFC 8941 string (`"abc"`) as the IETF draft specifies, or the bare value,
 * 1 to 255 printable ASCII characters. Undefined when absent.
 */
export function idempotencyKeyFrom(headers: Headers): string | undefined {
  const raw = headers.get("idempotency-key");
  if (raw === null) return undefined;
  const trimmed = raw.trim();
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(trimmed);
  const key = quoted?.[1]?.replace(/\\(["\\])/g, "$1") ?? trimmed;
  if (!KEY_CHARS.test(key)) {
    throw badRequest(
      "invalid-idempotency-key",
      "Idempotency-Key must be 1 to 255 printable ASCII characters",
    );
  }
  return key;
}
