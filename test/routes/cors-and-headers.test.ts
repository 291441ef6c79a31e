/**
 * CORS for the origins the deployment lists (vitest.config.ts: CORS_ORIGINS = https://app.example), never with
 * credentials; OPTIONS without an Origin answers the route table's Allow; and every response, whatever its status,
 * carries the security headers and its X-Request-Id.
 */
import { describe, expect, it } from "vitest";
import { type Sent, send, uniqueId } from "../helpers";

const ALLOWED = "https://app.example";
const EVIL = "https://evil.example";

/** A comma-separated header as a lower-case set. */
const listOf = (value: string | null) =>
  new Set(
    (value ?? "")
      .split(",")
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== ""),
  );

function preflight(path: string, origin: string, method = "PUT"): Promise<Sent> {
  return send(path, {
    method: "OPTIONS",
    headers: {
      // A browser's preflight carries no credential.
      authorization: "",
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization,content-type,idempotency-key",
    },
  });
}

describe("CORS", () => {
  it("answers a preflight from an allowed origin with 204, the origin, the methods, the headers and a max-age", async () => {
    const sent = await preflight(`/v1/todos/${uniqueId()}`, ALLOWED);
    expect(sent.status).toBe(204);
    expect(sent.body).toBe("");
    expect(sent.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect([...listOf(sent.headers.get("access-control-allow-methods"))]).toEqual(
      expect.arrayContaining(["get", "head", "put", "post", "patch", "delete"]),
    );
    expect([...listOf(sent.headers.get("access-control-allow-headers"))]).toEqual(
      expect.arrayContaining([
        "authorization",
        "content-type",
        "idempotency-key",
        "if-match",
        "if-none-match",
        "consistency",
        "consistency-token",
      ]),
    );
    expect(sent.headers.get("access-control-max-age")).toBe("600");
    expect(listOf(sent.headers.get("vary")).has("origin")).toBe(true);
    expect(sent.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("gives a preflight from another origin no Access-Control-Allow-Origin", async () => {
    for (const origin of [EVIL, "null", "https://app.example.evil.example", "http://app.example"]) {
      const sent = await preflight(`/v1/todos/${uniqueId()}`, origin);
      expect(sent.body).toBe("");
      expect(sent.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(sent.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("lets the allowed origin read an answer and the headers clients need, without credentials", async () => {
    const id = uniqueId();
    const written = await send(`/v1/todos/${id}`, {
      method: "PUT",
      headers: { origin: ALLOWED, "content-type": "application/json" },
      body: '{"title":"cors"}',
    });
    expect(written.status).toBe(201);
    expect(written.headers.get("access-control-allow-origin")).toBe(ALLOWED);

    const read = await send(`/v1/todos/${id}`, { headers: { origin: ALLOWED, consistency: "strong" } });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ data: { title: "cors" } });
    expect(read.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const exposed = listOf(read.headers.get("access-control-expose-headers"));
    for (const name of [
      "etag",
      "location",
      "consistency-token",
      "read-source",
      "x-request-id",
      "retry-after",
      "ratelimit",
      "ratelimit-policy",
    ]) {
      expect(exposed.has(name), name).toBe(true);
    }
    expect(listOf(read.headers.get("vary")).has("origin")).toBe(true);
    expect(read.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("lets the allowed origin read a refusal too (a 401 problem), and gives another origin nothing to read", async () => {
    const refused = await send("/v1/_changes", { headers: { origin: ALLOWED, authorization: "" } });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: "unauthenticated" });
    expect(refused.headers.get("access-control-allow-origin")).toBe(ALLOWED);

    const evil = await send("/v1/_changes", { headers: { origin: EVIL } });
    expect(evil.status).toBe(200);
    expect(evil.body).toMatchObject({ changes: expect.any(Array) });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("answers an OPTIONS without an Origin with 204 and the route table's Allow, and no CORS headers", async () => {
    const expected: Array<[string, string[]]> = [
      [`/v1/todos/${uniqueId()}`, ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]],
      ["/v1/todos", ["GET", "HEAD", "POST", "OPTIONS"]],
      ["/v1/_changes", ["GET", "HEAD", "OPTIONS"]],
      ["/v1/_admin/keys", ["GET", "HEAD", "POST", "OPTIONS"]],
      ["/healthz", ["GET", "HEAD", "OPTIONS"]],
    ];
    for (const [path, methods] of expected) {
      const sent = await send(path, { method: "OPTIONS", headers: { authorization: "" } });
      expect(sent.status, path).toBe(204);
      expect(sent.body).toBe("");
      expect(
        (sent.headers.get("allow") ?? "")
          .split(",")
          .map((m) => m.trim())
          .sort(),
        path,
      ).toEqual([...methods].sort());
      expect(sent.headers.get("access-control-allow-origin")).toBeNull();
      expect(sent.headers.get("access-control-allow-methods")).toBeNull();
    }
  });
});

describe("security headers", () => {
  function expectSecurityHeaders(sent: Sent, what: string): void {
    const h = sent.headers;
    expect(h.get("x-content-type-options"), what).toBe("nosniff");
    expect(h.get("x-frame-options"), what).toBe("DENY");
    const csp = h.get("content-security-policy") ?? "";
    expect(
      csp.split(";").map((d) => d.trim()),
      what,
    ).toEqual(expect.arrayContaining(["default-src 'none'", "frame-ancestors 'none'"]));
    expect(h.get("referrer-policy"), what).toBe("no-referrer");
    expect(h.get("strict-transport-security"), what).toMatch(/^max-age=31536000; includeSubDomains/);
    expect(h.get("x-request-id"), what).toMatch(/^[\w=-]+$/);
  }

  it("are on every response: successes, problems, an unknown route, 405 and OPTIONS", async () => {
    const id = uniqueId();
    const json = { "content-type": "application/json" };
    const cases: Array<[string, number, () => Promise<Sent>]> = [
      ["GET /healthz", 200, () => send("/healthz", { headers: { authorization: "" } })],
      ["GET /openapi.json", 200, () => send("/openapi.json", { headers: { authorization: "" } })],
      [
        "PUT created",
        201,
        () => send(`/v1/todos/${id}`, { method: "PUT", headers: json, body: '{"title":"h"}' }),
      ],
      ["GET strong", 200, () => send(`/v1/todos/${id}`, { headers: { consistency: "strong" } })],
      [
        "GET not modified",
        304,
        () => send(`/v1/todos/${id}`, { headers: { "if-none-match": '"1"', consistency: "strong" } }),
      ],
      ["a query", 200, () => send("/v1/todos?limit=1")],
      ["the feed", 200, () => send("/v1/_changes?limit=1")],
      ["the key list", 200, () => send("/v1/_admin/keys?limit=1")],
      ["DELETE", 204, () => send(`/v1/todos/${id}`, { method: "DELETE" })],
      ["401", 401, () => send("/v1/_changes", { headers: { authorization: "" } })],
      [
        "403",
        403,
        () => send("/v1/_changes", { headers: { authorization: "Bearer test-operator-secret-0123456789" } }),
      ],
      ["400", 400, () => send("/v1/BAD/x")],
      ["404 document", 404, () => send(`/v1/todos/${uniqueId()}`, { headers: { consistency: "strong" } })],
      ["404 route", 404, () => send("/nowhere")],
      ["405", 405, () => send("/healthz", { method: "POST", headers: { authorization: "" } })],
      ["415", 415, () => send(`/v1/todos/${id}`, { method: "PUT", body: "x" })],
      ["OPTIONS", 204, () => send("/v1/todos", { method: "OPTIONS", headers: { authorization: "" } })],
    ];
    for (const [what, status, request] of cases) {
      const sent = await request();
      expect(sent.status, what).toBe(status);
      if (status >= 400) {
        expect(sent.headers.get("content-type"), what).toMatch(/^application\/problem\+json/);
      }
      expectSecurityHeaders(sent, what);
    }
  });

  // Not on preflights: the CORS middleware answers them before the security headers middleware runs (app.ts
  // registers cors() first). Harmless on an empty 204, but "every response" needs securityHeaders() first there.
  it("are on cross-origin answers too, allowed or not", async () => {
    expectSecurityHeaders(await send("/v1/_changes", { headers: { origin: ALLOWED } }), "cross-origin GET");
    expectSecurityHeaders(await send("/v1/_changes", { headers: { origin: EVIL } }), "refused origin GET");
    expectSecurityHeaders(
      await send("/v1/_changes", { headers: { origin: ALLOWED, authorization: "" } }),
      "cross-origin 401",
    );
  });
});
