import { describe, expect, it } from "vitest";
import { call, get, problem, put, send, uniqueId } from "../helpers";

const path = (id: string) => `/v1/hostile/${encodeURIComponent(id)}`;

/** Every case: the expected 4xx, a problem document, and the document untouched afterwards. */
async function expectRefusedAndUnchanged(id: string, init: RequestInit, status: number, code?: string) {
  const res = await send(path(id), init);
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(problem(res).status).toBe(status);
  if (code !== undefined) expect(problem(res).code).toBe(code);
  expect((await get(path(id))).body).toMatchObject({ version: 1, data: { original: true } });
}

describe("bad input", () => {
  const json = { "content-type": "application/json" };

  it.each([
    ["truncated JSON", "{", "malformed-json"],
    ["empty body", "", "malformed-json"],
    ["trailing garbage", '{"a":1} x', "malformed-json"],
    ["single quotes", "{'a':1}", "malformed-json"],
    ["NaN literal", '{"a":NaN}', "malformed-json"],
  ])("answers 400 for %s and changes nothing", async (_name, body, code) => {
    const id = uniqueId();
    await put(path(id), { original: true });
    await expectRefusedAndUnchanged(id, { method: "PUT", headers: json, body }, 400, code);
  });

  it.each([
    ["an array", "[1,2]"],
    ["a string", '"text"'],
    ["a number", "42"],
    ["null", "null"],
  ])("answers 422 for well-formed JSON that is %s", async (_name, body) => {
    const id = uniqueId();
    await put(path(id), { original: true });
    await expectRefusedAndUnchanged(id, { method: "PUT", headers: json, body }, 422, "document-not-object");
  });

  it("answers 400 for a body that is not UTF-8", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    const body = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await expectRefusedAndUnchanged(id, { method: "PUT", headers: json, body }, 400, "malformed-body");
  });

  it("answers 422 for a document nested deeper than 64 levels", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    const body = `${'{"a":'.repeat(100)}1${"}".repeat(100)}`;
    await expectRefusedAndUnchanged(id, { method: "PUT", headers: json, body }, 422, "document-too-deep");
  });

  it("answers 422 for merge and JSON patches nested deeper than a document may be, changing nothing", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    const deep = `${'{"a":'.repeat(100)}1${"}".repeat(100)}`;
    const merge = { "content-type": "application/merge-patch+json" };
    await expectRefusedAndUnchanged(
      id,
      { method: "PATCH", headers: merge, body: deep },
      422,
      "document-too-deep",
    );
    const patch = { "content-type": "application/json-patch+json" };
    const ops = `[{"op":"add","path":"/x","value":${deep}}]`;
    await expectRefusedAndUnchanged(
      id,
      { method: "PATCH", headers: patch, body: ops },
      422,
      "document-too-deep",
    );
  });

  it("survives pathological nesting without crashing", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    const body = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    const res = await send(path(id), { method: "PUT", headers: json, body });
    expect([400, 422]).toContain(res.status);
    expect((await get(path(id))).status).toBe(200);
  });

  it("answers 413 for a body over the limit with Content-Length", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    const body = JSON.stringify({ big: "x".repeat(1024 * 1024) });
    await expectRefusedAndUnchanged(id, { method: "PUT", headers: json, body }, 413, "body-too-large");
  });

  it("answers 413 for a streamed body over the limit without Content-Length", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"big":"'));
        if (sent > 20) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const res = await call(path(id), { method: "PUT", headers: json, body: stream });
    expect(res.status).toBe(413);
    await res.text();
    expect((await get(path(id))).body).toMatchObject({ version: 1 });
  });

  it.each([
    ["no content type", {}],
    ["text/plain", { "content-type": "text/plain" }],
    ["form data", { "content-type": "application/x-www-form-urlencoded" }],
    ["a non-UTF-8 charset", { "content-type": "application/json; charset=latin1" }],
  ])("answers 415 for %s", async (_name, headers) => {
    const id = uniqueId();
    await put(path(id), { original: true });
    await expectRefusedAndUnchanged(
      id,
      { method: "PUT", headers, body: '{"a":1}' },
      415,
      "unsupported-media-type",
    );
  });

  it("answers 413 and 415 to PATCH as to PUT, changing nothing", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    const merge = { "content-type": "application/merge-patch+json" };
    const big = JSON.stringify({ big: "x".repeat(1024 * 1024) });
    await expectRefusedAndUnchanged(
      id,
      { method: "PATCH", headers: merge, body: big },
      413,
      "body-too-large",
    );
    await expectRefusedAndUnchanged(
      id,
      { method: "PATCH", headers: json, body: "{}" },
      415,
      "unsupported-media-type",
    );
  });

  it("answers 413 and 415 to POST, creating and storing nothing", async () => {
    const key = { "idempotency-key": uniqueId("post") };
    const big = JSON.stringify({ big: "x".repeat(1024 * 1024) });
    const tooLarge = await send("/v1/posted", { method: "POST", headers: { ...json, ...key }, body: big });
    expect(problem(tooLarge)).toMatchObject({ status: 413, code: "body-too-large" });
    const wrongType = await send("/v1/posted", {
      method: "POST",
      headers: { "content-type": "text/plain", ...key },
      body: "{}",
    });
    expect(problem(wrongType)).toMatchObject({ status: 415, code: "unsupported-media-type" });
    // 415 to a POST names the accepted media type in the problem; Accept-Patch belongs to PATCH only.
    expect(wrongType.headers.get("accept-patch")).toBeNull();
    // The key was never stored: its first real use creates the document, not a replay.
    const created = await send("/v1/posted", { method: "POST", headers: { ...json, ...key }, body: "{}" });
    expect(created.status).toBe(201);
    expect(created.headers.get("idempotent-replayed")).toBeNull();
  });

  it("accepts application/json with charset=utf-8", async () => {
    const res = await send(path(uniqueId()), {
      method: "PUT",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: "{}",
    });
    expect(res.status).toBe(201);
  });

  it.each([
    ["an upper-case collection", "/v1/Things/a"],
    ["a reserved collection", "/v1/_things/a"],
    ["a collection that is too long", `/v1/${"a".repeat(64)}/a`],
    ["an id with an encoded slash", "/v1/things/a%2Fb"],
    ["an id with a control character", "/v1/things/a%00b"],
    ["an id with invalid percent-encoding", "/v1/things/%E0%A4%A"],
    ["an id over 512 bytes", `/v1/things/${"é".repeat(257)}`],
  ])("answers 400 for %s", async (_name, target) => {
    const res = await send(target, { method: "PUT", headers: json, body: "{}" });
    expect(res.status).toBe(400);
    expect(["invalid-collection", "invalid-id"]).toContain(problem(res).code);
  });

  it("answers 400 for hostile query strings on reads", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    for (const query of ["version=1e3", "version=-1", "version=%00", "version=99999999999999999999"]) {
      const res = await get(`${path(id)}?${query}`);
      expect(res.status).toBe(400);
    }
  });

  it("keeps __proto__ as an ordinary key and never pollutes prototypes", async () => {
    const id = uniqueId();
    const res = await send(path(id), {
      method: "PUT",
      headers: json,
      body: '{"__proto__":{"polluted":true},"a":1}',
    });
    expect(res.status).toBe(201);
    expect(JSON.stringify((res.body as { data: unknown }).data)).toBe(
      '{"__proto__":{"polluted":true},"a":1}',
    );
    const patched = await send(path(id), {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: '{"__proto__":{"more":1}}',
    });
    expect(patched.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).more).toBeUndefined();
  });
});

