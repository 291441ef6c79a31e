/**
 * The ergonomic layer over openapi-fetch: collections, queries, the change feed, transactions, sagas, the
 * operator's routes and bulk transfer. Every request goes through openapi-fetch with the types generated from
 * the OpenAPI document, and through the Transport (credential, safe retries) and the Session (read your writes).
 */
import createClient, { type Client } from "openapi-fetch";
import { errorOf, TesseraError } from "./errors.js";
import type { paths } from "./generated/openapi.js";
import { ndjsonLines } from "./ndjson.js";
import { type DocumentRef, Session, type Ticket } from "./session.js";
import {
  type FetchFunction,
  type KeySource,
  newIdempotencyKey,
  type RetryOptions,
  Transport,
} from "./transport.js";
import type {
  AuditEntry,
  Change,
  Collections,
  Consistency,
  CreatedKey,
  DeadLetter,
  Doc,
  DocumentData,
  ExportEnd,
  ExportedDocument,
  ExportStart,
  HistoryEvent,
  ImportRefusal,
  ImportResult,
  JsonPatchOperation,
  KeyInfo,
  NewKeyRequest,
  Operator,
  Saga,
  SagaStarted,
  SagaStatus,
  Stats,
  TransactionOperation,
  TransactionResult,
} from "./types.js";

export interface TesseraOptions {
  /** The service's URL, e.g. `https://tessera.example.com` or `http://localhost:8787`. */
  readonly url: string;
  /** An API key (`tsk_…`), a JWT, or a function that returns one (called for every request). */
  readonly key?: KeySource | undefined;
  /** The fetch to send requests with (default: the global one); a Worker can pass a service binding's. */
  readonly fetch?: FetchFunction | undefined;
  /** The default read consistency: `session` (read your own writes; the default), `strong` or `eventual`. */
  readonly consistency?: Consistency | undefined;
  /** Automatic retries of what is safe to repeat; `false` turns them off. */
  readonly retry?: RetryOptions | false | undefined;
  /** A Consistency-Token to start the session from (another client's `db.token`). */
  readonly token?: string | undefined;
  /** Headers sent with every request. */
  readonly headers?: Record<string, string> | undefined;
  readonly onRetry?: ((info: { attempt: number; delayMs: number; reason: string }) => void) | undefined;
}

