import { describe, expect, it } from "vitest";
import {
  etagFor,
  evaluatePreconditions,
  type Preconditions,
  parseTagCondition,
  type TagCondition,
} from "../../domain/preconditions";

/** Header text to a condition, failing the test when the header does not parse. */
function tags(header: string): TagCondition {
  const parsed = parseTagCondition(header);
  if (parsed === null) throw new Error(`${header} should parse`);
  return parsed;
}

describe("parseTagCondition", () => {
  it('parses "*" (with surrounding spaces) as any', () => {
    expect(parseTagCondition("*")).toBe("*");
    expect(parseTagCondition("  *  ")).toBe("*");
  });

  it("parses one strong tag", () => {
    expect(parseTagCondition('"1"')).toStrictEqual([{ weak: false, opaque: "1" }]);
  });

  it("parses a list mixing strong and weak tags, in order", () => {
    expect(parseTagCondition('"1", W/"2"')).toStrictEqual([
      { weak: false, opaque: "1" },
      { weak: true, opaque: "2" },
    ]);
  });

  it("parses the empty tag and skips empty list elements", () => {
    expect(parseTagCondition('""')).toStrictEqual([{ weak: false, opaque: "" }]);
    expect(parseTagCondition(' ,"a",, "b" ,')).toStrictEqual([
      { weak: false, opaque: "a" },
      { weak: false, opaque: "b" },
    ]);
  });

  it.each(["", "   ", ",", "1", "W/1", '"1', '1"', 'w/"1"', '"a"b"', '"1" "2"', '*, "1"', '"a b"', "**"])(
    "returns null for %j",
    (header) => {
      expect(parseTagCondition(header)).toBeNull();
    },
  );

  // Demonstrates a source bug, so this test FAILS today: RFC 9110 §8.8.3 allows "," inside an opaque tag
  // (etagc = %x21 / %x23-7E / obs-text), but the parser splits the header on every comma, quoted or not.
  it("parses an entity tag whose opaque part contains a comma", () => {
    expect(parseTagCondition('"a,b"')).toStrictEqual([{ weak: false, opaque: "a,b" }]);
    expect(parseTagCondition('"1", W/"x,y"')).toStrictEqual([
      { weak: false, opaque: "1" },
      { weak: true, opaque: "x,y" },
    ]);
  });

  it("round-trips the ETag Tessera sends for a version", () => {
    expect(parseTagCondition(etagFor(42))).toStrictEqual([{ weak: false, opaque: "42" }]);
  });
});

describe("evaluatePreconditions", () => {
  const none: Preconditions = {};

  it("passes without preconditions, whether or not the document exists", () => {
    expect(evaluatePreconditions(none, 3)).toBe("pass");
    expect(evaluatePreconditions(none, undefined)).toBe("pass");
  });

  describe("If-Match", () => {
    it("passes when one listed strong tag names the current version", () => {
      expect(evaluatePreconditions({ ifMatch: tags('"2", "3"') }, 3)).toBe("pass");
    });

    it("fails when no listed tag names the current version", () => {
      expect(evaluatePreconditions({ ifMatch: tags('"1", "2"') }, 3)).toBe("failed");
    });

    it("fails for a weak tag even when it names the current version (strong comparison)", () => {
      expect(evaluatePreconditions({ ifMatch: tags('W/"3"') }, 3)).toBe("failed");
    });

    it("fails for any tag when the document is missing", () => {
      expect(evaluatePreconditions({ ifMatch: tags('"1"') }, undefined)).toBe("failed");
    });

    it('passes "*" when the document exists and fails it when missing', () => {
      expect(evaluatePreconditions({ ifMatch: "*" }, 1)).toBe("pass");
      expect(evaluatePreconditions({ ifMatch: "*" }, undefined)).toBe("failed");
    });

    it("fails rather than answering not-modified on safe requests", () => {
      expect(evaluatePreconditions({ ifMatch: tags('"1"') }, 2, true)).toBe("failed");
    });
  });

  describe("If-None-Match", () => {
    it('fails "*" when the document exists and passes it when missing', () => {
      expect(evaluatePreconditions({ ifNoneMatch: "*" }, 1)).toBe("failed");
      expect(evaluatePreconditions({ ifNoneMatch: "*" }, undefined)).toBe("pass");
    });

    it("fails an unsafe request when a listed tag names the current version", () => {
      expect(evaluatePreconditions({ ifNoneMatch: tags('"1", "4"') }, 4)).toBe("failed");
    });

    it("answers not-modified to a safe request when a listed tag names the current version", () => {
      expect(evaluatePreconditions({ ifNoneMatch: tags('"4"') }, 4, true)).toBe("not-modified");
      expect(evaluatePreconditions({ ifNoneMatch: "*" }, 4, true)).toBe("not-modified");
    });

    it("matches weak tags too (weak comparison)", () => {
      expect(evaluatePreconditions({ ifNoneMatch: tags('W/"4"') }, 4, true)).toBe("not-modified");
    });

    it("passes when no listed tag names the current version or the document is missing", () => {
      expect(evaluatePreconditions({ ifNoneMatch: tags('"3"') }, 4, true)).toBe("pass");
      expect(evaluatePreconditions({ ifNoneMatch: tags('"3"') }, undefined, true)).toBe("pass");
    });
  });

  describe("order", () => {
    it("evaluates If-Match first: a failing If-Match is failed even when If-None-Match would be not-modified", () => {
      expect(evaluatePreconditions({ ifMatch: tags('"1"'), ifNoneMatch: tags('"2"') }, 2, true)).toBe(
        "failed",
      );
    });

    it("evaluates If-None-Match once If-Match passes", () => {
      expect(evaluatePreconditions({ ifMatch: tags('"2"'), ifNoneMatch: tags('"2"') }, 2, true)).toBe(
        "not-modified",
      );
      expect(evaluatePreconditions({ ifMatch: tags('"2"'), ifNoneMatch: tags('"1"') }, 2, true)).toBe("pass");
    });
  });
});