describe("bad input that could hurt the service", () => {
  const json = { "content-type": "application/json" };

  it("refuses a JSON Patch that copies its way past the size limit, before memory grows, and changes nothing", async () => {
    const id = uniqueId();
    await put(path(id), { original: true, pad: "x".repeat(1000) });
    const doubling = Array.from({ length: 40 }, (_, i) => ({ op: "copy", from: "", path: `/c${i}` }));
    const res = await send(path(id), {
      method: "PATCH",
      headers: { "content-type": "application/json-patch+json" },
      body: JSON.stringify(doubling),
    });
    expect(res.status).toBe(422);
    expect(problem(res).code).toBe("document-too-large");
    expect((await get(path(id))).body).toMatchObject({ version: 1, data: { original: true } });
  });

  it("answers 422 for a number that overflows to infinity, so memory and storage never disagree", async () => {
    const id = uniqueId();
    await put(path(id), { original: true });
    await expectRefusedAndUnchanged(
      id,
      { method: "PUT", headers: json, body: '{"x":1e400}' },
      422,
      "document-invalid",
    );
  });

  it("accepts a flat array of half a million numbers without overflowing the stack", async () => {
    const res = await send(path(uniqueId()), {
      method: "PUT",
      headers: json,
      body: `{"xs":[${"1,".repeat(499_999)}1]}`,
    });
    expect(res.status).toBe(201);
  });
});