export interface WriteOptions {
  /** Write only if the document is at this version (`If-Match`); `"*"`: only if it exists. */
  readonly ifMatch?: number | "*" | undefined;
  /** `"*"`: only if it does not exist yet (create-only). */
  readonly ifNoneMatch?: "*" | undefined;
  /** The write's Idempotency-Key; by default a new random one, the same for each automatic retry. */
  readonly idempotencyKey?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ReadOptions {
  readonly consistency?: Consistency | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A value a filter compares with: `in` takes a list. */
export type FilterValue = string | number | boolean;

/** A page of results and the cursor of the next one (null at the end). */
export interface Page<T> {
  readonly items: T[];
  readonly next: string | null;
}

/** Results fetched a page at a time: `for await` over the items, or over `pages()`. */
export class Paged<T> implements AsyncIterable<T> {
  readonly #fetchPage: (cursor: string | undefined) => Promise<Page<T>>;

  constructor(fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
    this.#fetchPage = fetchPage;
  }

  /** One page, from `cursor` (the previous page's `next`) or from the start. */
  page(cursor?: string): Promise<Page<T>> {
    return this.#fetchPage(cursor);
  }

  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.#fetchPage(cursor);
      yield page;
      if (page.next === null) return;
      cursor = page.next;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every item (at most `max`), across pages. */
  async toArray(max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) {
      if (items.length >= max) break;
      items.push(item);
    }
    return items;
  }
}

type Api = Client<paths>;

/** What a typed response gives back, whatever its route. */
interface Answer {
  readonly data?: unknown;
  readonly error?: unknown;
  readonly response: Response;
}

/** The data of a success, or the typed error of a failure. */
function dataOf<A extends Answer>(answer: A): NonNullable<A["data"]> {
  if (!answer.response.ok || answer.data === undefined) {
    if (answer.response.ok) return undefined as unknown as NonNullable<A["data"]>;
    throw errorOf(answer.response, answer.error);
  }
  return answer.data as NonNullable<A["data"]>;
}

const versionOf = (response: Response): number =>
  Number((response.headers.get("etag") ?? "").replaceAll('"', ""));

function writeHeaders(
  options: WriteOptions | undefined,
  carried: Record<string, string>,
): Record<string, string> {
  const headers: Record<string, string> = {
    ...carried,
    "Idempotency-Key": `"${options?.idempotencyKey ?? newIdempotencyKey()}"`,
  };
  if (options?.ifMatch !== undefined)
    headers["If-Match"] = options.ifMatch === "*" ? "*" : `"${options.ifMatch}"`;
  if (options?.ifNoneMatch !== undefined) headers["If-None-Match"] = options.ifNoneMatch;
  return headers;
}

/** A JSON Pointer from a field path: "/a/b" as given, "a.b" or "a" turned into one. */
export function pointerOf(path: string): string {
  if (path.startsWith("/")) return path;
  return `/${path
    .split(".")
    .map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1"))
    .join("/")}`;
}

/** A merge patch (RFC 7396) of a `T`: any of its fields, null to remove one. */
export type MergePatch<T> = { [K in keyof T]?: T[K] | null } & Record<string, unknown>;

/** A collection's documents, typed `T`. */
export class Collection<T = DocumentData> {
  readonly name: string;
  readonly #db: Tessera;

  constructor(db: Tessera, name: string) {
    this.#db = db;
    this.name = name;
  }

  #path(id: string) {
    return { path: { collection: this.name, id } };
  }

