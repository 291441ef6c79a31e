/** POST /v1/_transactions: all or nothing across documents, as a client sees it. */
import { describe, expect, it } from "vitest";
import { get, post, problem, put, send, uniqueId } from "../helpers";

const path = (id: string) => `/v1/accounts/${id}`;
const tx = (operations: unknown[], headers: Record<string, string> = {}) =>
  post("/v1/_transactions", { operations }, headers);
const transfer = (from: string, to: string, amount: number) => [
  {
    op: "patch",
    collection: "accounts",
    id: from,
    patch: [{ op: "increment", path: "/balance", value: -amount, min: 0 }],
  },
  {
    op: "patch",
    collection: "accounts",
    id: to,
    patch: [{ op: "increment", path: "/balance", value: amount }],
  },
];

describe("POST /v1/_transactions", () => {
  it("applies every operation and answers each document's new version", async () => {
    const [a, b, c] = [uniqueId("a"), uniqueId("b"), uniqueId("c")];
    await put(path(a), { balance: 100 });
    await put(path(b), { balance: 0 });
    const res = await tx(
      [
        ...transfer(a, b, 30),
        { op: "put", collection: "accounts", id: c, data: { balance: 5 }, exists: false },
        { op: "check", collection: "accounts", id: a, ifMatch: 1 },
      ].slice(0, 3),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      results: [
        { index: 0, collection: "accounts", id: a, version: 2 },
        { index: 1, collection: "accounts", id: b, version: 2 },
        { index: 2, collection: "accounts", id: c, version: 1 },
      ],
    });
    expect(res.headers.get("consistency-token")).toBeTruthy();
    expect((await get(path(a))).body).toMatchObject({ version: 2, data: { balance: 70 } });
    expect((await get(path(b))).body).toMatchObject({ version: 2, data: { balance: 30 } });
    expect((await get(path(c))).body).toMatchObject({ version: 1, data: { balance: 5 } });
  });

  it("applies nothing when one operation cannot apply, and names it", async () => {
    const [a, b] = [uniqueId("a"), uniqueId("b")];
    await put(path(a), { balance: 10 });
    await put(path(b), { balance: 0 });
    const res = await tx(transfer(a, b, 50));
    expect(res.status).toBe(409);
    expect(problem(res)).toMatchObject({
      code: "transaction-aborted",
      operation: 0,
      reason: "patch-bound-exceeded",
    });
    expect((await get(path(a))).body).toMatchObject({ version: 1, data: { balance: 10 } });
    expect((await get(path(b))).body).toMatchObject({ version: 1, data: { balance: 0 } });
    // The documents are free again: single writes go through.
    expect((await put(path(b), { balance: 1 })).status).toBe(200);
  });

  it("replays the first outcome for a retry with the same Idempotency-Key", async () => {
    const [a, b] = [uniqueId("a"), uniqueId("b")];
    await put(path(a), { balance: 100 });
    await put(path(b), { balance: 0 });
    const key = { "idempotency-key": uniqueId("k") };
    const first = await tx(transfer(a, b, 10), key);
    const again = await tx(transfer(a, b, 10), key);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect((await get(path(a))).body).toMatchObject({ version: 2, data: { balance: 90 } });
    const other = await tx(transfer(a, b, 11), key);
    expect(other.status).toBe(422);
    expect(problem(other).code).toBe("idempotency-key-reused");
  });

  it("refuses malformed requests with 400, naming the operation", async () => {
    const bad = await send("/v1/_transactions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operations: [{ op: "put", collection: "accounts", id: "x" }] }),
    });
    expect(bad.status).toBe(400);
    expect(problem(bad)).toMatchObject({ code: "invalid-transaction", operation: 0 });
    const twice = await tx([
      { op: "delete", collection: "accounts", id: "same" },
      { op: "delete", collection: "accounts", id: "same" },
    ]);
    expect(problem(twice)).toMatchObject({ code: "invalid-transaction", operation: 1 });
  });
});
