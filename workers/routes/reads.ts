/**
 * The query side: single-document reads at the consistency the request asks for, history, and collection
 * queries on the read model.
 */
import { emptyToken, recordRead, withBookmark } from "../../domain/consistency-token";
import { etagFor, evaluatePreconditions } from "../../domain/preconditions";
import { applyCursor, encodeCursor, parseQuery } from "../../domain/query";
import { dbFor } from "../../platform/databases";
import { withTimeout } from "../../platform/timeout";
import { configOf } from "../config";
import { consistencyFrom, tokenFrom, tokenHeader } from "../consistency";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { badRequest } from "../http/problem";
import { jsonResponse, renderRead } from "../http/render";
import { hasQuery, preconditionsFrom } from "../http/request";
import { parseWith } from "../http/validate";
import { startBackfill } from "../maintenance/start";
import { orUnavailable } from "../read-model/d1";
import { assertIndexReady } from "../read-model/index-readiness";
import { runQuery } from "../read-model/queries";
import {
  queryReadModel,
  READ_MODEL_TIMEOUT_MS,
  readPreferringModel,
  readPrimary,
} from "../read-model/read-source";
import { pageSize, toEnvelopeJson } from "../read-model/states";
import {
  CollectionQuery,
  DEFAULT_HISTORY_LIMIT,
  DocumentParams,
  HistoryPage,
  HistoryQuery,
  QueryPage,
  ReadHeaders,
  ReadQuery,
} from "../schemas";
import { needs } from "../security/principal";
import { collectionOf, documentKey } from "../security/tenancy";
import { envelope, headers, JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

const consistencyDoc =
  "Consistency: strong reads the document's object; eventual (default) the read model. A Consistency-Token from " +
  "a write guarantees the read is at least that new. Read-Source says which answered.";

export const readRoutes: Route[] = [
  route(
    {
      operationId: "getDocument",
      method: "get",
      path: "/v1/{collection}/{id}",
      summary: "Read a document, or the document as it was at ?version=N",
      description: consistencyDoc,
      request: { params: DocumentParams, query: ReadQuery, headers: ReadHeaders },
      responses: {
        200: envelope("the document", "Read-Source", "Consistency-Token"),
        304: {
          description: "If-None-Match matched",
          headers: headers("ETag", "Read-Source", "X-Request-Id"),
        },
        ...problems(400, 404, 503),
      },
    },
    needs("read"),
    async (c) => {
      const key = documentKey(c);
      const { version } = hasQuery(c.req.url) ? parseWith(ReadQuery, c.req.query(), "query parameter") : {};
      const preconditions = preconditionsFrom(c.req.raw.headers);
      const token = tokenFrom(c.req.raw.headers);
      const strong = consistencyFrom(c.req.raw) === "strong" || version !== undefined;
      const { result, source, bookmark } = strong
        ? await readPrimary(c.env, key, version)
        : await readPreferringModel(c.env, key, token);
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
    },
  ),
  route(
    {
      operationId: "getDocumentHistory",
      method: "get",
      path: "/v1/{collection}/{id}/_history",
      summary: "A document's events in version order, paginated",
      request: { params: DocumentParams, query: HistoryQuery },
      responses: {
        200: { description: "a page of events", content: { [JSON_TYPE]: { schema: HistoryPage } } },
        ...problems(400, 404, 503),
      },
    },
    needs("read"),
    async (c) => {
      const key = documentKey(c);
      const query = parseWith(HistoryQuery, c.req.query(), "query parameter");
      const result = await callDocument(
        () => documentStub(c.env.DOCUMENTS, key),
        (stub) => stub.history(key, { after: query.after ?? 0, limit: query.limit ?? DEFAULT_HISTORY_LIMIT }),
        { ...DEFAULT_RETRY, idempotent: true },
      );
      const source = { "Read-Source": "primary" };
      if (result.kind === "not-found") return renderRead(key, { kind: "not-found", deleted: false }, source);
      return jsonResponse({ items: result.events, next: result.next }, 200, source);
    },
  ),
  route(
    {
      operationId: "queryCollection",
      method: "get",
      path: "/v1/{collection}",
      summary: "Query a collection on the read model (declared indexes only)",
      description:
        "where[field]=v or where[field][op]=v with op in eq, ne, gt, gte, lt, lte, in (comma-separated), prefix; " +
        "order=field or -field (default id); limit (1-200); cursor from the previous page's next.",
      request: {
        params: DocumentParams.pick({ collection: true }),
        query: CollectionQuery,
        headers: ReadHeaders.pick({ "Consistency-Token": true, "X-Request-Id": true }),
      },
      responses: {
        200: {
          description: "a page of documents",
          content: { [JSON_TYPE]: { schema: QueryPage } },
          headers: headers("Read-Source", "X-Request-Id"),
        },
        ...problems(400, 503),
      },
    },
    needs("read"),
    async (c) => {
      const { tenant, collection } = collectionOf(c);
      if (consistencyFrom(c.req.raw) === "strong") {
        throw badRequest(
          "invalid-consistency",
          "queries are served by the read model; read single documents with Consistency: strong",
        );
      }
      const params = new URL(c.req.url).searchParams;
      const parsed = parseQuery(collection, params);
      if (!parsed.ok) throw badRequest(parsed.code, parsed.detail);
      const cursor = params.get("cursor");
      const query = cursor === null ? parsed.query : applyCursor(parsed.query, cursor);
      if (query === null)
        throw badRequest("invalid-cursor", "the cursor is malformed or belongs to another query");
      const bookmark = tokenFrom(c.req.raw.headers)?.bookmark;
      const db = await orUnavailable("tenant's database", () => dbFor(c.env, tenant));
      if (query.filters.length > 0 || query.order !== null) {
        const check = assertIndexReady(db, tenant, collection, Date.now(), (t, col, signature) =>
          startBackfill(c.env, { tenant: t, collection: col, signature }),
        );
        await orUnavailable("index readiness", () =>
          withTimeout(check, READ_MODEL_TIMEOUT_MS, "the read model"),
        );
      }
      const rows = await queryReadModel(db, bookmark, (s) => runQuery(s, tenant, query));
      const page = rows.slice(0, pageSize(rows, query.limit, configOf(c.env).maxDocumentBytes));
      const last = page.at(-1);
      const next =
        rows.length > page.length && last !== undefined
          ? encodeCursor(query, {
              value: query.order === null ? null : last[`k${query.order.slot}` as "k0"],
              id: last.id,
            })
          : null;
      const items = await orUnavailable(
        "query states",
        () => Promise.all(page.map((row) => toEnvelopeJson(c.env.ARCHIVE, row))),
        "a state of this page could not be loaded; retry later",
      );
      return new Response(`{"items":[${items.join(",")}],"next":${JSON.stringify(next)}}`, {
        headers: { "Content-Type": "application/json", "Read-Source": "read-model" },
      });
    },
  ),
];