  #written(ticket: Ticket, answer: Answer): Doc<T> {
    const doc = dataOf(answer) as Doc<T>;
    this.#db.session.settle(ticket, answer.response, [doc]);
    return doc;
  }

  /**
   * The document, or null when there is none (or it was deleted). Session consistency by default: never older
   * than what this client wrote or read. `version`: as it was at that version (see getVersion).
   */
  async get(id: string, options: ReadOptions & { version?: number } = {}): Promise<Doc<T> | null> {
    const level = options.version === undefined ? (options.consistency ?? this.#db.consistency) : "strong";
    const { headers, ticket } = this.#db.session.readHeaders(this.name, id, level);
    const answer = await this.#db.api.GET("/v1/{collection}/{id}", {
      params: { ...this.#path(id), query: options.version === undefined ? {} : { version: options.version } },
      headers,
      signal: options.signal ?? null,
    });
    if (answer.response.status === 404) {
      this.#db.session.settle(ticket, answer.response, []);
      return null;
    }
    const doc = dataOf(answer) as Doc<T>;
    const primary = answer.response.headers.get("read-source") === "primary";
    if (options.version === undefined) this.#db.session.settle(ticket, answer.response, [doc], primary);
    return doc;
  }

  /** The document as it was at `version`; null when that version is a deletion or does not exist. */
  getVersion(id: string, version: number, options: { signal?: AbortSignal } = {}): Promise<Doc<T> | null> {
    return this.get(id, { version, signal: options.signal });
  }

  /** Creates or replaces the document. */
  async put(id: string, data: T, options?: WriteOptions): Promise<Doc<T>> {
    const { headers, ticket } = this.#db.session.carry();
    const answer = await this.#db.api.PUT("/v1/{collection}/{id}", {
      params: this.#path(id),
      body: data as DocumentData,
      headers: writeHeaders(options, headers),
      signal: options?.signal ?? null,
    });
    return this.#written(ticket, answer);
  }

  /**
   * Creates a document with an id the service chooses. Its Idempotency-Key names the document (its id is derived
   * from the key), so a retry can never create a second one.
   */
  async create(data: T, options?: Omit<WriteOptions, "ifMatch" | "ifNoneMatch">): Promise<Doc<T>> {
    const { headers, ticket } = this.#db.session.carry();
    const answer = await this.#db.api.POST("/v1/{collection}", {
      params: { path: { collection: this.name } },
      body: data as DocumentData,
      headers: writeHeaders(options, headers),
      signal: options?.signal ?? null,
    });
    return this.#written(ticket, answer);
  }

  /**
   * Patches the document: an object is a JSON Merge Patch (RFC 7396: null removes a field), an array a JSON
   * Patch (RFC 6902, with Tessera's `increment`), applied entirely or not at all.
   */
  async patch(
    id: string,
    patch: MergePatch<T> | JsonPatchOperation[],
    options?: WriteOptions,
  ): Promise<Doc<T>> {
    const { headers, ticket } = this.#db.session.carry();
    const json = Array.isArray(patch);
    const answer = await this.#db.api.PATCH("/v1/{collection}/{id}", {
      params: this.#path(id),
      body: patch as DocumentData,
      headers: {
        ...writeHeaders(options, headers),
        "Content-Type": json ? "application/json-patch+json" : "application/merge-patch+json",
      },
      signal: options?.signal ?? null,
    });
    return this.#written(ticket, answer);
  }

  /**
   * Adds `by` to the number at `path` ("stock", "a.b" or a JSON Pointer), atomically: concurrent increments are
   * all applied, none lost. `min` and `max` bound the result (409 patch-bound-exceeded beyond them).
   */
  increment(
    id: string,
    path: string,
    by: number,
    options: WriteOptions & { min?: number; max?: number } = {},
  ): Promise<Doc<T>> {
    const { min, max, ...write } = options;
    const op: JsonPatchOperation = {
      op: "increment",
      path: pointerOf(path),
      value: by,
      ...(min === undefined ? {} : { min }),
      ...(max === undefined ? {} : { max }),
    };
    return this.patch(id, [op], write);
  }

  /** Deletes the document (its history stays); answers the deletion's version. */
  async delete(id: string, options?: WriteOptions): Promise<{ version: number }> {
    const { headers, ticket } = this.#db.session.carry();
    const answer = await this.#db.api.DELETE("/v1/{collection}/{id}", {
      params: this.#path(id),
      headers: writeHeaders(options, headers),
      signal: options?.signal ?? null,
    });
    if (!answer.response.ok) throw errorOf(answer.response, answer.error);
    const version = versionOf(answer.response);
    this.#db.session.settle(ticket, answer.response, [{ collection: this.name, id, version }]);
    return { version };
  }

  /** The document's events in version order, a page (`limit`, up to 1000) at a time, after version `after`. */
  history(
    id: string,
    options: { after?: number; limit?: number; signal?: AbortSignal } = {},
  ): Paged<HistoryEvent> {
    return new Paged(async (cursor) => {
      const after = cursor === undefined ? options.after : Number(cursor);
      const answer = await this.#db.api.GET("/v1/{collection}/{id}/_history", {
        params: {
          ...this.#path(id),
          query: {
            ...(after === undefined ? {} : { after }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          },
        },
        signal: options.signal ?? null,
      });
      const page = dataOf(answer);
      return { items: page.items, next: page.next === null ? null : String(page.next) };
    });
  }

  /** A query on the collection's declared indexes (served by the read model). */
  query(): Query<T> {
    return new Query<T>(this.#db, this.name, {});
  }
}

