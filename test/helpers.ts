/** Shared test helpers: requests through the Worker's real fetch handler, each test on its own documents. */
import { exports } from "cloudflare:workers";

const BASE = "http://tessera.test";
let counter = 0;

/** A document id no other test uses (storage is isolated per file, not per test). */
export function uniqueId(prefix = "doc"): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(BASE + path, init));
}

export interface Sent {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Sends a request and always consumes the body (JSON when there is one). */
export async function send(path: string, init: RequestInit = {}): Promise<Sent> {
  const res = await call(path, init);
  const text = await res.text();
  let body: unknown = text;
  if (text !== "" && /json/.test(res.headers.get("content-type") ?? "")) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

const jsonHeaders = (extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  ...extra,
});

export function put(path: string, data: unknown, headers: Record<string, string> = {}): Promise<Sent> {
  return send(path, { method: "PUT", headers: jsonHeaders(headers), body: JSON.stringify(data) });
}

export function post(path: string, data: unknown, headers: Record<string, string> = {}): Promise<Sent> {
  return send(path, { method: "POST", headers: jsonHeaders(headers), body: JSON.stringify(data) });
}

export function mergePatch(
  path: string,
  patch: unknown,
  headers: Record<string, string> = {},
): Promise<Sent> {
  return send(path, {
    method: "PATCH",
    headers: { "content-type": "application/merge-patch+json", ...headers },
    body: JSON.stringify(patch),
  });
}

export function jsonPatch(path: string, ops: unknown, headers: Record<string, string> = {}): Promise<Sent> {
  return send(path, {
    method: "PATCH",
    headers: { "content-type": "application/json-patch+json", ...headers },
    body: JSON.stringify(ops),
  });
}

export function del(path: string, headers: Record<string, string> = {}): Promise<Sent> {
  return send(path, { method: "DELETE", headers });
}

/** A strong read (from the document's object): what the write path tests check. */
export function get(path: string, headers: Record<string, string> = {}): Promise<Sent> {
  return send(path, { headers: { consistency: "strong", ...headers } });
}

/** A read at the default level: the read model, or the object when a Consistency-Token demands it. */
export function getEventual(path: string, headers: Record<string, string> = {}): Promise<Sent> {
  return send(path, { headers });
}

/** The fields of a problem document a test asserts on. */
export function problem(sent: Sent): { code: string; status: number; [k: string]: unknown } {
  return sent.body as { code: string; status: number };
}

/** Retries `check` until it passes (projection is asynchronous); fails with its last error after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
