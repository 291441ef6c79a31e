import { describe, expect, it } from "vitest";
import { call, del, get, jsonPatch, mergePatch, post, problem, put, send, uniqueId } from "../helpers";

const path = (id: string, collection = "things") => `/v1/${collection}/${encodeURIComponent(id)}`;

describe("PUT /v1/{collection}/{id}", () => {
  it("creates with 201, Location, a strong ETag and the envelope", async () => {
    const id = uniqueId();
    const res = await put(path(id), { name: "ada" });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(path(id));
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.body).toMatchObject({ collection: "things", id, version: 1, data: { name: "ada" } });
    const body = res.body as { createdAt: string; updatedAt: string };
    expect(Date.parse(body.createdAt)).not.toBeNaN();
    expect(body.updatedAt).toBe(body.createdAt);
  });

  it("replaces with 200 and the next version, keeping createdAt", async () => {
    const id = uniqueId();
    const first = await put(path(id), { n: 1 });
    const second = await put(path(id), { n: 2 });
    expect(second.status).toBe(200);
    expect(second.headers.get("etag")).toBe('"2"');
    expect(second.body).toMatchObject({ version: 2, data: { n: 2 } });
    expect((second.body as { createdAt: string }).createdAt).toBe(
      (first.body as { createdAt: string }).createdAt,
    );
  });

  it("makes every successful write a new version, even when the content did not change", async () => {
    const id = uniqueId();
    await put(path(id), { same: true });
    const again = await put(path(id), { same: true });
    expect(again.body).toMatchObject({ version: 2 });
  });

  it("accepts Unicode ids, percent-encoded", async () => {
    const id = "café ☕ #1?";
    const res = await put(path(id, "unicode"), { ok: 1 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id });
    expect((await get(path(id, "unicode"))).body).toMatchObject({ id, data: { ok: 1 } });
  });
});

describe("POST /v1/{collection}", () => {
  it("creates with a server-generated id that sorts in creation order", async () => {
    const a = await post("/v1/posts", { n: 1 });
    const b = await post("/v1/posts", { n: 2 });
    expect(a.status).toBe(201);
    const idA = (a.body as { id: string }).id;
    const idB = (b.body as { id: string }).id;
    expect(idA < idB).toBe(true);
    expect(a.headers.get("location")).toBe(`/v1/posts/${idA}`);
    expect((await get(`/v1/posts/${idA}`)).body).toMatchObject({ data: { n: 1 } });
  });
});

describe("GET /v1/{collection}/{id}", () => {
  it("reads the current document from its object and says so", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1 });
    const res = await get(path(id));
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.headers.get("read-source")).toBe("primary");
    expect(res.body).toMatchObject({ version: 1, data: { a: 1 } });
  });

  it("answers 404 for a document that never existed", async () => {
    const res = await get(path(uniqueId()));
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(problem(res)).toMatchObject({ status: 404, code: "not-found", title: "Not Found" });
    expect(problem(res).type).toMatch(/^https:\/\//);
  });

  it("answers 304 when If-None-Match names the current version", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1 });
    const res = await get(path(id), { "if-none-match": '"1"' });
    expect(res.status).toBe(304);
    expect(res.headers.get("etag")).toBe('"1"');
  });

  it("reads an earlier version with ?version=N, and 404s a deletion or a version that does not exist", async () => {
    const id = uniqueId();
    await put(path(id), { v: "one" });
    await put(path(id), { v: "two" });
    await del(path(id));
    expect((await get(`${path(id)}?version=1`)).body).toMatchObject({ version: 1, data: { v: "one" } });
    expect((await get(`${path(id)}?version=2`)).body).toMatchObject({ version: 2, data: { v: "two" } });
    expect((await get(`${path(id)}?version=3`)).status).toBe(404);
    expect((await get(`${path(id)}?version=4`)).status).toBe(404);
    expect((await get(`${path(id)}?version=abc`)).status).toBe(400);
  });
});