interface QueryState {
  readonly filters?: ReadonlyArray<readonly [string, Operator, FilterValue | readonly FilterValue[]]>;
  readonly order?: string;
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

/** Field names of `T` a query can name (declared indexes; dotted paths for nested fields). */
export type FieldOf<T> = (keyof T & string) | (string & {});

/**
 * A query, built up immutably: `.where("status", "eq", "open").orderBy("-priority").limit(20)`. `for await` over
 * it gives every matching document, a page at a time; `pages()` gives the pages, `page(cursor)` one.
 */
export class Query<T> extends Paged<Doc<T>> {
  readonly #db: Tessera;
  readonly #collection: string;
  readonly #state: QueryState;

  constructor(db: Tessera, collection: string, state: QueryState) {
    super((cursor) => this.#fetch(cursor));
    this.#db = db;
    this.#collection = collection;
    this.#state = state;
  }

  #with(change: Partial<QueryState>): Query<T> {
    return new Query<T>(this.#db, this.#collection, { ...this.#state, ...change });
  }

  /** A filter on an indexed field; filters combine with AND. `in` takes a list (at most 50 values). */
  where<F extends FieldOf<T>>(field: F, op: "in", values: readonly FilterValue[]): Query<T>;
  where<F extends FieldOf<T>>(field: F, op: Exclude<Operator, "in">, value: FilterValue): Query<T>;
  where(field: string, op: Operator, value: FilterValue | readonly FilterValue[]): Query<T> {
    return this.#with({ filters: [...(this.#state.filters ?? []), [field, op, value] as const] });
  }

  /** Order by an indexed field, `-field` for descending (default: the collection's order, else id). */
  orderBy(field: FieldOf<T> | `-${keyof T & string}`): Query<T> {
    return this.#with({ order: field });
  }

  /** Page size, 1 to 200. */
  limit(n: number): Query<T> {
    return this.#with({ limit: n });
  }

  signal(signal: AbortSignal): Query<T> {
    return this.#with({ signal });
  }

  /** The query string, as the API reads it: where[field][op]=value, order, limit, cursor. */
  #search(cursor: string | undefined): string {
    const params = new URLSearchParams();
    for (const [field, op, value] of this.#state.filters ?? []) {
      const text = Array.isArray(value) ? value.map(String).join(",") : String(value);
      params.append(`where[${field}][${op}]`, text);
    }
    if (this.#state.order !== undefined) params.set("order", this.#state.order);
    if (this.#state.limit !== undefined) params.set("limit", String(this.#state.limit));
    if (cursor !== undefined) params.set("cursor", cursor);
    return params.toString();
  }

  async #fetch(cursor: string | undefined): Promise<Page<Doc<T>>> {
    const { headers } = this.#db.session.carry();
    const answer = await this.#db.api.GET("/v1/{collection}", {
      params: { path: { collection: this.#collection } },
      querySerializer: () => this.#search(cursor),
      headers,
      signal: this.#state.signal ?? null,
    });
    const page = dataOf(answer);
    return { items: page.items as Doc<T>[], next: page.next };
  }
}

export interface ChangesOptions {
  /** Resume after this cursor (a change feed page's `next`, or a stream's `cursor`); default: the beginning. */
  readonly after?: string | undefined;
  readonly collection?: string | undefined;
  /** Changes per request, 1 to 1000 (default 100). */
  readonly limit?: number | undefined;
  /** Long-poll seconds when there is nothing new, up to 30 (default 30). */
  readonly wait?: number | undefined;
  /** Keep following the feed (default); false: stop at its end. */
  readonly follow?: boolean | undefined;
  /** Ends the stream (the iteration returns; no error). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The change feed as an async iterator: every committed version once, in feed order. It long-polls at the end
 * of the feed, and waits and resumes from its cursor when the service is unavailable (a 503 or a network error
 * after the retries); `cursor` is where to resume another time.
 */
export class ChangeStream implements AsyncIterable<Change> {
  #cursor: string | undefined;
  readonly #db: Tessera;
  readonly #options: ChangesOptions;

  constructor(db: Tessera, options: ChangesOptions) {
    this.#db = db;
    this.#options = options;
    this.#cursor = options.after;
  }

