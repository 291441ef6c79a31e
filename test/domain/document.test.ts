import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkDocument,
  type Decision,
  type DocumentState,
  decide,
  type Limits,
  type WriteIntent,
  type WriteOperation,
} from "../../domain/document";
import { type JsonObject, type JsonValue, MAX_DEPTH } from "../../domain/json";
import { type PatchOperation, parseJsonPatch } from "../../domain/patch/json-patch";
import type { Preconditions } from "../../domain/preconditions";
import { jsonObject } from "./json-arbitraries";

const limits: Limits = { maxDocumentBytes: 1024 };
const NOW = 5_000;

const live: DocumentState = { version: 3, data: { name: "ada", n: 1 }, createdAt: 1_000, updatedAt: 2_000 };
const tombstone: DocumentState = { version: 4, data: null, createdAt: 1_000, updatedAt: 3_000 };

function ops(body: unknown): PatchOperation[] {
  const parsed = parseJsonPatch(body);
  if (!parsed.ok) throw new Error(`patch did not parse: ${parsed.detail}`);
  return parsed.operations;
}

const put = (data: JsonObject): WriteOperation => ({ type: "put", data });
const mergePatch = (patch: JsonObject): WriteOperation => ({ type: "merge-patch", patch });
const jsonPatch = (body: unknown): WriteOperation => ({ type: "json-patch", operations: ops(body) });
const del: WriteOperation = { type: "delete" };

function write(
  operation: WriteOperation,
  preconditions: Preconditions = {},
  createOnly = false,
): WriteIntent {
  return { operation, preconditions, createOnly };
}

const strong = (version: number) => [{ weak: false, opaque: String(version) }];

function committed(decision: Decision): Extract<Decision, { kind: "commit" }> {
  if (decision.kind !== "commit") throw new Error(`expected a commit, got ${JSON.stringify(decision)}`);
  return decision;
}

