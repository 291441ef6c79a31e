/** Request and response schemas, declared once: the routes validate parameters with them and /openapi.json describes them. */
import { z } from "@hono/zod-openapi";
import { MAX_ID_BYTES, NAME } from "../domain/keys";
import { JsonPatchDocument } from "../domain/patch/json-patch-schema";
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from "../domain/query";

const INTEGER = /^(0|[1-9][0-9]{0,14})$/;
export const MAX_HISTORY_LIMIT = 1000;
export const DEFAULT_HISTORY_LIMIT = 100;

export const CollectionParam = z
  .string()
  .regex(NAME)
  .openapi({ param: { name: "collection", in: "path" }, example: "todos" });

export const IdParam = z
  .string()
  .min(1)
  .openapi({
    param: { name: "id", in: "path" },
    description: `1 to ${MAX_ID_BYTES} UTF-8 bytes, no '/' or control characters, not '.' or '..'; percent-encoded`,
    example: "order-1",
  });

export const DocumentParams = z.object({ collection: CollectionParam, id: IdParam });

const nonNegativeInt = (description: string) =>
  z
    .string()
    .regex(INTEGER, "must be a non-negative integer")
    .transform(Number)
    .openapi({ description, type: "integer" });

/** `?consistency=`, the query-string twin of the Consistency header (validated where it is read). */
const ConsistencyParam = z
  .string()
  .optional()
  .openapi({ enum: ["strong", "eventual"], description: "as the Consistency header; the header wins" });

export const ReadQuery = z.object({
  version: nonNegativeInt("read the document as it was at this version").optional(),
  consistency: ConsistencyParam,
});

/**
 * A collection query's parameters, for the OpenAPI document (domain/query.ts parses them): `where` is a deep
 * object, `where[status]=open` or `where[priority][gte]=2`.
 */
export const CollectionQuery = z.object({
  where: z
    .record(
      z.string(),
      z.union([
        z.string(),
        z.object({
          eq: z.string().optional(),
          ne: z.string().optional(),
          gt: z.string().optional(),
          gte: z.string().optional(),
          lt: z.string().optional(),
          lte: z.string().optional(),
          in: z.string().optional().openapi({ description: "comma-separated, at most 50 values" }),
          prefix: z.string().optional().openapi({ description: "strings only" }),
        }),
      ]),
    )
    .optional()
    .openapi({
      param: { name: "where", in: "query", style: "deepObject", explode: true },
      description:
        "filters on declared indexed fields, combined with AND: where[field]=value (equality) or " +
        "where[field][op]=value; booleans are true/false",
      example: { status: "open", priority: { gte: "2" } },
    }),
  order: z.string().optional().openapi({
    description: "an indexed field, or -field for descending; default: the collection's, else id",
  }),
  limit: z
    .string()
    .regex(INTEGER)
    .optional()
    .openapi({
      type: "integer",
      description: `page size, 1 to ${MAX_QUERY_LIMIT} (default ${DEFAULT_QUERY_LIMIT})`,
    }),
  cursor: z.string().optional().openapi({ description: "the previous page's next" }),
  consistency: z
    .string()
    .optional()
    .openapi({ enum: ["eventual"], description: "queries are served by the read model: eventual only" }),
});

export const HistoryQuery = z.object({
  after: nonNegativeInt("return events with a version greater than this").optional(),
  limit: nonNegativeInt(`page size, 1 to ${MAX_HISTORY_LIMIT} (default ${DEFAULT_HISTORY_LIMIT})`)
    .refine((n) => n >= 1 && n <= MAX_HISTORY_LIMIT, `must be between 1 and ${MAX_HISTORY_LIMIT}`)
    .optional(),
});

export const DocumentData = z.record(z.string(), z.unknown()).openapi("DocumentData", {
  description:
    "Any JSON object, at most the deployment's MAX_DOCUMENT_BYTES (1 MiB by default), 64 levels deep",
  example: { customer: "ada", total: 42 },
});

