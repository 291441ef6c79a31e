/**
 * The query side: single-document reads at the consistency the request asks for, history, and collection
 * queries on the read model.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ReadResult } from "../../domain/commands";
import {
  type ConsistencyToken,
  emptyToken,
  recordRead,
  requirement,
  withBookmark,
} from "../../domain/consistency-token";
import type { DocumentKey } from "../../domain/keys";
import { DEFAULT_TENANT } from "../../domain/keys";
import { etagFor, evaluatePreconditions } from "../../domain/preconditions";
import { applyCursor, encodeCursor, parseQuery } from "../../domain/query";
import type { AppEnv } from "../app";
import { configOf } from "../config";
import {
  consistencyFrom,
  READ_MODEL_TIMEOUT_MS,
  readModelBreaker,
  tokenFrom,
  tokenHeader,
} from "../consistency";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { badRequest, unavailable } from "../http/problem";
import { jsonResponse, renderRead } from "../http/render";
import { collectionFrom, documentKeyFrom, hasQuery, preconditionsFrom } from "../http/request";
import { parseWith } from "../http/validate";
import { type DocumentRow, pageSize, readDocument, runQuery, toEnvelopeJson } from "../read-model/reader";
import {
  DEFAULT_HISTORY_LIMIT,
  DocumentParams,
  HistoryPage,
  HistoryQuery,
  QueryPage,
  ReadHeaders,
  ReadQuery,
} from "../schemas";
import { withTimeout } from "../timeout";
import { envelope, headers, JSON_TYPE, problems } from "./openapi";

type Ctx = Context<AppEnv>;

const consistencyDoc =
  "Consistency: strong reads the document's object; eventual (default) the read model. A Consistency-Token from " +
  "a write guarantees the read is at least that new. Read-Source says which answered.";

const routes = [
  createRoute({
    method: "get",
    path: "/v1/{collection}/{id}",
    summary: "Read a document, or the document as it was at ?version=N",
    description: consistencyDoc,
    request: { params: DocumentParams, query: ReadQuery, headers: ReadHeaders },
    responses: {
      200: envelope("the document", "Read-Source", "Consistency-Token"),
      304: { description: "If-None-Match matched", headers: headers("ETag", "Read-Source", "X-Request-Id") },
      ...problems(400, 404, 503),
    },
  }),
  createRoute({
    method: "get",
    path: "/v1/{collection}/{id}/_history",
    summary: "A document's events in version order, paginated",
    request: { params: DocumentParams, query: HistoryQuery },
    responses: {
      200: { description: "a page of events", content: { [JSON_TYPE]: { schema: HistoryPage } } },
      ...problems(400, 404, 503),
    },
  }),
  createRoute({
    method: "get",
    path: "/v1/{collection}",
    summary: "Query a collection on the read model (declared indexes only)",
    description:
      "where[field]=v or where[field][op]=v with op in eq, ne, gt, gte, lt, lte, in (comma-separated), prefix; " +
      "order=field or -field (default id); limit (1-200); cursor from the previous page's next.",
    request: { params: DocumentParams.pick({ collection: true }) },
    responses: {
      200: { description: "a page of documents", content: { [JSON_TYPE]: { schema: QueryPage } } },
      ...problems(400, 503),
    },
  }),
];

export function registerReadRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const route of routes) app.openAPIRegistry.registerPath(route);

  app.get("/v1/:collection/:id", async (c) => {
    const key = documentKeyFrom(c.req.url);
    const { version } = hasQuery(c.req.url) ? parseWith(ReadQuery, c.req.query(), "query parameter") : {};
    const preconditions = preconditionsFrom(c.req.raw.headers);
    const token = tokenFrom(c.req.raw.headers);
    const strong = consistencyFrom(c.req.raw) === "strong" || version !== undefined;
    const answer = strong ? await fromPrimary(c, key, version) : await fromReadModel(c, key, token);
    const { result, source, bookmark } = answer;
    // A read hands a client's token back with what it saw: the version it returned (a later read never goes
    // back to an older one) and the newest D1 bookmark (monotonic reads on a read replica).
    let carried = bookmark ? withBookmark(token ?? emptyToken(), bookmark) : token;
    if (carried !== undefined && token !== undefined && result.kind === "found") {
      carried = recordRead(carried, key, result.version);
    }
    const headers = { "Read-Source": source, ...(carried === undefined ? {} : tokenHeader(carried)) };
    if (
      result.kind === "found" &&
      evaluatePreconditions(preconditions, result.version, true) === "not-modified"
    ) {
      return new Response(null, { status: 304, headers: { ETag: etagFor(result.version), ...headers } });
    }
    return renderRead(key, result, headers);
  });

  app.get("/v1/:collection/:id/_history", async (c) => {
    const key = documentKeyFrom(c.req.url);
    const query = parseWith(HistoryQuery, c.req.query(), "query parameter");
    const result = await callDocument(
      () => documentStub(c.env.DOCUMENTS, key),
      (stub) => stub.history(key, { after: query.after ?? 0, limit: query.limit ?? DEFAULT_HISTORY_LIMIT }),
      { ...DEFAULT_RETRY, idempotent: true },
    );
    const source = { "Read-Source": "primary" };
    if (result.kind === "not-found") return renderRead(key, { kind: "not-found", deleted: false }, source);
    return jsonResponse({ items: result.events, next: result.next }, 200, source);
  });

  app.get("/v1/:collection", async (c) => {
    const collection = collectionFrom(c.req.url);
    const params = new URL(c.req.url).searchParams;
    const parsed = parseQuery(collection, params);
    if (!parsed.ok) throw badRequest(parsed.code, parsed.detail);
    const cursor = params.get("cursor");
    const query = cursor === null ? parsed.query : applyCursor(parsed.query, cursor);
    if (query === null)
      throw badRequest("invalid-cursor", "the cursor is malformed or belongs to another query");
    if (!readModelBreaker.allow()) {
      throw unavailable(
        "read-model-unavailable",
        "the read model is unavailable",
        readModelBreaker.retryAfterSeconds(),
      );
    }
    let rows: Awaited<ReturnType<typeof runQuery>>;
    try {
      const bookmark = tokenFrom(c.req.raw.headers)?.bookmark;
      ({ value: rows } = await onReadModel(c.env.DB, bookmark, (s) => runQuery(s, DEFAULT_TENANT, query)));
    } catch (error) {
      logReadModelFailure(error);
      throw unavailable("read-model-unavailable", "the read model did not answer; retry later", 1);
    }
    const page = rows.slice(0, pageSize(rows, query.limit, configOf(c.env).maxDocumentBytes));
    const last = page.at(-1);
    const next =
      rows.length > page.length && last !== undefined
        ? encodeCursor(query, {
            value: query.order === null ? null : last[`k${query.order.slot}` as "k0"],
            id: last.id,
          })
        : null;
    let items: string[];
    try {
      items = await Promise.all(page.map((row) => toEnvelopeJson(c.env.ARCHIVE, row)));
    } catch (error) {
      logReadModelFailure(error);
      throw unavailable("read-model-unavailable", "a state of this page could not be loaded; retry later", 1);
    }
    return new Response(`{"items":[${items.join(",")}],"next":${JSON.stringify(next)}}`, {
      headers: { "Content-Type": "application/json", "Read-Source": "read-model" },
    });
  });
}

interface Answer {
  result: ReadResult;
  source: "primary" | "read-model";
  bookmark?: string | null;
}

async function fromPrimary(c: Ctx, key: DocumentKey, version?: number): Promise<Answer> {
  const result = await callDocument(
    () => documentStub(c.env.DOCUMENTS, key),
    (stub) => stub.read(key, version),
    { ...DEFAULT_RETRY, idempotent: true },
  );
  return { result, source: "primary" };
}

/**
 * Runs a read on the read model through the breaker, with a timeout, in a D1 session that starts from the
 * client's bookmark. A bookmark D1 refuses is dropped and the read tried once more without it: only failures of
 * D1 itself count against the breaker, so no client can open it for everyone. The caller checked allow().
 */