  /** The position after the last change this stream gave: pass it as `after` to resume there. */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Change, void, undefined> {
    const { signal } = this.#options;
    const follow = this.#options.follow ?? true;
    let failures = 0;
    while (!signal?.aborted) {
      let page: { changes: Change[]; next: string };
      try {
        const answer = await this.#db.api.GET("/v1/_changes", {
          params: {
            query: {
              ...(this.#cursor === undefined ? {} : { after: this.#cursor }),
              ...(this.#options.collection === undefined ? {} : { collection: this.#options.collection }),
              ...(this.#options.limit === undefined ? {} : { limit: this.#options.limit }),
              ...(follow ? { wait: this.#options.wait ?? 30 } : {}),
            },
          },
          signal: signal ?? null,
        });
        page = dataOf(answer);
        failures = 0;
      } catch (error) {
        if (signal?.aborted) return;
        const transient = error instanceof TesseraError && (error.status === 0 || error.status >= 500);
        if (!transient || !follow) throw error;
        failures += 1;
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), signal);
        continue;
      }
      for (const change of page.changes) {
        this.#cursor = page.next;
        yield change;
      }
      this.#cursor = page.next;
      if (page.changes.length === 0 && !follow) return;
    }
  }
}

const pause = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

const FINISHED: readonly SagaStatus[] = ["completed", "compensated", "failed", "cancelled"];

/** Sagas: start one (declared by name, or from its steps), read, list, cancel, resume, wait for its end. */
export class Sagas {
  readonly #db: Tessera;

  constructor(db: Tessera) {
    this.#db = db;
  }

  /**
   * Starts a saga declared on the server by name with its input (`start("place-order", {...})`), or one from
   * its steps (`start({ steps: [...] })`). Its Idempotency-Key designates the saga: a retry never starts two.
   */
  async start(
    saga: string | { steps: unknown[] },
    input?: Record<string, unknown>,
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<SagaStarted> {
    const headers = writeHeaders(options, {});
    const answer =
      typeof saga === "string"
        ? await this.#db.api.POST("/v1/_sagas/{saga}", {
            params: { path: { saga } },
            body: input ?? {},
            headers,
            signal: options.signal ?? null,
          })
        : await this.#db.api.POST("/v1/_sagas", { body: saga, headers, signal: options.signal ?? null });
    return dataOf(answer);
  }

  /** The saga's status and each step's outcome; null when there is no such saga. */
  async get(id: string, options: { signal?: AbortSignal } = {}): Promise<Saga | null> {
    const answer = await this.#db.api.GET("/v1/_sagas/{saga}", {
      params: { path: { saga: id } },
      signal: options.signal ?? null,
    });
    if (answer.response.status === 404) return null;
    return dataOf(answer);
  }

  /** Stops a running saga: no further step starts, and the completed ones are compensated. */
  async cancel(id: string): Promise<void> {
    const answer = await this.#db.api.POST("/v1/_sagas/{saga}/cancel", {
      params: { path: { saga: id } },
      headers: { "Idempotency-Key": `"${newIdempotencyKey()}"` },
    });
    dataOf(answer);
  }

  /** Resumes a failed saga once its cause is fixed (admin scope). */
  async resume(id: string): Promise<void> {
    const answer = await this.#db.api.POST("/v1/_sagas/{saga}/resume", {
      params: { path: { saga: id } },
      headers: { "Idempotency-Key": `"${newIdempotencyKey()}"` },
    });
    dataOf(answer);
  }

  /** The tenant's sagas, newest first. */
  list(options: { status?: SagaStatus; limit?: number } = {}): Paged<Saga> {
    return new Paged(async (cursor) => {
      const answer = await this.#db.api.GET("/v1/_sagas", {
        params: {
          query: {
            ...(options.status === undefined ? {} : { status: options.status }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
            ...(cursor === undefined ? {} : { cursor }),
          },
        },
      });
      return dataOf(answer);
    });
  }

  /** Waits until the saga has finished (completed, compensated, failed or cancelled), polling its record. */
  async wait(id: string, options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {}) {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const saga = await this.get(id, options.signal === undefined ? {} : { signal: options.signal ?? null });
      if (saga === null) throw new TesseraError({ status: 404, code: "not-found", detail: `no saga ${id}` });
      if (FINISHED.includes(saga.status) || Date.now() > deadline) return saga;
      await pause(options.intervalMs ?? 250, options.signal);
    }
  }
}

