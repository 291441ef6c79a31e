/**
 * Shared test helpers: requests through the Worker's real fetch handler, each test on its own documents; queue
 * batches built by the pool, which records what the consumer acked and retried; alarms cleared after a test.
 */
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { onTestFinished } from "vitest";
import type { EventMessage } from "../domain/event-message";
import { type DocumentKey, objectName } from "../domain/keys";
import worker from "../workers/index";
import { createKey, type NewKey } from "../workers/security/api-keys";

const BASE = "http://tessera.test";
let counter = 0;

/** A document id no other test uses (storage is isolated per file, not per test). */
export function uniqueId(prefix = "doc"): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * The credential requests carry unless they name their own: a key of the tenant `default` with every scope and
 * no rate limit, made for each test file by test/setup.ts. An `authorization: ""` header sends none at all.
 */
export const defaultCredential = { key: "" };

/** Makes an API key straight in this file's D1 (the key API itself has its own tests). */
export async function makeKey(
  spec: Partial<Omit<NewKey, "scopes">> & { scopes?: NewKey["scopes"] } = {},
): Promise<string> {
  const { key } = await createKey(env.DB, {
    tenant: spec.tenant ?? "default",
    name: spec.name ?? "test",
    scopes: spec.scopes ?? ["read", "write", "admin"],
    collections: spec.collections ?? null,
    rateLimit: spec.rateLimit ?? "none",
  });
  return key;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A request through the Worker's real fetch handler. Called as `worker.fetch` with an execution context rather
 * than through the pool's `exports.default`, which wraps its entrypoint once more with every call and slows
 * down over a file's requests.
 */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${defaultCredential.key}`);
  else if (headers.get("authorization") === "") headers.delete("authorization");
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(BASE + path, { ...init, headers }), env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface Sent {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Sends a request and always consumes the body (parsed when it is JSON or a +json type; NDJSON stays text). */
export async function send(path: string, init: RequestInit = {}): Promise<Sent> {
  const res = await call(path, init);
  const text = await res.text();
  let body: unknown = text;
  if (text !== "" && /^application\/([\w.-]+\+)?json\b/.test(res.headers.get("content-type") ?? ""))
    body = JSON.parse(text);
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

/** What the pool's getQueueResult() reports (its declared type lives in the experimental runtime types only). */
export interface QueueResult {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean };
  explicitAcks: string[];
  retryMessages: Array<{ msgId: string }>;
}

/** A batch as a queue consumer receives it, and the execution context its handler runs with. */
export interface Delivery {
  readonly batch: MessageBatch<EventMessage>;
  readonly ctx: ExecutionContext;
  /** The delay each retry() asked for, in call order: the pool's result does not keep it. */
  readonly delays: Array<number | undefined>;
}

/** What the consumer did with a batch: the pool's result, and the same by message index. */
export interface Outcome {
  readonly result: QueueResult;
  /** Indexes of the messages acknowledged: by ack(), or by ackAll() when not retried. */
  readonly acked: number[];
  /** Indexes of the messages to be delivered again: by retry(), or all of them by retryAll(). */
  readonly retried: number[];
  readonly delays: Array<number | undefined>;
}

/**
 * A batch of `bodies` from `queue` (a name from QUEUES), each on its `attempts`th delivery, built by the pool's
 * createMessageBatch so that acks and retries are recorded as the runtime records them. A queue delivers whatever
 * was sent to it, so bodies need not be events: the consumer has to cope with any.
 */
export function messageBatch(queue: string, bodies: readonly unknown[], attempts = 1): Delivery {
  const messages = bodies.map((body) => ({
    id: uniqueId("msg"),
    timestamp: new Date(),
    attempts,
    // The handler's type names what it expects, not what a queue can hold.
    body: body as EventMessage,
  }));
  const batch = createMessageBatch<EventMessage>(queue, messages);
  const delays: Array<number | undefined> = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options) => {
      delays.push(options?.delaySeconds);
      retry(options);
    };
  }
  return { batch, ctx: createExecutionContext(), delays };
}

/** Waits for the handler's waitUntil()s and reports what it did with each message of the batch. */
export async function outcomeOf({ batch, ctx, delays }: Delivery): Promise<Outcome> {
  const result: QueueResult = await getQueueResult(batch, ctx);
  const ids = batch.messages.map((m) => m.id);
  const retriedIds = new Set(result.retryBatch.retry ? ids : result.retryMessages.map((m) => m.msgId));
  const ackedIds = new Set(result.ackAll ? ids.filter((id) => !retriedIds.has(id)) : result.explicitAcks);
  const indexes = (of: Set<string>) => ids.flatMap((id, i) => (of.has(id) ? [i] : []));
  return { result, acked: indexes(ackedIds), retried: indexes(retriedIds), delays };
}

/** Delivers `bodies` to the Worker's queue handler as one batch from `queue`, as the runtime would. */
export async function deliver(queue: string, bodies: readonly unknown[], attempts = 1): Promise<Outcome> {
  const delivery = messageBatch(queue, bodies, attempts);
  await worker.queue(delivery.batch, env, delivery.ctx);
  return outcomeOf(delivery);
}

/** A document's object, from a fresh stub: one made before abortAllDurableObjects() stays broken after it. */
function documentObject(key: DocumentKey): DurableObjectStub {
  return env.DOCUMENTS.get(env.DOCUMENTS.idFromName(objectName(key)));
}

/**
 * Deletes the alarm of these documents' objects once the running test has finished (passed or not). The pool
 * does not reset alarms between tests: one left behind fires into a later test, or into its
 * abortAllDurableObjects(). Call it where the test's objects are made; assertions on the alarm run before it.
 */
export function settleAlarms(...keys: DocumentKey[]): void {
  onTestFinished(async () => {
    for (const key of keys) {
      await runInDurableObject(documentObject(key), (_instance, state) => state.storage.deleteAlarm());
    }
  });
}
