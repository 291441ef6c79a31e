import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { monotonicIds } from "../../domain/ids";
import { checkId, checkName, MAX_ID_BYTES, objectName, sameKey } from "../../domain/keys";

describe("checkName", () => {
  it.each(["a", "things", "a-b_c9", "z0", `a${"b".repeat(62)}`])("accepts %j", (name) => {
    expect(checkName("collection", name)).toStrictEqual({ ok: true });
    expect(checkName("tenant", name)).toStrictEqual({ ok: true });
  });

  it.each([
    ["empty", ""],
    ["upper case", "Things"],
    ["a leading underscore (reserved)", "_x"],
    ["a leading digit", "9a"],
    ["a leading hyphen", "-a"],
    ["a space", "a b"],
    ["a slash", "a/b"],
    ["a dot", "a.b"],
    ["non-ASCII", "café"],
    ["64 characters", `a${"b".repeat(63)}`],
    ["a trailing newline", "a\n"],
  ])("rejects a name with %s, naming the kind in the reason", (_, name) => {
    const check = checkName("collection", name);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/^collection /);
  });
});

describe("checkId", () => {
  it.each([
    ["plain", "doc-1"],
    ["Unicode", "café ☕"],
    ["three dots", "..."],
    ["a dot inside", "a.b"],
    ["spaces and punctuation", " #1? &x=%2F "],
    ["a no-break space (not a control character)", "a\u00a0b"],
    ["512 ASCII bytes", "a".repeat(MAX_ID_BYTES)],
    ["512 bytes of two-byte characters", "é".repeat(256)],
    ["512 bytes of four-byte characters", "😀".repeat(128)],
  ])("accepts %s", (_, id) => {
    expect(checkId(id)).toStrictEqual({ ok: true });
  });

  it.each([
    ["empty", ""],
    [".", "."],
    ["..", ".."],
    ["a slash", "a/b"],
    ["NUL", "a\u0000"],
    ["a C0 control", "\u001f"],
    ["a tab", "a\tb"],
    ["DEL", "\u007f"],
    ["NEL, a C1 control", "\u0085"],
    ["the last C1 control", "\u009f"],
    ["a lone surrogate", "a\ud800"],
    ["513 ASCII bytes", "a".repeat(MAX_ID_BYTES + 1)],
    ["513 bytes in only 257 characters", `${"é".repeat(256)}a`],
    ["513 bytes in only 257 UTF-16 units", `${"😀".repeat(128)}a`],
  ])("rejects %s", (_, id) => {
    const check = checkId(id);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).not.toBe("");
  });
});

describe("objectName and sameKey", () => {
  it("joins tenant, collection and id with slashes", () => {
    expect(objectName({ tenant: "default", collection: "things", id: "café ☕" })).toBe(
      "default/things/café ☕",
    );
  });

  it("compares every part", () => {
    const key = { tenant: "t", collection: "c", id: "i" };
    expect(sameKey(key, { ...key })).toBe(true);
    expect(sameKey(key, { ...key, tenant: "u" })).toBe(false);
    expect(sameKey(key, { ...key, collection: "d" })).toBe(false);
    expect(sameKey(key, { ...key, id: "j" })).toBe(false);
  });
});

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A clock that returns the given instants in turn, then keeps returning the last. */
function clockOf(...instants: number[]): () => number {
  let i = 0;
  return () => instants[Math.min(i++, instants.length - 1)] ?? 0;
}

const fill =
  (byte: number) =>
  (bytes: Uint8Array): void => {
    bytes.fill(byte);
  };

describe("monotonicIds", () => {
  it("makes 26-character Crockford base32 ids", () => {
    const id = monotonicIds()();
    expect(id).toHaveLength(26);
    expect(id).toMatch(ULID);
  });

  it("encodes the time in the first 10 characters as ULID does", () => {
    // The ULID specification's example: 1469918176385 ms is 01ARYZ6S41.
    expect(monotonicIds(() => 1469918176385)().slice(0, 10)).toBe("01ARYZ6S41");
    expect(monotonicIds(() => 0, fill(0))()).toBe("0".repeat(26));
  });

  it("makes unique, strictly increasing ids when the clock returns the same millisecond 1000 times", () => {
    const next = monotonicIds(() => 1_700_000_000_000);
    const ids = Array.from({ length: 1000 }, () => next());
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toStrictEqual(ids);
    for (let i = 1; i < ids.length; i++) expect((ids[i - 1] ?? "") < (ids[i] ?? "")).toBe(true);
    for (const id of ids) {
      expect(id).toMatch(ULID);
      expect(id.slice(0, 10)).toBe(ids[0]?.slice(0, 10));
    }
  });

  it("increments the random part by one within a millisecond, carrying into higher digits", () => {
    const fromZero = monotonicIds(() => 5, fill(0));
    expect(fromZero().slice(10)).toBe("0".repeat(16));
    expect(fromZero().slice(10)).toBe(`${"0".repeat(15)}1`);

    // 0xff bytes give the highest starting digits allowed: F (top bit clear), then Z (31) everywhere else.
    const fromTop = monotonicIds(() => 5, fill(0xff));
    expect(fromTop().slice(10)).toBe(`F${"Z".repeat(15)}`);
    expect(fromTop().slice(10)).toBe(`G${"0".repeat(15)}`);

    // 30 is Y, the last digit that increments without a carry.
    const fromY = monotonicIds(() => 5, fill(30));
    expect(fromY().slice(10)).toBe(`E${"Y".repeat(15)}`);
    expect(fromY().slice(10)).toBe(`E${"Y".repeat(14)}Z`);
  });

  it("draws a fresh random part when the millisecond changes", () => {
    let byte = 0;
    const next = monotonicIds(clockOf(1, 2), (bytes) => bytes.fill(byte++));
    expect(next().slice(10)).toBe("0".repeat(16));
    expect(next().slice(10)).toBe("1".repeat(16));
  });

  it("sorts ids by time with an advancing clock, whatever the random parts", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { minLength: 2, maxLength: 20 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 255 })),
        (instants, randomBytes) => {
          const sorted = [...instants].sort((a, b) => a - b);
          const bytes = randomBytes[Symbol.iterator]();
          const next = monotonicIds(clockOf(...sorted), (out) => {
            for (let i = 0; i < out.length; i++) out[i] = bytes.next().value ?? 0;
          });
          const ids = sorted.map(() => next());
          expect([...ids].sort()).toStrictEqual(ids);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
    );
  });

  it("keeps ids increasing when the clock goes backwards", () => {
    const next = monotonicIds(clockOf(2000, 1000, 1500, 2001), fill(0xff));
    const ids = [next(), next(), next(), next()];
    expect([...ids].sort()).toStrictEqual(ids);
    expect(new Set(ids).size).toBe(4);
    expect(ids[1]?.slice(0, 10)).toBe(ids[0]?.slice(0, 10));
  });
});