/** The operator's and tenant admins' routes: keys, dead letters, statistics, metrics, the audit trail. */
export class Admin {
  readonly #db: Tessera;

  constructor(db: Tessera) {
    this.#db = db;
  }

  readonly keys = {
    /** Creates an API key; the key itself is in this answer only. */
    create: async (spec: NewKeyRequest): Promise<CreatedKey> =>
      dataOf(await this.#db.api.POST("/v1/_admin/keys", { body: spec })),
    list: (options: { tenant?: string; limit?: number } = {}): Paged<KeyInfo> =>
      new Paged(async (cursor) =>
        dataOf(
          await this.#db.api.GET("/v1/_admin/keys", {
            params: { query: { ...options, ...(cursor === undefined ? {} : { before: cursor }) } },
          }),
        ),
      ),
    revoke: async (id: string): Promise<void> => {
      const answer = await this.#db.api.DELETE("/v1/_admin/keys/{id}", { params: { path: { id } } });
      if (!answer.response.ok) throw errorOf(answer.response, answer.error);
    },
  };

  readonly deadLetters = {
    list: (options: { tenant?: string; limit?: number } = {}): Paged<DeadLetter> =>
      new Paged(async (cursor) =>
        dataOf(
          await this.#db.api.GET("/v1/_admin/dead-letters", {
            params: { query: { ...options, ...(cursor === undefined ? {} : { after: cursor }) } },
          }),
        ),
      ),
    /** Sends up to 100 pending dead letters back through the projector. */
    redrive: async (options: { tenant?: string } = {}): Promise<{ redriven: number; remaining: number }> =>
      dataOf(await this.#db.api.POST("/v1/_admin/dead-letters/redrive", { params: { query: options } })),
  };

  async stats(options: { tenant?: string } = {}): Promise<Stats> {
    return dataOf(await this.#db.api.GET("/v1/_stats", { params: { query: options } }));
  }

  /** GET /metrics, in Prometheus's text format. */
  async metrics(options: { tenant?: string } = {}): Promise<string> {
    const answer = await this.#db.api.GET("/metrics", { params: { query: options }, parseAs: "text" });
    if (!answer.response.ok) throw errorOf(answer.response, answer.error);
    return answer.data ?? "";
  }

  audit(options: { tenant?: string; limit?: number } = {}): Paged<AuditEntry> {
    return new Paged(async (cursor) => {
      const page = dataOf(
        await this.#db.api.GET("/v1/_admin/audit", {
          params: { query: { ...options, ...(cursor === undefined ? {} : { after: Number(cursor) }) } },
        }),
      );
      return { items: page.items, next: page.next === null ? null : String(page.next) };
    });
  }
}

/** An export as it streams in: its position, then its documents (`for await`), or its raw lines. */
export class Export implements AsyncIterable<ExportedDocument> {
  /** The change-feed position the export is consistent as of. */
  readonly position: string;
  /** About how many documents follow. */
  readonly estimate: number;
  readonly #lines: AsyncIterator<string>;
  #end: ExportEnd | undefined;

  constructor(start: ExportStart, lines: AsyncIterator<string>) {
    this.position = start.position;
    this.estimate = start.estimate;
    this.#lines = lines;
  }

  /** The last line, once the export has been read to its end. */
  get end(): ExportEnd | undefined {
    return this.#end;
  }

