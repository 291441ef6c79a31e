import { describe, expect, it } from "vitest";
import { del, get, jsonPatch, mergePatch, post, problem, put, send, uniqueId } from "../helpers";

const path = (id: string) => `/v1/conditional/${encodeURIComponent(id)}`;

describe("conditional writes (RFC 9110)", () => {
  it("answers 412 when If-Match names an old version, names the current one, and changes nothing", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    await put(path(id), { n: 2 });
    const res = await put(path(id), { n: 3 }, { "if-match": '"1"' });
    expect(res.status).toBe(412);
    expect(problem(res)).toMatchObject({ code: "precondition-failed", currentVersion: 2 });
    expect((await get(path(id))).body).toMatchObject({ version: 2, data: { n: 2 } });
  });

  it("applies a write whose If-Match lists the current version among others", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    const res = await mergePatch(path(id), { n: 2 }, { "if-match": '"7", "1"' });
    expect(res.status).toBe(200);
  });

  it("never matches a weak ETag in If-Match (strong comparison)", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    expect((await put(path(id), { n: 2 }, { "if-match": 'W/"1"' })).status).toBe(412);
  });

  it("evaluates preconditions before existence: If-Match on a missing or deleted document is 412 without currentVersion", async () => {
    const missing = await put(path(uniqueId()), { n: 1 }, { "if-match": "*" });
    expect(missing.status).toBe(412);
    expect(problem(missing).currentVersion).toBeUndefined();
    const id = uniqueId();
    await put(path(id), { n: 1 });
    await del(path(id));
    const deleted = await mergePatch(path(id), { n: 2 }, { "if-match": '"2"' });
    expect(deleted.status).toBe(412);
    expect(problem(deleted).currentVersion).toBeUndefined();
    const deleteMissing = await del(path(uniqueId()), { "if-match": '"1"' });
    expect(deleteMissing.status).toBe(412);
  });

  it("creates only once with If-None-Match: *", async () => {
    const id = uniqueId();
    expect((await put(path(id), { n: 1 }, { "if-none-match": "*" })).status).toBe(201);
    const again = await put(path(id), { n: 2 }, { "if-none-match": "*" });
    expect(again.status).toBe(412);
    expect(problem(again).currentVersion).toBe(1);
  });

  it("recreates a deleted document with If-None-Match: *", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    await del(path(id));
    const res = await put(path(id), { n: 3 }, { "if-none-match": "*" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ version: 3 });
  });

  it("deletes only the version named by If-Match", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    expect((await del(path(id), { "if-match": '"9"' })).status).toBe(412);
    expect((await del(path(id), { "if-match": '"1"' })).status).toBe(204);
  });

  it("answers 400 for a syntactically invalid If-Match", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    const res = await put(path(id), { n: 2 }, { "if-match": "1" });
    expect(res.status).toBe(400);
    expect(problem(res).code).toBe("invalid-precondition");
  });

  it("lets exactly one of many concurrent PUTs with the same If-Match win; the rest get 412", async () => {
    const id = uniqueId();
    await put(path(id), { n: 0 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => put(path(id), { writer: i }, { "if-match": '"1"' })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    const winner = results.find((r) => r.status === 200);
    expect((await get(path(id))).body).toMatchObject({
      version: 2,
      data: (winner?.body as { data: unknown } | undefined)?.data,
    });
  });
});

