/**
 * The consistency token: what a client carries so that it never reads an older version of a document it wrote.
 *
 * It holds the versions of the client's most recent writes (up to MAX_ENTRIES documents, by a hash of their key),
 * a 256-bit summary of the documents whose entries were evicted, and the latest D1 bookmark the client has seen.
 * Its size is bounded whatever the client writes. It can only err toward the primary: a document whose entry
 * was evicted (or whose bit collides) is read from its object, which is always fresh enough.
 */
import { decodeBase64Url, encodeBase64Url } from "./base64url";
import { hash53 } from "./hash";
import type { DocumentKey } from "./keys";
import { objectName } from "./keys";

export const MAX_ENTRIES = 32;
const SUMMARY_BITS = 256;
const PREFIX = "t2~";

export interface ConsistencyToken {
  /** [key hash, version], most recent first. */
  readonly entries: ReadonlyArray<readonly [string, number]>;
  /** Bit i is set when some evicted document's hash falls on i. */
  readonly evicted: Uint8Array;
  /** The newest D1 session bookmark this client has seen (monotonic reads on the read model). */
  readonly bookmark?: string;
}

export function emptyToken(): ConsistencyToken {
  return { entries: [], evicted: new Uint8Array(SUMMARY_BITS / 8) };
}

/** A document's entry in the token: a hash of its key; collisions only make reads go to the primary. */
export function keyHash(key: DocumentKey): string {
  return hash53(objectName(key)).toString(36);
}

function bitOf(hash: string): number {
  return Number.parseInt(hash.slice(-4), 36) % SUMMARY_BITS;
}

function hasBit(bits: Uint8Array, bit: number): boolean {
  return ((bits[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/**
 * The token after a write of `key` at `version`. Colliding entries keep the higher version (the safe direction).
 * A fresh commit is always its document's newest version, so recording it is safe. A `replayed` write (an
 * Idempotency-Key replay) reports an older one, so it may only raise a requirement: if the document's entry was
 * evicted, its bit already sends reads to the primary, and an entry at the old version would lower that.
 */
export function recordWrite(
  token: ConsistencyToken,
  key: DocumentKey,
  version: number,
  replayed = false,
): ConsistencyToken {
  const hash = keyHash(key);
  const current = token.entries.find(([h]) => h === hash);
  if (replayed && current === undefined && hasBit(token.evicted, bitOf(hash))) return token;
  const previous = current?.[1] ?? 0;
  const entries = [
    [hash, Math.max(previous, version)] as const,
    ...token.entries.filter(([h]) => h !== hash),
  ];
  const evicted = Uint8Array.from(token.evicted);
  for (const [h] of entries.splice(MAX_ENTRIES)) {
    const bit = bitOf(h);
    evicted[bit >> 3] = (evicted[bit >> 3] ?? 0) | (1 << (bit & 7));
  }
  return { ...token, entries, evicted };
}

/**
 * The token after a read answered with `key` at `version`: a later read presenting it never returns an older
 * version of that document (monotonic reads), even from a read model that is behind the object that answered.
 */
export function recordRead(token: ConsistencyToken, key: DocumentKey, version: number): ConsistencyToken {
  return recordWrite(token, key, version, true);
}

export function withBookmark(token: ConsistencyToken, bookmark: string | null | undefined): ConsistencyToken {
  if (bookmark === null || bookmark === undefined) return token;
  // D1 bookmarks sort in commit order; keep the newer one.
  if (token.bookmark !== undefined && token.bookmark >= bookmark) return token;
  return { ...token, bookmark };
}

/**
 * What the token demands of a read of `key`: the lowest version the answer may have, "primary" when only the
 * document's object can know (evicted), or 0 when the token says nothing about it.
 */
export function requirement(token: ConsistencyToken, key: DocumentKey): number | "primary" {
  const hash = keyHash(key);
  const entry = token.entries.find(([h]) => h === hash);
  if (entry !== undefined) return entry[1];
  return hasBit(token.evicted, bitOf(hash)) ? "primary" : 0;
}

const SUMMARY_BYTES = SUMMARY_BITS / 8;
const HASH = /^[0-9a-z]{1,12}$/;
const VERSION = /^(0|[1-9][0-9]{0,15})$/;
// D1 bookmarks are short tokens of this alphabet; anything else never reaches D1.
const BOOKMARK = /^[A-Za-z0-9._:-]{1,256}$/;
const MAX_TOKEN_LENGTH = 4096;

/**
 * `t2~<evicted>~<bookmark>~<hash>.<version>~…`: plain ASCII, safe in a header, built and parsed without JSON or
 * base64 of the whole (a write pays for this on every response). `<evicted>` is the summary in base64url, empty
 * when no bit is set; `<bookmark>` is empty when there is none.
 */
export function encodeToken(token: ConsistencyToken): string {
  const evicted = token.evicted.some((b) => b !== 0) ? encodeBase64Url(token.evicted) : "";
  let text = `${PREFIX}${evicted}~${token.bookmark ?? ""}`;
  for (const [hash, version] of token.entries) text += `~${hash}.${version}`;
  return text;
}

/** Parses a token; null when it is not one this service issued (malformed, wrong version, out of bounds). */
export function decodeToken(text: string): ConsistencyToken | null {
  if (!text.startsWith(PREFIX) || text.length > MAX_TOKEN_LENGTH) return null;
  const parts = text.slice(PREFIX.length).split("~");
  if (parts.length < 2) return null;
  const [x = "", b = "", ...items] = parts;
  if (items.length > MAX_ENTRIES) return null;
  let evicted: Uint8Array = new Uint8Array(SUMMARY_BYTES);
  if (x !== "") {
    if (!/^[A-Za-z0-9_-]{43}$/.test(x)) return null;
    evicted = decodeBase64Url(x);
    if (evicted.length !== SUMMARY_BYTES) return null;
  }
  if (b !== "" && !BOOKMARK.test(b)) return null;
  const entries: Array<readonly [string, number]> = [];
  for (const item of items) {
    const dot = item.indexOf(".");
    const hash = item.slice(0, dot);
    const version = item.slice(dot + 1);
    if (dot < 0 || !HASH.test(hash) || !VERSION.test(version)) return null;
    const n = Number(version);
    if (!Number.isSafeInteger(n)) return null;
    entries.push([hash, n]);
  }
  return { entries, evicted, ...(b === "" ? {} : { bookmark: b }) };
}
