/** The command side: create, replace, patch and delete single documents. */
import type { Context } from "hono";
import { emptyToken, encodeToken, recordWrite } from "../../domain/consistency-token";
import { sha256Hex } from "../../domain/digest";
import { monotonicIds } from "../../domain/ids";
import type { DocumentKey } from "../../domain/keys";
import type { WriteBody, WriteRequest } from "../../domain/write-request";
import { admit } from "../admission";
import type { AppEnv } from "../app";
import { configOf } from "../config";
import { tokenFrom } from "../consistency";
import { callDocument, DEFAULT_RETRY, documentStub } from "../documents-client";
import { readBodyText, requireMediaType } from "../http/body";
import { renderWrite } from "../http/render";
import { idempotencyKeyFrom, preconditionsFrom } from "../http/request";
import { DocumentData, DocumentParams, JsonPatch, WriteHeaders } from "../schemas";
import { needs } from "../security/principal";
import { collectionOf, documentKey } from "../security/tenancy";
import { envelope, headers, JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

type Ctx = Context<AppEnv>;

const MERGE_PATCH = "application/merge-patch+json";
const JSON_PATCH = "application/json-patch+json";
const newId = monotonicIds();

const written = ["Consistency-Token", "Idempotent-Replayed", "Projection-Lag"] as const;

/** The command side's routes: POST, PUT, PATCH and DELETE of single documents. */
export const documentRoutes: Route[] = [
  route(
    {
      operationId: "createDocument",
      method: "post",
      path: "/v1/{collection}",
      summary: "Create a document with a server-generated, time-ordered id",
      description:
        "With an Idempotency-Key, the id is derived from the key, so a retry can never create a second document",
      request: {
        params: DocumentParams.pick({ collection: true }),
        headers: WriteHeaders,
        body: { content: { [JSON_TYPE]: { schema: DocumentData } }, required: true },
      },
      responses: {
        201: envelope("created", "Location", ...written),
        ...problems(400, 409, 412, 413, 415, 422, 503),
      },
    },
    needs("write"),
    async (c) => {
      const { tenant, collection } = collectionOf(c);
      const { json } = await bodyOf(c, [JSON_TYPE]);
      const idempotencyKey = idempotencyKeyFrom(c.req.raw.headers);
      const id = idempotencyKey === undefined ? newId() : await idForKey(collection, idempotencyKey);
      const key = { tenant, collection, id };
      return write(c, key, { type: "put", json }, { createOnly: true });
    },
  ),
  route(
    {
      operationId: "putDocument",
      method: "put",
      path: "/v1/{collection}/{id}",
      summary: "Create or replace a document",
      request: {
        params: DocumentParams,
        headers: WriteHeaders,
        body: { content: { [JSON_TYPE]: { schema: DocumentData } }, required: true },
      },
      responses: {
        200: envelope("replaced", ...written),
        201: envelope("created", "Location", ...written),
        ...problems(400, 412, 413, 415, 422, 503),
      },
    },
    needs("write"),
    async (c) => {
      const key = documentKey(c);
      const { json } = await bodyOf(c, [JSON_TYPE]);
      return write(c, key, { type: "put", json });
    },
  ),
  route(
    {
      operationId: "patchDocument",
      method: "patch",
      path: "/v1/{collection}/{id}",
      summary: "Patch a document (JSON Merge Patch or JSON Patch with Tessera's increment)",
      request: {
        params: DocumentParams,
        headers: WriteHeaders,
        body: {
          content: { [MERGE_PATCH]: { schema: DocumentData }, [JSON_PATCH]: { schema: JsonPatch } },
          required: true,
        },
      },
      responses: {
        200: envelope("patched", ...written),
        ...problems(400, 404, 409, 412, 413, 415, 422, 503),
      },
    },
    needs("write"),
    async (c) => {
      const key = documentKey(c);
      const { mediaType, json } = await bodyOf(c, [MERGE_PATCH, JSON_PATCH]);
      return write(c, key, { type: mediaType === MERGE_PATCH ? "merge-patch" : "json-patch", json });
    },
  ),
  route(
    {
      operationId: "deleteDocument",
      method: "delete",
      path: "/v1/{collection}/{id}",
      summary: "Delete a document (it becomes a tombstone; its history remains)",
      request: { params: DocumentParams, headers: WriteHeaders },
      responses: {
        204: { description: "deleted", headers: headers("ETag", "X-Request-Id", ...written) },
        ...problems(400, 404, 412, 422, 503),
      },
    },
    needs("write"),
    (c) => write(c, documentKey(c), { type: "delete" }),
  ),
];

/** A write's body as text: one of the accepted media types (415), within the size limit (413), UTF-8 (400). */
async function bodyOf(c: Ctx, accepted: readonly string[]): Promise<{ mediaType: string; json: string }> {
  const mediaType = requireMediaType(c.req.header("content-type"), accepted);
  return { mediaType, json: await readBodyText(c.req.raw, configOf(c.env).maxDocumentBytes) };
}

/** Sends the write to the document's object and renders its answer; the object parses and judges the body. */
async function write(
  c: Ctx,
  key: DocumentKey,
  body: WriteBody,
  options: { createOnly?: boolean } = {},
): Promise<Response> {
  const headers = c.req.raw.headers;
  const idempotencyKey = idempotencyKeyFrom(headers);
  const request: WriteRequest = {
    key,
    body,
    preconditions: preconditionsFrom(headers),
    ...(options.createOnly ? { createOnly: true } : {}),
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  };
  const token = tokenFrom(headers);
  const lag = admit(c, [key.collection]);
  const result = await callDocument(
    () => documentStub(c.env.DOCUMENTS, key),
    (stub) => stub.write(request),
    { ...DEFAULT_RETRY, idempotent: idempotencyKey !== undefined },
  );
  // A committed write joins the token the client sent: read-your-writes from here on. Any other answer hands
  // the client's token back unchanged, so every write response carries one.
  const carried =
    result.kind === "committed"
      ? recordWrite(token ?? emptyToken(), key, result.version, result.replayed)
      : (token ?? emptyToken());
  return renderWrite(key, result, { "Consistency-Token": encodeToken(carried), ...lag });
}

/** The document a POST's Idempotency-Key designates: the same key always names the same id. */
async function idForKey(collection: string, idempotencyKey: string): Promise<string> {
  return `k${(await sha256Hex(`${collection}\n${idempotencyKey}`)).slice(0, 32)}`;
}