describe("concurrent increments", () => {
  it("end at exactly 100 after 100 concurrent increments, with every version from 2 to 101 returned once", async () => {
    const id = uniqueId();
    await put(path(id), { n: 0 });
    const results = await Promise.all(
      Array.from({ length: 100 }, () => jsonPatch(path(id), [{ op: "increment", path: "/n", value: 1 }])),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const versions = results.map((r) => (r.body as { version: number }).version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    // Each response shows the counter as of its own version: n = version - 1.
    expect(
      results.every((r) => {
        const body = r.body as { version: number; data: { n: number } };
        return body.data.n === body.version - 1;
      }),
    ).toBe(true);
    expect((await get(path(id))).body).toMatchObject({ version: 101, data: { n: 100 } });
  });
});

describe("Idempotency-Key", () => {
  it("replays the first response exactly, with Idempotent-Replayed, and writes nothing", async () => {
    const id = uniqueId();
    const first = await put(path(id), { n: 1 }, { "idempotency-key": '"key-a"' });
    const replay = await put(path(id), { n: 1 }, { "idempotency-key": '"key-a"' });
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.status).toBe(first.status);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(replay.headers.get("location")).toBe(first.headers.get("location"));
    const history = (await get(`${path(id)}/_history`)).body as { items: unknown[] };
    expect(history.items).toHaveLength(1);
  });

  it("replays the original response even after later writes changed the document", async () => {
    const id = uniqueId();
    const first = await mergePatch(path(id), { n: 1 }, { "idempotency-key": "patch-1" });
    expect(first.status).toBe(404);
    await put(path(id), { n: 5 });
    const replay = await mergePatch(path(id), { n: 1 }, { "idempotency-key": "patch-1" });
    expect(replay.status).toBe(404);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await get(path(id))).body).toMatchObject({ version: 1, data: { n: 5 } });
  });

  it("replays a committed write's own response, at its version, after later writes", async () => {
    const id = uniqueId();
    const first = await put(path(id), { n: 1 }, { "idempotency-key": "then" });
    expect(first.status).toBe(201);
    await put(path(id), { n: 2 });
    const replay = await put(path(id), { n: 1 }, { "idempotency-key": "then" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("etag")).toBe('"1"');
    expect(replay.body).toEqual(first.body);
    expect((await get(path(id))).body).toMatchObject({ version: 2, data: { n: 2 } });
  });

  it("replays a delete's 204 without deleting again", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    const first = await del(path(id), { "idempotency-key": "gone" });
    await put(path(id), { n: 2 });
    const replay = await del(path(id), { "idempotency-key": "gone" });
    expect([first.status, replay.status]).toEqual([204, 204]);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("etag")).toBe('"2"');
    expect((await get(path(id))).body).toMatchObject({ version: 3, data: { n: 2 } });
  });

  it("stores a 422 the document's rules gave, so the key cannot then create the document with another body", async () => {
    const id = uniqueId();
    const headers = { "content-type": "application/json", "idempotency-key": "shape" };
    const refused = await send(path(id), { method: "PUT", headers, body: "[1]" });
    expect(problem(refused)).toMatchObject({ status: 422, code: "document-not-object" });
    const again = await send(path(id), { method: "PUT", headers, body: "[1]" });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await send(path(id), { method: "PUT", headers, body: '{"a":1}' });
    expect(problem(other)).toMatchObject({ status: 422, code: "idempotency-key-reused" });
    expect((await get(path(id))).status).toBe(404);
  });

  it("answers 409 already-exists to a keyed POST whose document was created another way", async () => {
    const key = uniqueId("post-key");
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`orders\n${key}`));
    const derived = `k${[...new Uint8Array(digest)]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("")
      .slice(0, 32)}`;
    expect((await put(`/v1/orders/${derived}`, { by: "put" })).status).toBe(201);
    const res = await post("/v1/orders", { by: "post" }, { "idempotency-key": key });
    expect(problem(res)).toMatchObject({ status: 409, code: "already-exists" });
    expect((await get(`/v1/orders/${derived}`)).body).toMatchObject({ version: 1, data: { by: "put" } });
  });

  it("stores a 412 outcome and replays it", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    const first = await put(path(id), { n: 2 }, { "if-match": '"5"', "idempotency-key": "cond" });
    const replay = await put(path(id), { n: 2 }, { "if-match": '"5"', "idempotency-key": "cond" });
    expect(first.status).toBe(412);
    expect(replay.status).toBe(412);
    expect(replay.body).toEqual(first.body);
  });

  it("treats the body as canonical JSON: key order and whitespace do not make a different request", async () => {
    const id = uniqueId();
    const headers = { "content-type": "application/json", "idempotency-key": "canon" };
    const first = await send(path(id), { method: "PUT", headers, body: '{"a":1,"b":2}' });
    const replay = await send(path(id), { method: "PUT", headers, body: '{ "b": 2,\n "a": 1 }' });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);
  });

  it("answers 422 when the same key is reused on the same document for a different request", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 }, { "idempotency-key": "reused" });
    const differentBody = await put(path(id), { n: 2 }, { "idempotency-key": "reused" });
    expect(differentBody.status).toBe(422);
    expect(problem(differentBody).code).toBe("idempotency-key-reused");
    const differentMethod = await del(path(id), { "idempotency-key": "reused" });
    expect(differentMethod.status).toBe(422);
    expect((await get(path(id))).body).toMatchObject({ version: 1, data: { n: 1 } });
  });

  it("scopes keys to the document: the same key on another document is a new request", async () => {
    const a = uniqueId();
    const b = uniqueId();
    expect((await put(path(a), { n: 1 }, { "idempotency-key": "shared" })).status).toBe(201);
    const other = await put(path(b), { n: 1 }, { "idempotency-key": "shared" });
    expect(other.status).toBe(201);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
  });

  it("never creates two documents for one POST key, even when the retries race", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => post("/v1/orders", { total: 5 }, { "idempotency-key": "order-42" })),
    );
    const ids = new Set(results.map((r) => (r.body as { id: string }).id));
    expect(ids.size).toBe(1);
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(9);
    const [id] = [...ids];
    const history = (await get(`/v1/orders/${id}/_history`)).body as { items: unknown[] };
    expect(history.items).toHaveLength(1);
  });

  it("applies concurrent retries of one keyed increment exactly once", async () => {
    const id = uniqueId();
    await put(path(id), { n: 0 });
    const ops = [{ op: "increment", path: "/n", value: 1 }];
    const results = await Promise.all(
      Array.from({ length: 10 }, () => jsonPatch(path(id), ops, { "idempotency-key": "inc-once" })),
    );
    expect(new Set(results.map((r) => (r.body as { version: number }).version))).toEqual(new Set([2]));
    expect((await get(path(id))).body).toMatchObject({ version: 2, data: { n: 1 } });
  });

  it("stores nothing for requests refused before they reach the document", async () => {
    const id = uniqueId();
    const malformed = await send(path(id), {
      method: "PUT",
      headers: { "content-type": "application/json", "idempotency-key": "early" },
      body: "{nope",
    });
    expect(malformed.status).toBe(400);
    const good = await put(path(id), { n: 1 }, { "idempotency-key": "early" });
    expect(good.status).toBe(201);
    expect(good.headers.get("idempotent-replayed")).toBeNull();
  });

  it("answers 400 for a key that is not 1 to 255 printable characters", async () => {
    const res = await put(path(uniqueId()), { n: 1 }, { "idempotency-key": "x".repeat(256) });
    expect(res.status).toBe(400);
    expect(problem(res).code).toBe("invalid-idempotency-key");
  });
});
