/**
 * The consistency token: what a client carries so that it never reads an older version of a document it wrote.
 *
 * It holds the versions of the client's most recent writes (up to MAX_ENTRIES documents, by a hash of their key),
 * a 256-bit summary of the documents whose entries were evicted, and the latest D1 bookmark the client has seen.
 * Its size is bounded whatever the client writes. It can only err toward the primary: a document whose entry
 * was evicted (or whose bit collides) is read from its object, which is always fresh enough.
 */
import { decodeBase64Url, encodeBase64Url } from "./base64url";
import type { DocumentKey } from "./keys";
import { objectName } from "./keys";

export const MAX_ENTRIES = 32;
const SUMMARY_BITS = 256;
const PREFIX = "t1.";

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

/** cyrb53: a fast, well-distributed 53-bit string hash; collisions only make reads go to the primary. */
export function keyHash(key: DocumentKey): string {
  const text = objectName(key);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
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

export function encodeToken(token: ConsistencyToken): string {
  const body = JSON.stringify({ e: token.entries, x: encodeBase64Url(token.evicted), b: token.bookmark });
  return PREFIX + encodeBase64Url(new TextEncoder().encode(body));
}

const MAX_TOKEN_LENGTH = 4096;

/** Parses a token; null when it is not one this service issued (malformed, wrong version, out of bounds). */
export function decodeToken(text: string): ConsistencyToken | null {
  if (!text.startsWith(PREFIX) || text.length > MAX_TOKEN_LENGTH) return null;
  try {
    const raw: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(text.slice(PREFIX.length))));
    if (typeof raw !== "object" || raw === null) return null;
    const { e, x, b } = raw as { e?: unknown; x?: unknown; b?: unknown };
    if (!Array.isArray(e) || e.length > MAX_ENTRIES || typeof x !== "string") return null;
    const entries: Array<readonly [string, number]> = [];
    for (const item of e) {
      if (!Array.isArray(item) || typeof item[0] !== "string" || !Number.isSafeInteger(item[1])) return null;
      entries.push([item[0], item[1] as number]);
    }
    const evicted = decodeBase64Url(x);
    if (evicted.length !== SUMMARY_BITS / 8) return null;
    // D1 bookmarks are short tokens of this alphabet; anything else never reaches D1.
    if (b !== undefined && (typeof b !== "string" || !/^[A-Za-z0-9._:-]{1,256}$/.test(b))) return null;
    return { entries, evicted, ...(b === undefined ? {} : { bookmark: b }) };
  } catch {
    return null;
  }
}
