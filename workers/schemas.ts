/** Request and response schemas, declared once: the routes validate parameters with them and /openapi.json describes them. */
import { z } from "@hono/zod-openapi";
import { COLLECTIONS } from "../domain/collections";
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

/** Bulk export and import (workers/routes/transfer.ts): NDJSON, one JSON object per line. */
export const NDJSON = "application/x-ndjson";
export const MAX_IMPORT_LINES = 1000;
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

export const ExportQuery = z.object({
  collection: z
    .string()
    .regex(NAME)
    .optional()
    .openapi({ description: "export one collection (default: every collection the credential may use)" }),
});

/** A collection's document schema's name among the components: `line-items` is `LineItemsDocument`. */
export function collectionSchemaName(collection: string): string {
  return `${collection
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("")}Document`;
}

/**
 * An exported document of each collection that declares a schema (domain/collections.ts), its data typed by it:
 * the OpenAPI document carries every declared collection's schema as a component (TodosDocument, ...), and a
 * client generated from it knows each collection's document type by its name.
 */
const typedExportLines = Object.entries(COLLECTIONS).flatMap(([name, config]) =>
  config.schema === undefined
    ? []
    : [
        z.object({
          ...Envelope.shape,
          collection: z.literal(name),
          data: (config.schema as z.ZodType).openapi(collectionSchemaName(name), {
            description: `A document of the collection ${name} (its schema in domain/collections.ts)`,
          }),
        }),
      ],
);

export const ExportLine = z
  .union([
    z
      .object({
        tessera: z.literal("export"),
        position: z
          .string()
          .openapi({ description: "the change-feed position the export is consistent as of" }),
        collection: z.string().nullable(),
        estimate: z
          .number()
          .int()
          .openapi({ description: "about how many documents follow (the live documents when it started)" }),
      })
      .openapi({ title: "ExportStart", description: "the first line" }),
    ...typedExportLines,
    Envelope,
    z
      .object({
        tessera: z.literal("end"),
        position: z.string(),
        documents: z.number().int().openapi({ description: "how many document lines were sent" }),
      })
      .openapi({ title: "ExportEnd", description: "the last line: an export without it was cut short" }),
  ])
  .openapi("ExportLine", {
    description:
      "One line of an export: a first line with the position, one document per line in (collection, id) order, " +
      "and a last line with the count",
  });

export const ImportHeaders = z.object({
  "Import-Id": z
    .string()
    .regex(/^[A-Za-z0-9._~:-]{1,128}$/)
    .openapi({
      param: { name: "Import-Id", in: "header" },
      description:
        "names the import (the CLI derives it from the file's hash): each line's write is keyed by it and the " +
        "line's number, so sending a line again replays it instead of applying it twice",
      example: "sha256-3f1c9a",
    }),
  "Import-Line": z
    .string()
    .regex(INTEGER)
    .optional()
    .openapi({
      param: { name: "Import-Line", in: "header" },
      type: "integer",
      description: "the number in the file of the body's first line (default 1)",
    }),
});

export const ImportBody = z.string().openapi("ImportBody", {
  description:
    `NDJSON, at most ${MAX_IMPORT_LINES} lines and ${MAX_IMPORT_BYTES} bytes: one {"collection", "id", "data"} per ` +
    "line (an export's lines do: version and times are ignored, and its first and last lines are skipped)",
  example: '{"collection":"todos","id":"t-1","data":{"title":"write docs"}}\n',
});

export const ImportResult = z
  .object({
    importId: z.string(),
    first: z.number().int().openapi({ description: "the number of the body's first line" }),
    lines: z.number().int().openapi({ description: "lines in the body" }),
    written: z.number().int().openapi({ description: "lines applied by this request" }),
    replayed: z.number().int().openapi({ description: "lines an earlier request of this import applied" }),
    skipped: z.number().int().openapi({ description: "blank lines, and an export's first and last lines" }),
    refused: z.array(
      z.object({
        line: z.number().int(),
        status: z.number().int().openapi({ description: "the status a single write would have had" }),
        code: z.string(),
        detail: z.string(),
        pointer: z.string().optional(),
        retryable: z.boolean().openapi({ description: "true when sending the line again may succeed" }),
      }),
    ),
  })
  .openapi("ImportResult");
