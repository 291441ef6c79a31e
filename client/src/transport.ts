/**
 * Sending requests safely: the credential on every request, and automatic retries of what cannot apply twice.
 * Reads are always safe to repeat; every write the client sends carries an Idempotency-Key (the same one on each
 * retry), so a retry after a lost answer replays the first outcome instead of writing again. Retried: network
 * errors, 429 and 503 (after Retry-After when the server gives one), and the 409s that say nothing was written
 * and to come back (a document a transaction holds), with jittered exponential backoff, within a deadline.
 */
import { retryAfterOf, TesseraError } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 6). */
  readonly retries?: number;
  /** The whole call, waits included, ends by then (default 30 s); a wait that would pass it is not started. */
  readonly deadlineMs?: number;
  /** The first backoff (default 100 ms), doubled each time up to maxDelayMs (default 5 s), with full jitter. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export type FetchFunction = (request: Request) => Promise<Response>;
export type KeySource = string | (() => string | Promise<string>);

export interface TransportOptions {
  readonly fetch?: FetchFunction | undefined;
  readonly key?: KeySource | undefined;
  readonly retry?: RetryOptions | false | undefined;
  readonly headers?: Record<string, string> | undefined;
  /** Called before each retry's wait (for logs and progress). */
  readonly onRetry?: ((info: { attempt: number; delayMs: number; reason: string }) => void) | undefined;
}

const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 6,
  deadlineMs: 30_000,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A fresh Idempotency-Key: a random UUID (browsers, Node 20+ and Workers all have one). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms: number, signal?: AbortSignal | null) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Whether an answer says nothing happened and to come back later. */
function retryableStatus(response: Response): boolean {
  if (response.status === 429 || response.status === 503) return true;
  // 409 document-locked and transaction-conflict: nothing was written; they carry Retry-After, no other 409 does.
  return response.status === 409 && response.headers.has("retry-after");
}

export class Transport {
  readonly #fetch: FetchFunction;
  readonly #key: KeySource | undefined;
  readonly #retry: Required<RetryOptions> | null;
  readonly #headers: Record<string, string>;
  readonly #onRetry: TransportOptions["onRetry"];

  constructor(options: TransportOptions) {
    this.#fetch = options.fetch ?? ((request) => globalThis.fetch(request));
    this.#key = options.key;
    this.#retry = options.retry === false ? null : { ...DEFAULT_RETRY, ...options.retry };
    this.#headers = options.headers ?? {};
    this.#onRetry = options.onRetry;
  }

  async #authorization(): Promise<string | undefined> {
    if (this.#key === undefined) return undefined;
    const key = typeof this.#key === "function" ? await this.#key() : this.#key;
    return key === "" ? undefined : `Bearer ${key}`;
  }

  /** Sends `request`, retrying it when that is safe; the answer is the last one received. */
  readonly send = async (request: Request): Promise<Response> => {
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(this.#headers))
      if (!headers.has(name)) headers.set(name, value);
    const authorization = await this.#authorization();
    if (authorization !== undefined && !headers.has("authorization"))
      headers.set("authorization", authorization);
    const prepared = new Request(request, { headers });
    // Safe to repeat: a read, or a write that carries an Idempotency-Key.
    const safe = SAFE_METHODS.has(prepared.method) || headers.has("idempotency-key");
    const policy = this.#retry;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const last = policy === null || attempt >= policy.retries;
      let response: Response;
      try {
        response = await this.#fetch(last ? prepared : prepared.clone());
      } catch (error) {
        if (prepared.signal.aborted) throw error;
        const networkError = new TesseraError(
          {
            status: 0,
            code: "network-error",
            detail: `${prepared.method} ${prepared.url}: ${error instanceof Error ? error.message : String(error)}`,
          },
          { cause: error },
        );
        if (last || !safe) throw networkError;
        await this.#wait(attempt, undefined, started, "network error", prepared.signal, networkError);
        continue;
      }
      // A 429 was refused before anything ran: safe to repeat even without a key.
      if (last || !retryableStatus(response) || (!safe && response.status !== 429)) return response;
      const retryAfter = retryAfterOf(response);
      const waited = await this.#wait(
        attempt,
        retryAfter,
        started,
        `${response.status}`,
        prepared.signal,
        undefined,
      ).then(
        () => true,
        () => false,
      );
      if (!waited) return response;
      await response.body?.cancel().catch(() => {});
    }
  };

  /** Waits before the next attempt, or throws (`failure`, or a refusal) when the deadline does not allow it. */
  async #wait(
    attempt: number,
    retryAfterSeconds: number | undefined,
    started: number,
    reason: string,
    signal: AbortSignal,
    failure: TesseraError | undefined,
  ): Promise<void> {
    const policy = this.#retry ?? DEFAULT_RETRY;
    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt) * Math.random();
    const delayMs = Math.max(backoff, (retryAfterSeconds ?? 0) * 1000);
    if (Date.now() - started + delayMs > policy.deadlineMs) throw failure ?? new Error("deadline");
    this.#onRetry?.({ attempt: attempt + 1, delayMs, reason });
    await sleep(delayMs, signal);
  }
}
