/** The command side: create, replace, patch and delete single documents. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { WriteCommand } from "../../domain/commands";
import { emptyToken, encodeToken, recordWrite } from "../../domain/consistency-token";
import { checkDocument, type WriteOperation } from "../../domain/document";
import { monotonicIds } from "../../domain/ids";
import { depthOf, isObject, type JsonValue, MAX_DEPTH } from "../../domain/json";
import { DEFAULT_TENANT, type DocumentKey } from "../../domain/keys";
import { parseJsonPatch } from "../../domain/patch/json-patch";
import type { AppEnv } from "../app";
import { configOf } from "../config";
import { tokenFrom } from "../consistency";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { readJsonBody, requireMediaType } from "../http/body";
import { badRequest, unprocessable } from "../http/problem";
import { renderWrite } from "../http/render";
import {
  collectionFrom,
  documentKeyFrom,
  idempotencyKeyFrom,
  preconditionsFrom,
  requestFingerprint,
} from "../http/request";
import { DocumentData, DocumentParams, JsonPatch } from "../schemas";
import { envelope, JSON_TYPE, problems } from "./openapi";

type Ctx = Context<AppEnv>;

const MERGE_PATCH = "application/merge-patch+json";
const JSON_PATCH = "application/json-patch+json";
const newId = monotonicIds();

const writeHeaders = "If-Match, If-None-Match and Idempotency-Key are honoured";

const routes = {
  put: createRoute({
    method: "put",
    path: "/v1/{collection}/{id}",
    summary: "Create or replace a document",
    description: writeHeaders,
    request: { params: DocumentParams, body: { content: { [JSON_TYPE]: { schema: DocumentData } } } },
    responses: {
      200: envelope("replaced"),
      201: envelope("created"),
      ...problems(400, 409, 412, 413, 415, 422, 503),
    },
  }),
  post: createRoute({
    method: "post",
    path: "/v1/{collection}",
    summary: "Create a document with a server-generated, time-ordered id",
    description:
      "With an Idempotency-Key, the id is derived from the key, so a retry can never create a second document",
    request: {
      params: DocumentParams.pick({ collection: true }),
      body: { content: { [JSON_TYPE]: { schema: DocumentData } } },
    },
    responses: { 201: envelope("created"), ...problems(400, 409, 413, 415, 422, 503) },
  }),
  patch: createRoute({
    method: "patch",
    path: "/v1/{collection}/{id}",
    summary: "Patch a document (JSON Merge Patch or JSON Patch with Tessera's increment)",
    description: writeHeaders,
    request: {
      params: DocumentParams,
      body: { content: { [MERGE_PATCH]: { schema: DocumentData }, [JSON_PATCH]: { schema: JsonPatch } } },
    },
    responses: { 200: envelope("patched"), ...problems(400, 404, 409, 412, 413, 415, 422, 503) },
  }),
  delete: createRoute({
    method: "delete",
    path: "/v1/{collection}/{id}",
    summary: "Delete a document (it becomes a tombstone; its history remains)",
    description: writeHeaders,
    request: { params: DocumentParams },
    responses: { 204: { description: "deleted" }, ...problems(400, 404, 412, 503) },
  }),
};

export function registerDocumentRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const route of Object.values(routes)) app.openAPIRegistry.registerPath(route);

  app.post("/v1/:collection", async (c) => {
    const collection = collectionFrom(c.req.url);
    const data = await documentBody(c);
    const idempotencyKey = idempotencyKeyFrom(c.req.raw.headers);
    const id = idempotencyKey === undefined ? newId() : await idForKey(collection, idempotencyKey);
    const key = { tenant: DEFAULT_TENANT, collection, id };
    return write(c, key, { type: "put", data }, { createOnly: true, body: data, idempotencyKey });
  });

  app.put("/v1/:collection/:id", async (c) => {
    const key = documentKeyFrom(c.req.url);
    const data = await documentBody(c);
    return write(c, key, { type: "put", data }, { body: data });
  });

  app.patch("/v1/:collection/:id", async (c) => {
    const key = documentKeyFrom(c.req.url);
    const mediaType = requireMediaType(c.req.header("content-type"), [MERGE_PATCH, JSON_PATCH]);
    const body = (await readJsonBody(c.req.raw, configOf(c.env).maxDocumentBytes)) as JsonValue;
    if (depthOf(body) > MAX_DEPTH + 2) {
      throw unprocessable("document-too-deep", `a patch may nest at most ${MAX_DEPTH} levels`);
    }
    let operation: WriteOperation;
    if (mediaType === MERGE_PATCH) {
      if (!isObject(body))
        throw unprocessable("patch-not-object", "a merge patch for a document must be a JSON object");
      operation = { type: "merge-patch", patch: body };
    } else {
      const parsed = parseJsonPatch(body);
      if (!parsed.ok) throw badRequest("malformed-patch", parsed.detail);
      operation = { type: "json-patch", operations: parsed.operations };
    }
    return write(c, key, operation, { body, mediaType });
  });

  app.delete("/v1/:collection/:id", async (c) => {
    const key = documentKeyFrom(c.req.url);
    return write(c, key, { type: "delete" }, {});
  });
}

/** A PUT or POST body: JSON (415 otherwise), within the size limit (413), a valid document (422). */
async function documentBody(c: Ctx) {
  requireMediaType(c.req.header("content-type"), [JSON_TYPE]);
  const limits = configOf(c.env);
  const body = await readJsonBody(c.req.raw, limits.maxDocumentBytes);
  const checked = checkDocument(body, limits);
  if (!checked.ok) throw unprocessable(checked.rejection.code, checked.rejection.detail);
  return checked.data;
}

async function write(
  c: Ctx,
  key: DocumentKey,
  operation: WriteOperation,
  options: {
    body?: JsonValue;
    mediaType?: string;
    createOnly?: boolean;
    idempotencyKey?: string | undefined;
  },
): Promise<Response> {
  const headers = c.req.raw.headers;
  const preconditions = preconditionsFrom(headers);
  const idempotencyKey = options.idempotencyKey ?? idempotencyKeyFrom(headers);
  const command: WriteCommand = {
    key,
    operation,
    preconditions,
    ...(options.createOnly ? { createOnly: true } : {}),
    ...(idempotencyKey === undefined
      ? {}
      : {
          idempotency: {
            key: idempotencyKey,
            fingerprint: await requestFingerprint({
              method: c.req.method,
              target: `${key.collection}/${key.id}`,
              headers,
              ...(options.mediaType === undefined ? {} : { mediaType: options.mediaType }),
              ...(options.body === undefined ? {} : { body: options.body }),
            }),
          },
        }),
  };
  const token = tokenFrom(headers);
  const result = await callDocument(
    () => documentStub(c.env.DOCUMENTS, key),
    (stub) => stub.write(command),
    { ...DEFAULT_RETRY, idempotent: idempotencyKey !== undefined },
  );
  const response = renderWrite(key, result);
  // The token covers this write, merged into the one the client sent: read-your-writes from here on.
  if (result.kind === "committed") {
    response.headers.set(
      "Consistency-Token",
      encodeToken(recordWrite(token ?? emptyToken(), key, result.version, result.replayed)),
    );
  }
  return response;
}

/** The document a POST's Idempotency-Key designates: the same key always names the same id. */
async function idForKey(collection: string, idempotencyKey: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${collection}\n${idempotencyKey}`),
  );
  return `k${[...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
