/**
 * The query side: single-document reads at the consistency the request asks for, history, and collection
 * queries on the read model.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ReadResult } from "../../domain/commands";
import { type ConsistencyToken, emptyToken, requirement, withBookmark } from "../../domain/consistency-token";
import type { DocumentKey } from "../../domain/keys";
import { DEFAULT_TENANT } from "../../domain/keys";
import { etagFor, evaluatePreconditions } from "../../domain/preconditions";
import { applyCursor, encodeCursor, parseQuery } from "../../domain/query";
import type { AppEnv } from "../app";
import {
  consistencyFrom,
  READ_MODEL_TIMEOUT_MS,
  readModelBreaker,
  tokenFrom,
  tokenHeader,
} from "../consistency";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { badRequest, HttpProblem, unavailable } from "../http/problem";
import { jsonResponse, renderRead } from "../http/render";
import { collectionFrom, documentKeyFrom, preconditionsFrom } from "../http/request";
import { parseWith } from "../http/validate";
import { readDocument, runQuery, toEnvelopeJson } from "../read-model/reader";
import {
  DEFAULT_HISTORY_LIMIT,
  DocumentParams,
  HistoryPage,
  HistoryQuery,
  QueryPage,
  ReadQuery,
} from "../schemas";
import { withTimeout } from "../timeout";
import { envelope, JSON_TYPE, problems } from "./openapi";

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
    request: { params: DocumentParams, query: ReadQuery },
    responses: {
      200: envelope("the document"),
      304: { description: "If-None-Match matched" },
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
    const { version } = parseWith(ReadQuery, c.req.query(), "query parameter");
    const preconditions = preconditionsFrom(c.req.raw.headers);
    const token = tokenFrom(c.req.raw.headers);
    const strong = consistencyFrom(c.req.raw) === "strong" || version !== undefined;
    const answer = strong ? await fromPrimary(c, key, version) : await fromReadModel(c, key, token);
    const { result, source, bookmark } = answer;
    if (
      result.kind === "found" &&
      evaluatePreconditions(preconditions, result.version, true) === "not-modified"
    ) {
      return new Response(null, {
        status: 304,
        headers: { ETag: etagFor(result.version), "Read-Source": source },
      });
    }
    // Reads hand back the token with the newest D1 bookmark seen, for monotonic reads on the read model.
    const carried =
      token === undefined && !bookmark ? undefined : withBookmark(token ?? emptyToken(), bookmark);
    return renderRead(key, result, {
      "Read-Source": source,
      ...(carried === undefined ? {} : tokenHeader(carried)),
    });
  });

  app.get("/v1/:collection/:id/_history", async (c) => {
    const key = documentKeyFrom(c.req.url);
    const query = parseWith(HistoryQuery, c.req.query(), "query parameter");
    const result = await callDocument(
      () => documentStub(c.env.DOCUMENTS, key),
      (stub) => stub.history(key, { after: query.after ?? 0, limit: query.limit ?? DEFAULT_HISTORY_LIMIT }),
      { ...DEFAULT_RETRY, idempotent: true },
    );
    if (result.kind === "not-found") return renderRead(key, { kind: "not-found", deleted: false }, {});
    return jsonResponse({ items: result.events, next: result.next }, 200, {});
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
    const session = c.env.DB.withSession(tokenFrom(c.req.raw.headers)?.bookmark ?? "first-unconstrained");
    let rows: Awaited<ReturnType<typeof runQuery>>;
    try {
      rows = await withTimeout(runQuery(session, DEFAULT_TENANT, query), READ_MODEL_TIMEOUT_MS);
      readModelBreaker.success();
    } catch (error) {
      readModelBreaker.failure();
      logReadModelFailure(error);
      throw unavailable("read-model-unavailable", "the read model did not answer; retry later", 1);
    }
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const next =
      rows.length > query.limit && last !== undefined
        ? encodeCursor(query, {
            value: query.order === null ? null : last[`k${query.order.slot}` as "k0"],
            id: last.id,
          })
        : null;
    const items = await Promise.all(page.map((row) => toEnvelopeJson(c.env.ARCHIVE, row)));
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
 * The read model answers when it is at least as new as the token requires; otherwise, or when D1 fails or is
 * slow (or the breaker is open), the document's object answers.
 */
async function fromReadModel(c: Ctx, key: DocumentKey, token: ConsistencyToken | undefined): Promise<Answer> {
  const required = token === undefined ? 0 : requirement(token, key);
  if (required === "primary" || !readModelBreaker.allow()) return fromPrimary(c, key);
  const session = c.env.DB.withSession(token?.bookmark ?? "first-unconstrained");
  try {
    const row = await withTimeout(readDocument(session, key), READ_MODEL_TIMEOUT_MS);
    readModelBreaker.success();
    if ((row?.version ?? 0) < required) return fromPrimary(c, key);
    const bookmark = session.getBookmark();
    if (row === null)
      return { result: { kind: "not-found", deleted: false }, source: "read-model", bookmark };
    if (row.deleted === 1)
      return { result: { kind: "not-found", deleted: true }, source: "read-model", bookmark };
    return {
      result: { kind: "found", version: row.version, body: await toEnvelopeJson(c.env.ARCHIVE, row) },
      source: "read-model",
      bookmark,
    };
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    readModelBreaker.failure();
    logReadModelFailure(error);
    return fromPrimary(c, key);
  }
}

function logReadModelFailure(error: unknown): void {
  console.warn(JSON.stringify({ level: "warn", msg: "read model failed", error: String(error) }));
}
