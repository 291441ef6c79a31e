import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConsistencyToken,
  decodeToken,
  emptyToken,
  encodeToken,
  keyHash,
  MAX_ENTRIES,
  recordWrite,
  requirement,
  withBookmark,
} from "../../domain/consistency-token";
import type { DocumentKey } from "../../domain/keys";

const doc = (id: string): DocumentKey => ({ tenant: "default", collection: "todos", id });

/**
 * Applies writes in order to a fresh token, as the write route does: a version that is not above one already
 * written for that document can only be an Idempotency-Key replay (objects issue growing versions), so it is
 * recorded as one.
 */
function written(writes: ReadonlyArray<readonly [string, number]>): ConsistencyToken {
  const highest = new Map<string, number>();
  return writes.reduce((token, [id, version]) => {
    const replayed = version <= (highest.get(id) ?? 0);
    highest.set(id, Math.max(version, highest.get(id) ?? 0));
    return recordWrite(token, doc(id), version, replayed);
  }, emptyToken());
}

/** `count` distinct documents `${prefix}0`, `${prefix}1`, … each written once at version 1. */
function distinctWrites(count: number, prefix = "doc-"): Array<readonly [string, number]> {
  return Array.from({ length: count }, (_, i) => [`${prefix}${i}`, 1] as const);
}

/** The summary bit of a key, computed independently of the module: base 36 of the hash's last 4 digits, mod 256. */
function summaryBit(key: DocumentKey): number {
  return Number.parseInt(keyHash(key).slice(-4), 36) % 256;
}