  /** The document lines as sent (JSON text, no newline); throws export-incomplete if the body was cut short. */
  async *lines(): AsyncGenerator<string, void, undefined> {
    for (;;) {
      const next = await this.#lines.next();
      if (next.done === true) break;
      if (next.value.startsWith('{"tessera":"end"')) {
        this.#end = JSON.parse(next.value) as ExportEnd;
        return;
      }
      yield next.value;
    }
    throw new TesseraError({
      status: 0,
      code: "export-incomplete",
      detail: "the export ended before its last line: it was cut short; export again",
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ExportedDocument, void, undefined> {
    for await (const line of this.lines()) yield JSON.parse(line) as ExportedDocument;
  }
}

export interface ImportOptions {
  /** Names the import: the same id and line numbers replay instead of applying twice (derive it from the file). */
  readonly importId: string;
  /** The number in the file of the first line given (default 1): to resume from a line. */
  readonly firstLine?: number;
  /** Lines per request (default 500, at most 1000). */
  readonly chunkLines?: number;
  /** Bytes per request (default 3 MiB; the service takes 4 MiB). */
  readonly chunkBytes?: number;
  /** At most this many lines per second (default: as fast as the service answers). */
  readonly linesPerSecond?: number | undefined;
  /** After each chunk: its result, and the number of the next line to send. */
  readonly onChunk?:
    | ((result: ImportResult, nextLine: number, bytes: number) => void | Promise<void>)
    | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ImportTotals {
  readonly lines: number;
  readonly written: number;
  readonly replayed: number;
  readonly skipped: number;
  readonly refused: ImportRefusal[];
}

/** A client of one Tessera service: `tessera({ url, key })`. */
export class Tessera {
  readonly api: Api;
  readonly session: Session;
  readonly consistency: Consistency;
  readonly sagas: Sagas;
  readonly admin: Admin;
  readonly #transport: Transport;

  constructor(options: TesseraOptions) {
    this.#transport = new Transport(options);
    this.api = createClient<paths>({ baseUrl: options.url.replace(/\/+$/, ""), fetch: this.#transport.send });
    this.session = new Session(options.token);
    this.consistency = options.consistency ?? "session";
    this.sagas = new Sagas(this);
    this.admin = new Admin(this);
  }

  /** The session's Consistency-Token: another client started with it reads this one's writes. */
  get token(): string | undefined {
    return this.session.token;
  }

  /** A declared collection, typed by its schema on the server. */
  collection<K extends keyof Collections & string>(name: K): Collection<Collections[K]>;
  /** Any collection, with the document type you give (default: any JSON object). */
  collection<T = DocumentData>(name: string): Collection<T>;
  collection(name: string): Collection<unknown> {
    return new Collection(this, name);
  }

  /** The change feed, followed: `for await (const change of db.changes({ after }))`. */
  changes(options: ChangesOptions = {}): ChangeStream {
    return new ChangeStream(this, options);
  }

  /**
   * Up to 100 writes and checks on documents, all applied or none (409 transaction-aborted names the operation
   * that cannot apply in `problem.operation`). Its Idempotency-Key makes a retry replay the first outcome.
   */
  async transaction(
    operations: TransactionOperation[],
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<TransactionResult> {
    const { headers, ticket } = this.session.carry();
    const answer = await this.api.POST("/v1/_transactions", {
      body: { operations },
      headers: writeHeaders(options, headers),
      signal: options.signal ?? null,
    });
    const result = dataOf(answer);
    const written = result.results.flatMap(({ collection, id, version }): DocumentRef[] =>
      version === null ? [] : [{ collection, id, version }],
    );
    this.session.settle(ticket, answer.response, written);
    return result;
  }

  /** Exports the tenant's documents (or one collection's), consistent as of one change-feed position. */
  async export(options: { collection?: string; signal?: AbortSignal } = {}): Promise<Export> {
    const answer = await this.api.GET("/v1/_export", {
      params: { query: options.collection === undefined ? {} : { collection: options.collection } },
      parseAs: "stream",
      signal: options.signal ?? null,
    });
    if (!answer.response.ok || answer.data === null || answer.data === undefined) {
      throw errorOf(answer.response, answer.error);
    }
    const lines = ndjsonLines(answer.data)[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done === true) {
      throw new TesseraError({ status: 0, code: "export-incomplete", detail: "the export's body was empty" });
    }
    return new Export(JSON.parse(first.value) as ExportStart, lines);
  }

  /** Sends one chunk of NDJSON lines (at most 1000) as a part of import `importId` starting at line `firstLine`. */
  async importChunk(
    lines: readonly string[],
    options: { importId: string; firstLine: number; signal?: AbortSignal },
  ) {
    const answer = await this.api.POST("/v1/_import", {
      params: { header: { "Import-Id": options.importId, "Import-Line": options.firstLine } },
      body: `${lines.join("\n")}\n`,
      bodySerializer: (body: string) => body,
      headers: {
        "Content-Type": "application/x-ndjson",
        "Idempotency-Key": `"${options.importId}:${options.firstLine}"`,
      },
      signal: options.signal ?? null,
    });
    return dataOf(answer);
  }

  /**
   * Imports NDJSON lines ({collection, id, data} each; an export's lines do) in chunks, idempotently: every line's
   * write is keyed by `importId` and its number, so running the same import again (after an interruption)
   * applies nothing twice. A chunk whose lines were refused for a passing reason is sent again (those replay).
   */
  async import(
    source: AsyncIterable<string> | Iterable<string>,
    options: ImportOptions,
  ): Promise<ImportTotals> {
    const chunkLines = Math.min(1000, options.chunkLines ?? 500);
    const chunkBytes = options.chunkBytes ?? 3 * 1024 * 1024;
    const totals = { lines: 0, written: 0, replayed: 0, skipped: 0, refused: [] as ImportRefusal[] };
    let first = options.firstLine ?? 1;
    let chunk: string[] = [];
    let bytes = 0;
    const encoder = new TextEncoder();
    const started = Date.now();
    let sent = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      if (options.linesPerSecond !== undefined && options.linesPerSecond > 0) {
        const due = started + (sent * 1000) / options.linesPerSecond;
        if (due > Date.now()) await pause(due - Date.now(), options.signal);
      }
      sent += chunk.length;
      let result: ImportResult | undefined;
      // Lines refused for a passing reason (an overloaded or restarting object) are sent again with the chunk,
      // for up to about a minute: the lines already applied replay, so nothing is written twice.
      for (let attempt = 0; attempt < 12; attempt++) {
        result = await this.importChunk(chunk, {
          importId: options.importId,
          firstLine: first,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        if (!result.refused.some((r) => r.retryable) || options.signal?.aborted) break;
        await pause(Math.min(8_000, 250 * 2 ** attempt), options.signal);
      }
      const r = result as ImportResult;
      totals.lines += r.lines;
      totals.written += r.written;
      totals.replayed += r.replayed;
      totals.skipped += r.skipped;
      totals.refused.push(...r.refused);
      first += chunk.length;
      await options.onChunk?.(r, first, bytes);
      chunk = [];
      bytes = 0;
    };
    for await (const line of source) {
      const size = encoder.encode(line).length + 1;
      if (chunk.length >= chunkLines || (chunk.length > 0 && bytes + size > chunkBytes)) await flush();
      chunk.push(line);
      bytes += size;
    }
    await flush();
    return totals;
  }

  /** GET /healthz: whether the service answers at all (no credential needed). */
  async health(): Promise<boolean> {
    const answer = await this.api.GET("/healthz", {});
    return answer.response.ok;
  }
}

/** A client of the Tessera service at `url`, with the credential `key`. */
export function tessera(options: TesseraOptions): Tessera {
  return new Tessera(options);
}