describe("PATCH /v1/{collection}/{id}", () => {
  it("applies a JSON Merge Patch", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1, b: { c: 2, d: 3 } });
    const res = await mergePatch(path(id), { a: null, b: { c: 5 }, e: [1] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 2, data: { b: { c: 5, d: 3 }, e: [1] } });
  });

  it("applies a JSON Patch atomically", async () => {
    const id = uniqueId();
    await put(path(id), { list: [1, 2], stock: 5 });
    const res = await jsonPatch(path(id), [
      { op: "add", path: "/list/-", value: 3 },
      { op: "increment", path: "/stock", value: -2, min: 0 },
      { op: "copy", from: "/stock", path: "/copy" },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ data: { list: [1, 2, 3], stock: 3, copy: 3 } });
  });

  it("answers 409 and changes nothing when a test fails", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1 });
    const res = await jsonPatch(path(id), [
      { op: "replace", path: "/a", value: 2 },
      { op: "test", path: "/a", value: 99 },
    ]);
    expect(res.status).toBe(409);
    expect(problem(res)).toMatchObject({ code: "patch-test-failed", pointer: "/a" });
    expect((await get(path(id))).body).toMatchObject({ version: 1, data: { a: 1 } });
  });

  it("answers 409 when an increment would cross its bound, and when the target is missing or not a number", async () => {
    const id = uniqueId();
    await put(path(id), { stock: 1, name: "x" });
    const crossing = await jsonPatch(path(id), [{ op: "increment", path: "/stock", value: -2, min: 0 }]);
    expect(crossing.status).toBe(409);
    expect(problem(crossing).code).toBe("patch-bound-exceeded");
    const missing = await jsonPatch(path(id), [{ op: "increment", path: "/nope", value: 1 }]);
    expect(problem(missing)).toMatchObject({ status: 409, code: "patch-path-not-found" });
    const text = await jsonPatch(path(id), [{ op: "increment", path: "/name", value: 1 }]);
    expect(problem(text)).toMatchObject({ status: 409, code: "patch-not-a-number" });
    expect((await get(path(id))).body).toMatchObject({ version: 1, data: { stock: 1 } });
  });

  it("answers 400 for a malformed patch document and an unknown op", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1 });
    expect(problem(await jsonPatch(path(id), { op: "add" })).code).toBe("malformed-patch");
    const unknown = await jsonPatch(path(id), [{ op: "frobnicate", path: "/a" }]);
    expect(unknown.status).toBe(400);
    expect(problem(unknown).code).toBe("malformed-patch");
    expect((await jsonPatch(path(id), [{ op: "add", path: "a", value: 1 }])).status).toBe(400);
    expect((await get(path(id))).body).toMatchObject({ version: 1, data: { a: 1 } });
  });

  it("answers 404 for a missing document and 415 with Accept-Patch for another media type", async () => {
    expect((await mergePatch(path(uniqueId()), { a: 1 })).status).toBe(404);
    const id = uniqueId();
    await put(path(id), { a: 1 });
    const res = await send(path(id), {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(415);
    expect(res.headers.get("accept-patch")).toContain("application/merge-patch+json");
    expect(res.headers.get("accept-patch")).toContain("application/json-patch+json");
  });

  it("answers 422 when the patched document would exceed the size limit", async () => {
    const id = uniqueId();
    await put(path(id), { big: "x".repeat(600_000) });
    const res = await mergePatch(path(id), { more: "y".repeat(600_000) });
    expect(res.status).toBe(422);
    expect(problem(res).code).toBe("document-too-large");
    expect((await get(path(id))).body).toMatchObject({ version: 1 });
  });

  it("answers 422 when a patch would make the document something other than an object", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1 });
    const res = await jsonPatch(path(id), [{ op: "replace", path: "", value: [1, 2] }]);
    expect(res.status).toBe(422);
    expect(problem(res).code).toBe("document-not-object");
  });
});

describe("DELETE /v1/{collection}/{id}", () => {
  it("tombstones with 204; the document reads 404 and a later PUT recreates it with the next version", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1 });
    const deleted = await del(path(id));
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get("etag")).toBe('"2"');
    expect((await get(path(id))).status).toBe(404);
    expect((await del(path(id))).status).toBe(404);
    expect((await mergePatch(path(id), { a: 2 })).status).toBe(404);
    const recreated = await put(path(id), { a: 3 });
    expect(recreated.status).toBe(201);
    expect(recreated.headers.get("etag")).toBe('"3"');
  });
});

describe("GET /v1/{collection}/{id}/_history", () => {
  it("returns events in version order, paginated, including deletes", async () => {
    const id = uniqueId();
    await put(path(id), { n: 1 });
    await mergePatch(path(id), { n: 2 });
    await del(path(id));
    await put(path(id), { n: 4 }, { "idempotency-key": "k-1" });
    const first = await get(`${path(id)}/_history?limit=2`);
    expect(first.status).toBe(200);
    const page1 = first.body as { items: Array<Record<string, unknown>>; next: number | null };
    expect(page1.items.map((e) => [e.version, e.type])).toEqual([
      [1, "put"],
      [2, "patch"],
    ]);
    expect(page1.items[0]).toMatchObject({ tenant: "default", collection: "things", id, data: { n: 1 } });
    expect(page1.next).toBe(2);
    const page2 = (await get(`${path(id)}/_history?after=2&limit=2`)).body as typeof page1;
    expect(page2.items.map((e) => [e.version, e.type, e.data])).toEqual([
      [3, "delete", null],
      [4, "put", { n: 4 }],
    ]);
    expect(page2.items[1]?.idempotencyKey).toBe("k-1");
    expect(page2.next).toBeNull();
  });

  it("answers 404 for a document that never existed and 400 for a limit above the maximum", async () => {
    expect((await get(`${path(uniqueId())}/_history`)).status).toBe(404);
    const id = uniqueId();
    await put(path(id), {});
    const res = await get(`${path(id)}/_history?limit=1001`);
    expect(res.status).toBe(400);
    expect(problem(res).code).toBe("invalid-query");
    expect((await get(`${path(id)}/_history?limit=0`)).status).toBe(400);
    expect((await get(`${path(id)}/_history?after=-1`)).status).toBe(400);
  });
});

describe("protocol", () => {
  it("answers 404 with a problem document for unknown routes", async () => {
    const res = await get("/nowhere");
    expect(res.status).toBe(404);
    expect(problem(res).code).toBe("route-not-found");
  });

  it("answers 405 with Allow for a method the route does not have", async () => {
    const res = await send("/v1/things", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("POST");
    const doc = await send(path(uniqueId()), { method: "POST", body: "{}" });
    expect(doc.status).toBe(405);
    expect(doc.headers.get("allow")).toBe("GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
    const options = await send(path(uniqueId()), { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toContain("PATCH");
  });

  it("returns a generated X-Request-Id, or echoes a well-formed one", async () => {
    const generated = await get("/healthz");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await get("/healthz", { "x-request-id": "trace-123" });
    expect(echoed.headers.get("x-request-id")).toBe("trace-123");
    const hostile = await get("/healthz", { "x-request-id": "bad id\twith spaces" });
    expect(hostile.headers.get("x-request-id")).not.toContain(" ");
  });

  it("answers HEAD like GET without a body", async () => {
    const id = uniqueId();
    await put(path(id), { a: 1 });
    const res = await call(path(id), { method: "HEAD", headers: { consistency: "strong" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(await res.text()).toBe("");
  });
});
