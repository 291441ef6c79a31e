/** Atomic multi-document transactions: POST /v1/_transactions, run by one coordinator object each (2PC). */
import { z } from "@hono/zod-openapi";
import { emptyToken, encodeToken, recordWrite } from "../../domain/consistency-token";
import { sha256Hex } from "../../domain/digest";
import { canonicalJson, type JsonValue } from "../../domain/json";
import { MAX_TRANSACTION_OPERATIONS, parseTransaction } from "../../domain/transaction";
import type { TransactionOutcome } from "../../domain/transaction-outcome";
import { admit } from "../admission";
import { tokenFrom } from "../consistency";
import { readBodyText, requireMediaType } from "../http/body";
import { badRequest, HttpProblem } from "../http/problem";
import { jsonResponse } from "../http/render";
import { idempotencyKeyFrom } from "../http/request";
import { registry } from "../metrics/registry";
import { needs } from "../security/principal";
import { checkCollection, tenantPrincipal } from "../security/tenancy";
import { runTransaction } from "../transactions-client";
import { headers, JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

/** The largest transaction request: its operations' documents together (each still within MAX_DOCUMENT_BYTES). */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

const Operation = z
  .object({
    op: z.enum(["put", "patch", "delete", "check"]),
    collection: z.string(),
    id: z.string(),
    data: z.record(z.string(), z.unknown()).optional().openapi({ description: "put: the document" }),
    merge: z.record(z.string(), z.unknown()).optional().openapi({ description: "patch: a JSON Merge Patch" }),
    patch: z.array(z.unknown()).optional().openapi({ description: "patch: a JSON Patch (with increment)" }),
    ifMatch: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: "only if the document is at this version" }),
    exists: z
      .boolean()
      .optional()
      .openapi({ description: "only if the document exists (true) or not (false)" }),
  })
  .openapi("TransactionOperation");

const TransactionRequest = z
  .object({ operations: z.array(Operation).min(1).max(MAX_TRANSACTION_OPERATIONS) })
  .openapi("TransactionRequest");

const TransactionResponse = z
  .object({
    txId: z.string(),
    results: z.array(
      z.object({
        index: z.number().int(),
        collection: z.string(),
        id: z.string(),
        version: z
          .number()
          .int()
          .nullable()
          .openapi({ description: "the version written; null for a check" }),
      }),
    ),
  })
  .openapi("TransactionResult");

/** How an aborted transaction answers: 409 when its operations cannot apply now, 503 when it could not finish. */
function problemFor(
  outcome: Extract<TransactionOutcome, { kind: "aborted" }>,
  extra: Record<string, string>,
) {
  const { code, detail, kind: _kind, ...fields } = outcome;
  const unavailable = code === "transaction-unavailable" || code === "transaction-interrupted";
  const retry: Record<string, string> =
    unavailable || code === "transaction-conflict" ? { "Retry-After": "1" } : {};
  const { index, replayed: _replayed, ...rest } = fields as typeof fields & { replayed?: boolean };
  const extensions = { ...rest, ...(index === undefined ? {} : { operation: index }) };
  return unavailable
    ? new HttpProblem(503, code, "Service Unavailable", detail, extensions, { ...extra, ...retry })
    : new HttpProblem(409, code, "Conflict", detail, extensions, { ...extra, ...retry });
}

export const transactionRoutes: Route[] = [
  route(
    {
      operationId: "runTransaction",
      method: "post",
      path: "/v1/_transactions",
      summary: "Apply up to 100 writes and checks on documents of your tenant, all or nothing",
      description:
        "Two-phase commit across the documents' objects. 200 when every operation applied; 409 naming the " +
        "operation (index) and its reason when one cannot, and then nothing is applied anywhere. An " +
        "Idempotency-Key makes a retry replay the first outcome. The read model shows the transaction's writes " +
        "all at once.",
      request: {
        headers: z.object({
          "Idempotency-Key": z
            .string()
            .optional()
            .openapi({ param: { name: "Idempotency-Key", in: "header" } }),
          "Consistency-Token": z
            .string()
            .optional()
            .openapi({ param: { name: "Consistency-Token", in: "header" } }),
        }),
        body: { content: { [JSON_TYPE]: { schema: TransactionRequest } }, required: true },
      },
      responses: {
        200: {
          description: "committed: every write applied",
          content: { [JSON_TYPE]: { schema: TransactionResponse } },
          headers: headers("Consistency-Token", "Idempotent-Replayed", "X-Request-Id"),
        },
        ...problems(400, 409, 413, 415, 422, 503),
      },
    },
    needs("write"),
    async (c) => {
      const principal = tenantPrincipal(c);
      requireMediaType(c.req.header("content-type"), [JSON_TYPE]);
      const text = await readBodyText(c.req.raw, MAX_TRANSACTION_BYTES);
      let body: JsonValue;
      try {
        body = JSON.parse(text) as JsonValue;
      } catch (error) {
        throw badRequest("malformed-json", `the request body is not valid JSON: ${(error as Error).message}`);
      }
      const parsed = parseTransaction(principal.tenant, body);
      if (!parsed.ok) {
        throw badRequest(
          "invalid-transaction",
          parsed.detail,
          parsed.index === undefined ? {} : { operation: parsed.index },
        );
      }
      for (const op of parsed.operations) checkCollection(principal, op.key.collection);
      const lag = admit(
        c,
        parsed.operations.filter((op) => op.body !== null).map((op) => op.key.collection),
      );
      const idempotencyKey = idempotencyKeyFrom(c.req.raw.headers);
      const fingerprint = await sha256Hex(canonicalJson(body));
      const result = await runTransaction(
        c.env,
        principal.tenant,
        parsed.operations,
        fingerprint,
        idempotencyKey,
      );
      const outcome = result.kind === "aborted" ? result.code : result.kind;
      registry.inc("tessera_transactions_total", { outcome, tenant: principal.tenant });
      const token = tokenFrom(c.req.raw.headers) ?? emptyToken();
      if (result.kind === "fingerprint-mismatch") {
        throw new HttpProblem(
          422,
          "idempotency-key-reused",
          "Unprocessable Content",
          "this Idempotency-Key was already used for a different transaction",
        );
      }
      const replayed: Record<string, string> = result.replayed
        ? { "Idempotent-Replayed": "true", ...lag }
        : lag;
      if (result.kind === "aborted") {
        throw problemFor(result, { "Consistency-Token": encodeToken(token), ...replayed });
      }
      let carried = token;
      for (const r of result.results) {
        if (r.version !== null) carried = recordWrite(carried, r, r.version, result.replayed);
      }
      const results = result.results.map(({ index, collection, id, version }) => ({
        index,
        collection,
        id,
        version,
      }));
      return jsonResponse({ txId: result.txId, results }, 200, {
        "Consistency-Token": encodeToken(carried),
        ...replayed,
      });
    },
  ),
];