async function onReadModel<T>(
  db: D1Database,
  bookmark: string | undefined,
  run: (session: D1DatabaseSession) => Promise<T>,
): Promise<{ value: T; session: D1DatabaseSession }> {
  const attempt = async (from: string) => {
    const session = db.withSession(from);
    return { value: await withTimeout(run(session), READ_MODEL_TIMEOUT_MS, "the read model"), session };
  };
  try {
    let result: { value: T; session: D1DatabaseSession };
    try {
      result = await attempt(bookmark ?? "first-unconstrained");
    } catch (error) {
      if (bookmark === undefined) throw error;
      result = await attempt("first-unconstrained");
    }
    readModelBreaker.success();
    return result;
  } catch (error) {
    readModelBreaker.failure();
    throw error;
  }
}

/**
 * The read model answers when it is at least as new as the token requires; otherwise, or when D1 fails or is
 * slow (or the breaker is open), the document's object answers.
 */
async function fromReadModel(c: Ctx, key: DocumentKey, token: ConsistencyToken | undefined): Promise<Answer> {
  const required = token === undefined ? 0 : requirement(token, key);
  if (required === "primary" || !readModelBreaker.allow()) return fromPrimary(c, key);
  let found: { value: DocumentRow | null; session: D1DatabaseSession };
  try {
    found = await onReadModel(c.env.DB, token?.bookmark, (session) => readDocument(session, key));
  } catch (error) {
    logReadModelFailure(error);
    return fromPrimary(c, key);
  }
  const row = found.value;
  if ((row?.version ?? 0) < required) return fromPrimary(c, key);
  const bookmark = found.session.getBookmark();
  if (row === null) return { result: { kind: "not-found", deleted: false }, source: "read-model", bookmark };
  if (row.deleted === 1)
    return { result: { kind: "not-found", deleted: true }, source: "read-model", bookmark };
  let body: string;
  try {
    body = await toEnvelopeJson(c.env.ARCHIVE, row);
  } catch (error) {
    // A large state missing from R2 is this row's problem, not D1's: the object has it.
    logReadModelFailure(error);
    return fromPrimary(c, key);
  }
  return { result: { kind: "found", version: row.version, body }, source: "read-model", bookmark };
}

function logReadModelFailure(error: unknown): void {
  console.warn(JSON.stringify({ level: "warn", msg: "read model failed", error: String(error) }));
}