export const Envelope = z
  .object({
    collection: z.string(),
    id: z.string(),
    version: z.number().int().min(1),
    data: DocumentData,
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi("Envelope");

export const Problem = z
  .object({
    type: z.string().url(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ description: "stable, machine-readable error code" }),
    currentVersion: z
      .number()
      .int()
      .optional()
      .openapi({ description: "on 412: the document's current version" }),
    pointer: z
      .string()
      .optional()
      .openapi({ description: "on 409/422: JSON Pointer to the offending value" }),
  })
  .openapi("Problem");

export const Event = z
  .object({
    eventId: z.string(),
    tenant: z.string(),
    collection: z.string(),
    id: z.string(),
    version: z.number().int(),
    type: z.enum(["put", "patch", "delete"]),
    data: DocumentData.nullable(),
    committedAt: z.string().datetime(),
    idempotencyKey: z.string().optional(),
    txId: z.string().optional(),
  })
  .openapi("Event");

export const HistoryPage = z
  .object({ items: z.array(Event), next: z.number().int().nullable() })
  .openapi("HistoryPage");

/** The same schema parseJsonPatch validates with (domain/patch/json-patch-schema.ts). */
export const JsonPatch = JsonPatchDocument.openapi("JsonPatch", {
  description: "RFC 6902, every op, plus Tessera's increment: { op, path, value, min?, max? }",
});

export const QueryPage = z
  .object({
    items: z.array(Envelope),
    next: z.string().nullable().openapi({ description: "cursor of the next page" }),
  })
  .openapi("QueryPage");

export const Change = z
  .object({
    seq: z.number().int(),
    collection: z.string(),
    id: z.string(),
    version: z.number().int(),
    type: z.enum(["put", "patch", "delete"]),
    data: DocumentData.nullable(),
    committedAt: z.string().datetime(),
    txId: z
      .string()
      .optional()
      .openapi({ description: "the transaction that wrote it; a transaction's changes are consecutive" }),
  })
  .openapi("Change");

export const ChangesPage = z
  .object({
    changes: z.array(Change),
    next: z.string().openapi({ description: "cursor to resume from, also at the end of the feed" }),
  })
  .openapi("ChangesPage");

export const ChangesQuery = z.object({
  after: z.string().optional().openapi({ description: "cursor from a previous page's next" }),
  limit: z
    .string()
    .regex(INTEGER)
    .transform(Number)
    .optional()
    .openapi({ type: "integer", description: "1 to 1000, default 100" }),
  collection: z
    .string()
    .regex(new RegExp(`${NAME.source}|^_sagas$`))
    .optional()
    .openapi({ description: "one collection's changes (_sagas: the tenant's saga records)" }),
  wait: z
    .string()
    .regex(INTEGER)
    .transform(Number)
    .optional()
    .openapi({ type: "integer", description: "long-poll seconds, at most 30" }),
});

export const Stats = z
  .object({
    lagMs: z.object({ p50: z.number().nullable(), p99: z.number().nullable(), window: z.number().int() }),
    eventsProjected: z.number().int(),
    deadLettersPending: z.number().int(),
    documents: z.number().int(),
    heldEvents: z
      .number()
      .int()
      .openapi({ description: "events held until their transaction is whole in the read model" }),
  })
  .openapi("Stats");

export const DeadLetter = z
  .object({
    messageId: z.string(),
    body: z.unknown(),
    attempts: z.number().int(),
    deaths: z
      .number()
      .int()
      .openapi({ description: "how many times this event reached the dead-letter queue" }),
    receivedAt: z.string().datetime(),
  })
  .openapi("DeadLetter");

export const Health = z.object({ status: z.literal("ok") }).openapi("Health");

export const Readiness = z
  .object({
    status: z.literal("ready"),
    checks: z.object({ d1: z.string(), r2: z.string(), queue: z.string(), objects: z.string() }),
  })
  .openapi("Readiness");

/** Request headers the document routes honour; parsed by workers/http/request.ts, documented here. */
const header = (name: string, description: string, example?: string) =>
  z
    .string()
    .optional()
    .openapi({ param: { name, in: "header" }, description, ...(example === undefined ? {} : { example }) });

export const WriteHeaders = z.object({
  "If-Match": header(
    "If-Match",
    'write only if the document is at one of these versions ("3") or exists (*)',
    '"3"',
  ),
  "If-None-Match": header("If-None-Match", "* makes the write create-only", "*"),
  "Idempotency-Key": header(
    "Idempotency-Key",
    "1 to 255 printable ASCII characters; a retry with the same key replays the first answer",
    '"8e03978e-40d5"',
  ),
  "Consistency-Token": header(
    "Consistency-Token",
    "the token from earlier responses; the answer carries it on",
  ),
  "X-Request-Id": header("X-Request-Id", "echoed back; generated when absent or malformed"),
});

export const ReadHeaders = z.object({
  Consistency: header("Consistency", "strong (the document's object) or eventual (the read model, default)"),
  "If-None-Match": header("If-None-Match", "304 when the current version is one of these"),
  "Consistency-Token": header(
    "Consistency-Token",
    "never answer with a version older than the token covers; the answer carries it on, with what it saw",
  ),
  "X-Request-Id": header("X-Request-Id", "echoed back; generated when absent or malformed"),
});

/** Response headers, by name, for the route declarations. */
export const RESPONSE_HEADERS = {
  ETag: { description: 'the version as a strong entity tag: "3"', schema: { type: "string" as const } },
  Location: { description: "the created document's URL", schema: { type: "string" as const } },
  "Consistency-Token": {
    description: "carry it to later requests for read-your-writes and monotonic reads",
    schema: { type: "string" as const },
  },
  "Read-Source": { description: "read-model or primary", schema: { type: "string" as const } },
  "Idempotent-Replayed": {
    description: "true when this is the stored answer to an earlier request with the same Idempotency-Key",
    schema: { type: "string" as const },
  },
  "X-Request-Id": { description: "this request's id, as logged", schema: { type: "string" as const } },
  "Retry-After": { description: "seconds to wait before retrying", schema: { type: "string" as const } },
  "Projection-Lag": {
    description:
      "how far behind the read model is, in ms: slow down as it grows (collections that opt in refuse writes past a bound)",
    schema: { type: "string" as const },
  },
};
