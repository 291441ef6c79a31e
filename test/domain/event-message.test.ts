import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type EventMessage,
  isEventMessage,
  MAX_BATCH_BYTES,
  MAX_BATCH_MESSAGES,
  planBatches,
  stateKey,
} from "../../domain/event-message";

const KB = 1024;

/** Items 0..n-1 with the given sizes, as planBatches takes them. */
const sized = (sizes: readonly number[]) => sizes.map((bytes, item) => ({ item, bytes }));

describe("planBatches", () => {
  it("plans nothing for no messages", () => {
    expect(planBatches([])).toStrictEqual([]);
  });

  it("splits 250 small messages into batches of 100, 100 and 50", () => {
    const batches = planBatches(sized(Array.from({ length: 250 }, () => 10)));
    expect(batches.map((b) => b.length)).toStrictEqual([100, 100, 50]);
  });

  it("fills a batch up to exactly the byte limit", () => {
    const half = MAX_BATCH_BYTES / 2;
    expect(planBatches(sized([half, half, half]))).toStrictEqual([[0, 1], [2]]);
  });

  it("starts a new batch rather than go one byte over", () => {
    const half = MAX_BATCH_BYTES / 2;
    expect(planBatches(sized([half, half + 1, half - 1]))).toStrictEqual([[0], [1, 2]]);
  });

  it("sends a message larger than the limit alone, between its neighbours' batches", () => {
    expect(planBatches(sized([1 * KB, 300 * KB, 1 * KB]))).toStrictEqual([[0], [1], [2]]);
  });

  it("keeps order, loses nothing, and stays within both limits, filling each batch (property)", () => {
    const size = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 4 * KB }) },
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 80 * KB }) },
      { weight: 1, arbitrary: fc.integer({ min: MAX_BATCH_BYTES - KB, max: MAX_BATCH_BYTES + 60 * KB }) },
    );
    fc.assert(
      fc.property(fc.array(size, { maxLength: 400 }), (sizes) => {
        const batches = planBatches(sized(sizes));
        expect(batches.flat()).toStrictEqual(sizes.map((_, i) => i));
        const bytes = (batch: readonly number[]) => batch.reduce((sum, i) => sum + (sizes[i] ?? 0), 0);
        batches.forEach((batch, b) => {
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(MAX_BATCH_MESSAGES);
          if (batch.length > 1) expect(bytes(batch)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
          // Greedy: the next batch's first message would not have fitted in this one.
          const next = batches[b + 1]?.[0];
          if (next !== undefined) {
            const grown = [...batch, next];
            expect(grown.length > MAX_BATCH_MESSAGES || bytes(grown) > MAX_BATCH_BYTES).toBe(true);
          }
        });
      }),
    );
  });
});

describe("stateKey", () => {
  it("names the state an event carries by the event's id, within R2's key limit whatever the document's id", () => {
    const eventId = "01JD0000000000000000000000";
    expect(stateKey({ tenant: "default", collection: "todos" }, eventId)).toBe(
      `states/default/todos/${eventId}.json`,
    );
    const longest = stateKey({ tenant: "a".repeat(63), collection: "b".repeat(63) }, eventId);
    expect(new TextEncoder().encode(longest).length).toBeLessThan(1024);
  });

  it("gives two events different keys", () => {
    const key = (eventId: string) => stateKey({ tenant: "default", collection: "todos" }, eventId);
    expect(key("01JD0000000000000000000001")).not.toBe(key("01JD0000000000000000000002"));
  });
});

describe("isEventMessage", () => {
  const valid: EventMessage = {
    v: 1,
    tenant: "default",
    collection: "todos",
    id: "doc-1",
    version: 2,
    type: "put",
    eventId: "01J0000000000000000000000",
    committedAt: 1_700_000_000_000,
    createdAt: 1_699_000_000_000,
    data: '{"title":"x"}',
    index: ["open", 3],
  };
  const without = (field: keyof EventMessage): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...valid };
    delete copy[field];
    return copy;
  };

  it("accepts a valid message", () => {
    expect(isEventMessage(valid)).toBe(true);
  });

  it("accepts a delete with null data, a state in R2, and the optional keys", () => {
    expect(isEventMessage({ ...valid, type: "delete", data: null })).toBe(true);
    expect(
      isEventMessage({ ...valid, type: "patch", data: null, dataRef: "states/default/todos/doc-1/2.json" }),
    ).toBe(true);
    expect(isEventMessage({ ...valid, idempotencyKey: "k-1", txId: "tx-1" })).toBe(true);
  });

  it.each([null, undefined, "message", 1, [], [valid]])("rejects %j", (value) => {
    expect(isEventMessage(value)).toBe(false);
  });

  it.each<keyof EventMessage>([
    "v",
    "tenant",
    "collection",
    "id",
    "version",
    "type",
    "eventId",
    "committedAt",
    "createdAt",
    "data",
  ])("rejects a message without %s", (field) => {
    expect(isEventMessage(without(field))).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ["v 2", { v: 2 }],
    ['v "1"', { v: "1" }],
    ["a numeric tenant", { tenant: 1 }],
    ["a null collection", { collection: null }],
    ["a numeric id", { id: 1 }],
    ["a fractional version", { version: 1.5 }],
    ["a string version", { version: "2" }],
    ["an unknown type", { type: "create" }],
    ["a numeric eventId", { eventId: 7 }],
    ["a string committedAt", { committedAt: "2024-01-01T00:00:00Z" }],
    ["a string createdAt", { createdAt: "yesterday" }],
    ["array data", { data: [] }],
    ["object data (states travel as JSON text)", { data: {} }],
    ["no index values", { index: undefined }],
    ["five index values", { index: [1, 2, 3, 4, 5] }],
    ["an object index value", { index: [{}] }],
    ["a numeric dataRef", { dataRef: 1 }],
    ["a numeric idempotencyKey", { idempotencyKey: 1 }],
    ["an object txId", { txId: { id: "tx-1" } }],
  ])("rejects a message with %s", (_, change) => {
    expect(isEventMessage({ ...valid, ...change })).toBe(false);
  });
});