/** `depth` objects nested inside each other: nested(1) is {}. */
function nested(depth: number): JsonObject {
  let value: JsonObject = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

describe("decide: put", () => {
  it("given no document, when a put arrives, then it commits version 1 as created at now", () => {
    expect(decide(null, write(put({ a: 1 })), NOW, limits)).toStrictEqual({
      kind: "commit",
      type: "put",
      state: { version: 1, data: { a: 1 }, createdAt: NOW, updatedAt: NOW },
      serialized: '{"a":1}',
      created: true,
    });
  });

  it("given a live document, when a put arrives, then it commits the next version and keeps createdAt", () => {
    expect(decide(live, write(put({ b: 2 })), NOW, limits)).toStrictEqual({
      kind: "commit",
      type: "put",
      state: { version: 4, data: { b: 2 }, createdAt: live.createdAt, updatedAt: NOW },
      serialized: '{"b":2}',
      created: false,
    });
  });

  it("given a deleted document, when a put arrives, then it is created again at tombstone version + 1 and now", () => {
    const decision = committed(decide(tombstone, write(put({ again: true })), NOW, limits));
    expect(decision.created).toBe(true);
    expect(decision.state).toStrictEqual({
      version: 5,
      data: { again: true },
      createdAt: NOW,
      updatedAt: NOW,
    });
  });

  it("given a document larger than the limit in bytes (not characters), when put, then it is invalid", () => {
    // {"a":"…"} is 8 bytes plus the string: 508 two-byte characters fill 1024 bytes exactly.
    const fits = { a: "é".repeat(508) };
    const over = { a: "é".repeat(509) };
    expect(committed(decide(null, write(put(fits)), NOW, limits)).serialized).toHaveLength(516);
    expect(decide(null, write(put(over)), NOW, limits)).toMatchObject({
      kind: "reject",
      rejection: { kind: "invalid", code: "document-too-large" },
    });
  });
});

describe("decide: createOnly (POST)", () => {
  it("given a live document, when a create-only write arrives, then it conflicts with already-exists", () => {
    expect(decide(live, write(put({ a: 1 }), {}, true), NOW, limits)).toMatchObject({
      kind: "reject",
      rejection: { kind: "conflict", code: "already-exists" },
    });
  });

  it("given no document or a deleted one, when a create-only write arrives, then it is created", () => {
    expect(committed(decide(null, write(put({ a: 1 }), {}, true), NOW, limits)).state.version).toBe(1);
    expect(committed(decide(tombstone, write(put({ a: 1 }), {}, true), NOW, limits)).state.version).toBe(5);
  });
});

describe("decide: patch and delete on absent documents", () => {
  it.each<[string, string, DocumentState | null, WriteOperation]>([
    ["no document", "merge patch", null, mergePatch({ a: 1 })],
    ["no document", "JSON patch", null, jsonPatch([{ op: "add", path: "/a", value: 1 }])],
    ["no document", "delete", null, del],
    ["a deleted document", "merge patch", tombstone, mergePatch({ a: 1 })],
    ["a deleted document", "JSON patch", tombstone, jsonPatch([{ op: "add", path: "/a", value: 1 }])],
    ["a deleted document", "delete", tombstone, del],
  ])("given %s, when a %s arrives, then it is not-found", (_, __, state, operation) => {
    expect(decide(state, write(operation), NOW, limits)).toStrictEqual({
      kind: "reject",
      rejection: { kind: "not-found" },
    });
  });
});

describe("decide: delete", () => {
  it("given a live document, when deleted, then it commits a tombstone at the next version", () => {
    expect(decide(live, write(del), NOW, limits)).toStrictEqual({
      kind: "commit",
      type: "delete",
      state: { version: 4, data: null, createdAt: live.createdAt, updatedAt: NOW },
      serialized: null,
      created: false,
    });
  });
});

describe("decide: preconditions", () => {
  it("given a live document, when If-Match names another version, then it fails with the current version", () => {
    expect(decide(live, write(put({ a: 1 }), { ifMatch: strong(2) }), NOW, limits)).toStrictEqual({
      kind: "reject",
      rejection: { kind: "precondition-failed", currentVersion: 3 },
    });
  });

  it("given a live document, when If-Match names its version, then it commits", () => {
    expect(committed(decide(live, write(del, { ifMatch: strong(3) }), NOW, limits)).state.version).toBe(4);
  });

  it("given a deleted document, when If-Match names its tombstone version, then it fails without a version", () => {
    const decision = decide(tombstone, write(put({ a: 1 }), { ifMatch: strong(4) }), NOW, limits);
    expect(decision).toStrictEqual({ kind: "reject", rejection: { kind: "precondition-failed" } });
    expect(decision.kind === "reject" && "currentVersion" in decision.rejection).toBe(false);
  });

  it('given a live document, when If-None-Match is "*", then a put fails with the current version', () => {
    expect(decide(live, write(put({ a: 1 }), { ifNoneMatch: "*" }), NOW, limits)).toStrictEqual({
      kind: "reject",
      rejection: { kind: "precondition-failed", currentVersion: 3 },
    });
  });

  it('given a deleted document, when If-None-Match is "*", then a put creates it', () => {
    expect(
      committed(decide(tombstone, write(put({ a: 1 }), { ifNoneMatch: "*" }), NOW, limits)).created,
    ).toBe(true);
  });

  it("given no document, when a delete has a failing If-Match, then the precondition is reported first", () => {
    expect(decide(null, write(del, { ifMatch: "*" }), NOW, limits)).toStrictEqual({
      kind: "reject",
      rejection: { kind: "precondition-failed" },
    });
  });
});

describe("decide: patches", () => {
  it("given a live document, when merge-patched, then it commits a patch with the merged data", () => {
    expect(decide(live, write(mergePatch({ n: null, city: "x" })), NOW, limits)).toStrictEqual({
      kind: "commit",
      type: "patch",
      state: { version: 4, data: { name: "ada", city: "x" }, createdAt: live.createdAt, updatedAt: NOW },
      serialized: '{"name":"ada","city":"x"}',
      created: false,
    });
  });

  it("given a live document, when a merge patch makes it too large, then it is invalid document-too-large", () => {
    expect(decide(live, write(mergePatch({ big: "x".repeat(1024) })), NOW, limits)).toMatchObject({
      kind: "reject",
      rejection: { kind: "invalid", code: "document-too-large" },
    });
  });

  it("given a live document, when a merge patch nests it too deep, then it is invalid document-too-deep", () => {
    expect(decide(live, write(mergePatch({ deep: nested(MAX_DEPTH) })), NOW, limits)).toMatchObject({
      kind: "reject",
      rejection: { kind: "invalid", code: "document-too-deep" },
    });
    expect(
      committed(decide(live, write(mergePatch({ deep: nested(MAX_DEPTH - 1) })), NOW, limits)).kind,
    ).toBe("commit");
  });

  it("given a live document, when a JSON patch replaces the root with an array, then it is document-not-object", () => {
    expect(
      decide(live, write(jsonPatch([{ op: "replace", path: "", value: [1] }])), NOW, limits),
    ).toMatchObject({
      kind: "reject",
      rejection: { kind: "invalid", code: "document-not-object" },
    });
  });

  it("given a live document, when a JSON patch increments a member, then it commits a patch", () => {
    const decision = committed(
      decide(live, write(jsonPatch([{ op: "increment", path: "/n", value: 2 }])), NOW, limits),
    );
    expect(decision.type).toBe("patch");
    expect(decision.state.data).toStrictEqual({ name: "ada", n: 3 });
  });

  it("given a live document, when a JSON patch test fails, then it conflicts with the code and pointer", () => {
    expect(
      decide(live, write(jsonPatch([{ op: "test", path: "/name", value: "bob" }])), NOW, limits),
    ).toStrictEqual({
      kind: "reject",
      rejection: {
        kind: "conflict",
        code: "patch-test-failed",
        detail: "the value at the path is not the tested value",
        pointer: "/name",
      },
    });
  });

  it("given a live document, when an increment would pass its bound, then it conflicts with patch-bound-exceeded", () => {
    expect(
      decide(live, write(jsonPatch([{ op: "increment", path: "/n", value: -2, min: 0 }])), NOW, limits),
    ).toMatchObject({
      kind: "reject",
      rejection: { kind: "conflict", code: "patch-bound-exceeded", pointer: "/n" },
    });
  });

  it("given a live document, when any write is decided, then the current state is not changed", () => {
    const state: DocumentState = structuredClone(live);
    for (const operation of [
      mergePatch({ name: null, x: { y: 1 } }),
      jsonPatch([
        { op: "remove", path: "/name" },
        { op: "increment", path: "/n", value: 5 },
      ]),
      jsonPatch([
        { op: "remove", path: "/name" },
        { op: "test", path: "/n", value: 0 },
      ]),
      put({ other: true }),
      del,
    ]) {
      decide(state, write(operation), NOW, limits);
      expect(state).toStrictEqual(live);
    }
  });
});

describe("checkDocument", () => {
  it(`accepts ${MAX_DEPTH} nested objects and rejects ${MAX_DEPTH + 1}`, () => {
    expect(checkDocument(nested(MAX_DEPTH), limits)).toMatchObject({ ok: true });
    expect(checkDocument(nested(MAX_DEPTH + 1), limits)).toMatchObject({
      ok: false,
      rejection: { kind: "invalid", code: "document-too-deep" },
    });
  });

  it("counts arrays as levels too", () => {
    let inner: JsonValue = [];
    for (let i = 2; i < MAX_DEPTH; i++) inner = [inner];
    expect(checkDocument({ a: inner }, limits)).toMatchObject({ ok: true });
    expect(checkDocument({ a: [inner] }, limits)).toMatchObject({
      ok: false,
      rejection: { code: "document-too-deep" },
    });
  });

  it("rejects a very deep document without exhausting the stack", () => {
    expect(checkDocument(nested(100_000), { maxDocumentBytes: 10_000_000 })).toMatchObject({
      ok: false,
      rejection: { code: "document-too-deep" },
    });
  });

  it.each<[string, unknown]>([
    ["an array", []],
    ["null", null],
    ["a string", "x"],
    ["a number", 1],
  ])("rejects %s as document-not-object", (_, value) => {
    expect(checkDocument(value, limits)).toMatchObject({
      ok: false,
      rejection: { kind: "invalid", code: "document-not-object" },
    });
  });

  it("returns the data and its JSON text", () => {
    expect(checkDocument({ a: [1, "é"] }, limits)).toStrictEqual({
      ok: true,
      data: { a: [1, "é"] },
      serialized: '{"a":[1,"é"]}',
    });
  });
});

describe("decide: version ordering law", () => {
  const smallLimits: Limits = { maxDocumentBytes: 400 };

  /** Small objects, with an occasional one over the size limit so that invalid writes are exercised too. */
  const data: fc.Arbitrary<JsonObject> = fc.oneof(
    { weight: 6, arbitrary: jsonObject(2) },
    { weight: 1, arbitrary: fc.constant({ big: "x".repeat(400) }) },
  );

  const operation: fc.Arbitrary<WriteOperation> = fc.oneof(
    { weight: 4, arbitrary: data.map(put) },
    { weight: 2, arbitrary: data.map(mergePatch) },
    {
      weight: 2,
      arbitrary: fc.integer({ min: -3, max: 3 }).map((n) => jsonPatch([{ op: "add", path: "/n", value: n }])),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ value: fc.integer({ min: -3, max: 3 }), min: fc.constant(-5), max: fc.constant(5) })
        .map((inc) => jsonPatch([{ op: "increment", path: "/n", ...inc }])),
    },
    { weight: 2, arbitrary: fc.constant(del) },
  );

  const preconditions: fc.Arbitrary<Preconditions> = fc.oneof(
    { weight: 8, arbitrary: fc.constant({}) },
    { weight: 2, arbitrary: fc.nat(12).map((v) => ({ ifMatch: strong(v) })) },
    { weight: 1, arbitrary: fc.constant({ ifMatch: "*" as const }) },
    { weight: 1, arbitrary: fc.constant({ ifNoneMatch: "*" as const }) },
  );

  const intent: fc.Arbitrary<WriteIntent> = fc
    .tuple(operation, preconditions, fc.boolean())
    .map(([op, pre, createOnly]) => write(op, pre, createOnly && op.type === "put"));

  it("gives every commit version = previous + 1, and a rejection leaves the state as it was", () => {
    fc.assert(
      fc.property(fc.array(intent, { minLength: 10, maxLength: 40 }), (intents) => {
        let state: DocumentState | null = null;
        let now = 1_000;
        const versions: number[] = [];
        for (const step of intents) {
          now += 7;
          const before = structuredClone(state);
          const wasLive = state !== null && state.data !== null;
          const decision = decide(state, step, now, smallLimits);
          expect(state).toStrictEqual(before);
          if (decision.kind === "reject") continue;

          expect(decision.state.version).toBe((state?.version ?? 0) + 1);
          expect(decision.state.updatedAt).toBe(now);
          expect(decision.created).toBe(!wasLive);
          expect(decision.state.createdAt).toBe(wasLive && state !== null ? state.createdAt : now);
          if (decision.type !== "put") expect(wasLive).toBe(true);
          expect(decision.type === "delete").toBe(step.operation.type === "delete");
          expect(decision.serialized).toBe(
            decision.state.data === null ? null : JSON.stringify(decision.state.data),
          );
          versions.push(decision.state.version);
          state = decision.state;
        }
        versions.forEach((version, i) => {
          expect(version).toBe(i + 1);
        });
      }),
    );
  });
});