function bitIsSet(token: ConsistencyToken, bit: number): boolean {
  return ((token.evicted[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/** base64url without padding, written independently of the module. */
function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A token string assembled by hand, as a client could forge one: summary, bookmark, then hash.version items. */
function forge(summary: string, bookmark: string, ...items: string[]): string {
  return ["t2", summary, bookmark, ...items].join("~");
}

const BOOKMARK_A = "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683";
const BOOKMARK_B = "00000085-0000024d-00004c6d-0000000000000000000000000000000a";

describe("recordWrite and requirement", () => {
  it("demands the version of a recorded write for that document", () => {
    const token = recordWrite(emptyToken(), doc("rw-1"), 7);
    expect(requirement(token, doc("rw-1"))).toBe(7);
  });

  it("demands nothing of a document the token has never seen", () => {
    expect(requirement(emptyToken(), doc("never"))).toBe(0);
  });

  it("demands the newer version after a second write to the same document", () => {
    const token = written([
      ["rw-2", 3],
      ["rw-2", 9],
    ]);
    expect(requirement(token, doc("rw-2"))).toBe(9);
    expect(token.entries).toHaveLength(1);
  });

  it("keeps the higher version when a lower one is recorded later for the same document", () => {
    const token = written([
      ["mono", 12],
      ["mono", 4],
    ]);
    expect(requirement(token, doc("mono"))).toBe(12);
    expect(token.entries).toHaveLength(1);
  });

  it("tells documents apart by tenant and collection as well as id", () => {
    const token = recordWrite(emptyToken(), doc("same-id"), 5);
    expect(requirement(token, { tenant: "other", collection: "todos", id: "same-id" })).toBe(0);
    expect(requirement(token, { tenant: "default", collection: "notes", id: "same-id" })).toBe(0);
  });

  it("lists the most recent write first", () => {
    const token = written([
      ["first", 1],
      ["second", 2],
      ["first", 3],
    ]);
    expect(token.entries.map(([hash]) => hash)).toStrictEqual([
      keyHash(doc("first")),
      keyHash(doc("second")),
    ]);
  });

  it("does not change the token it is given", () => {
    const before = written(distinctWrites(MAX_ENTRIES));
    const snapshot = encodeToken(before);
    recordWrite(before, doc("extra"), 1);
    expect(encodeToken(before)).toBe(snapshot);
  });
});

describe("the token's bound", () => {
  it(`keeps ${MAX_ENTRIES} entries after writes to more documents than that`, () => {
    for (const extra of [1, 5, 100]) {
      expect(written(distinctWrites(MAX_ENTRIES + extra)).entries).toHaveLength(MAX_ENTRIES);
    }
  });

  it("stays under 2,000 characters encoded after 10,000 writes to distinct documents", () => {
    let token = emptyToken();
    for (let i = 0; i < 10_000; i++)
      token = recordWrite(token, doc(`bulk-${i}`), Number.MAX_SAFE_INTEGER - i);
    const text = encodeToken(token);
    expect(token.entries).toHaveLength(MAX_ENTRIES);
    expect(text.length).toBeLessThan(2000);
    expect(decodeToken(text)).toStrictEqual(token);
  });

  it("sends reads of an evicted document to the primary", () => {
    const token = written(distinctWrites(MAX_ENTRIES + 1, "evict-"));
    expect(token.entries.map(([hash]) => hash)).not.toContain(keyHash(doc("evict-0")));
    expect(requirement(token, doc("evict-0"))).toBe("primary");
  });

  it("evicts the least recently written document, not one written again since", () => {
    const token = written([...distinctWrites(MAX_ENTRIES, "lru-"), ["lru-0", 2], [`lru-${MAX_ENTRIES}`, 1]]);
    expect(requirement(token, doc("lru-0"))).toBe(2);
    expect(requirement(token, doc("lru-1"))).toBe("primary");
  });

  it("demands nothing of an unwritten document whose summary bit is clear, and the primary when it is set", () => {
    const token = written(distinctWrites(MAX_ENTRIES + 20, "bits-"));
    const candidates = Array.from({ length: 500 }, (_, i) => doc(`unwritten-${i}`));
    const clear = candidates.find((key) => !bitIsSet(token, summaryBit(key)));
    const set = candidates.find((key) => bitIsSet(token, summaryBit(key)));
    if (clear === undefined || set === undefined) throw new Error("no candidate key for one of the cases");
    expect(requirement(token, clear)).toBe(0);
    // An unwritten document that shares a bit with an evicted one errs toward the primary.
    expect(requirement(token, set)).toBe("primary");
  });

  it("sets exactly the summary bits of the evicted documents", () => {
    const token = written(distinctWrites(MAX_ENTRIES + 10, "sum-"));
    const expected = new Set(Array.from({ length: 10 }, (_, i) => summaryBit(doc(`sum-${i}`))));
    const set = Array.from({ length: 256 }, (_, bit) => bit).filter((bit) => bitIsSet(token, bit));
    expect(new Set(set)).toStrictEqual(expected);
  });

  it("keeps demanding a document's highest version when an older write of it is replayed after its eviction", () => {
    // An Idempotency-Key replay answers with the original (older) version; the token must not forget v10.
    const token = written([["replayed", 10], ...distinctWrites(MAX_ENTRIES, "between-"), ["replayed", 5]]);
    const required = requirement(token, doc("replayed"));
    expect(required === "primary" || required >= 10).toBe(true);
  });
});

describe("the safety law", () => {
  /**
   * Writes to a few documents, each followed by writes to up to 40 fresh ones, so that the few are evicted and
   * written again in many orders. Returns the writes in order, as [id, version].
   */
  const writes = (versions: "any" | "growing") =>
    fc
      .array(
        fc.record({
          n: fc.integer({ min: 0, max: 7 }),
          version: fc.integer({ min: 1, max: 1_000 }),
          fresh: fc.nat({ max: 40 }),
        }),
        { minLength: 1, maxLength: 40 },
      )
      .map((steps) => {
        const latest = new Map<string, number>();
        return steps.flatMap(({ n, version, fresh }, i) => {
          const id = `law-${n}`;
          const v = versions === "any" ? version : (latest.get(id) ?? 0) + version;
          latest.set(id, v);
          return [[id, v] as const, ...distinctWrites(fresh, `fresh-${i}-`)];
        });
      });

  function highestById(sequence: ReadonlyArray<readonly [string, number]>): Map<string, number> {
    const highest = new Map<string, number>();
    for (const [id, version] of sequence) highest.set(id, Math.max(highest.get(id) ?? 0, version));
    return highest;
  }

  it("never demands less than the highest version written, for any sequence of writes (property)", () => {
    fc.assert(
      fc.property(writes("any"), (sequence) => {
        const token = written(sequence);
        for (const [id, version] of highestById(sequence)) {
          const required = requirement(token, doc(id));
          expect(required === "primary" || required >= version).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never demands less than the latest version when versions only grow, as document objects issue them (property)", () => {
    fc.assert(
      fc.property(writes("growing"), (sequence) => {
        const token = written(sequence);
        expect(token.entries.length).toBeLessThanOrEqual(MAX_ENTRIES);
        for (const [id, version] of highestById(sequence)) {
          const required = requirement(token, doc(id));
          expect(required === "primary" || required >= version).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("encodeToken and decodeToken", () => {
  it("round-trips any token built from writes and a bookmark (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), fc.maxSafeNat()), {
          maxLength: 80,
        }),
        // Bookmarks as D1 issues them: a short token of letters, digits and . _ : -
        fc.option(fc.stringMatching(/^[A-Za-z0-9._:-]{1,80}$/), { nil: undefined }),
        (sequence, bookmark) => {
          const token = withBookmark(written(sequence), bookmark);
          const text = encodeToken(token);
          expect(text.startsWith("t2~")).toBe(true);
          // Safe to send back in a header as it is.
          expect(text).toMatch(/^[\x21-\x7e]+$/);
          expect(decodeToken(text)).toStrictEqual(token);
        },
      ),
    );
  });

  it("decodes a well-formed token a client assembled by hand", () => {
    expect(decodeToken(forge("", BOOKMARK_A, "abc.3"))).toStrictEqual({
      entries: [["abc", 3]],
      evicted: new Uint8Array(32),
      bookmark: BOOKMARK_A,
    });
    const summary = new Uint8Array(32);
    summary[5] = 0b100;
    expect(decodeToken(forge(base64Url(summary), "", "abc.3", "x9.12"))).toStrictEqual({
      entries: [
        ["abc", 3],
        ["x9", 12],
      ],
      evicted: summary,
    });
  });

  it("writes an empty summary as nothing, so a fresh token stays short", () => {
    expect(encodeToken(recordWrite(emptyToken(), doc("short"), 1))).toMatch(/^t2~~~[0-9a-z]+\.1$/);
  });

  it.each([
    ["the empty string", ""],
    ["the previous token version", "t1.eyJlIjpbXX0"],
    ["a prefix with nothing after it", "t2~"],
    [
      `${MAX_ENTRIES + 1} entries`,
      forge("", "", ...Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => `h${i}.1`)),
    ],
    ["a fractional version", forge("", "", "abc.1.5")],
    ["a negative version", forge("", "", "abc.-1")],
    ["a version with a leading zero", forge("", "", "abc.03")],
    ["a version beyond the safe integers", forge("", "", `abc.${2 ** 53}`)],
    ["an entry without a version", forge("", "", "abc")],
    ["an empty hash", forge("", "", ".3")],
    ["a hash with capitals", forge("", "", "ABC.3")],
    ["an empty entry", forge("", "", "abc.3", "")],
    ["a summary one byte short", forge(base64Url(new Uint8Array(31)), "")],
    ["a summary one byte long", forge(base64Url(new Uint8Array(33)), "")],
    ["a summary that is not base64url", forge("!".repeat(43), "")],
    ["a bookmark with a space", forge("", "a b")],
  ])("rejects %s", (_, text) => {
    expect(decodeToken(text)).toBeNull();
  });

  it("stays under 1.3 KB at its largest (full entries, a summary, the longest bookmark) and refuses anything over 4 KB unread", () => {
    let token = withBookmark(written(distinctWrites(200)), "b".repeat(256));
    token = recordWrite(token, doc("big"), Number.MAX_SAFE_INTEGER);
    const text = encodeToken(token);
    expect(text.length).toBeLessThan(1300);
    expect(decodeToken(text)).toStrictEqual(token);
    expect(decodeToken(`${forge("", "")}${"~a.1".repeat(2000)}`)).toBeNull();
  });
});

describe("withBookmark", () => {
  it("adds a bookmark to a token that has none", () => {
    expect(withBookmark(emptyToken(), BOOKMARK_A).bookmark).toBe(BOOKMARK_A);
  });

  it("replaces an older bookmark with a newer one", () => {
    expect(withBookmark(withBookmark(emptyToken(), BOOKMARK_A), BOOKMARK_B).bookmark).toBe(BOOKMARK_B);
  });

  it("keeps the newer bookmark when handed an older one", () => {
    expect(withBookmark(withBookmark(emptyToken(), BOOKMARK_B), BOOKMARK_A).bookmark).toBe(BOOKMARK_B);
  });

  it("ignores null and undefined", () => {
    const token = withBookmark(recordWrite(emptyToken(), doc("bm"), 2), BOOKMARK_A);
    expect(withBookmark(token, null)).toStrictEqual(token);
    expect(withBookmark(token, undefined)).toStrictEqual(token);
    expect(withBookmark(emptyToken(), null)).not.toHaveProperty("bookmark");
  });

  it("keeps the token's writes when it takes a bookmark", () => {
    const token = withBookmark(recordWrite(emptyToken(), doc("bm-writes"), 4), BOOKMARK_A);
    expect(requirement(token, doc("bm-writes"))).toBe(4);
  });
});

describe("the bookmark a token carries", () => {
  it("refuses a token whose bookmark is not a D1 bookmark, so it never reaches D1", () => {
    const forged = encodeToken({ ...emptyToken(), bookmark: "a bookmark; DROP TABLE" });
    expect(decodeToken(forged)).toBeNull();
    const fine = encodeToken({ ...emptyToken(), bookmark: "00000085-0000024c-00004c6d-8e61117bf38d7adb" });
    expect(decodeToken(fine)?.bookmark).toBe("00000085-0000024c-00004c6d-8e61117bf38d7adb");
  });
});
