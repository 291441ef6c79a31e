/** Request and response schemas, declared once: the routes validate parameters with them and /openapi.json describes them. */
import { z } from "@hono/zod-openapi";

const INTEGER = /^(0|[1-9][0-9]{0,14})$/;
export const MAX_HISTORY_LIMIT = 1000;
export const DEFAULT_HISTORY_LIMIT = 100;

export const CollectionParam = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/)
  .openapi({ param: { name: "collection", in: "path" }, example: "todos" });

export const IdParam = z
  .string()
  .min(1)
  .openapi({
    param: { name: "id", in: "path" },
    description: "1 to 512 UTF-8 bytes, no '/' or control characters, not '.' or '..'; percent-encoded",
    example: "order-1",
  });

export const DocumentParams = z.object({ collection: CollectionParam, id: IdParam });

const nonNegativeInt = (description: string) =>
  z
    .string()
    .regex(INTEGER, "must be a non-negative integer")
    .transform(Number)
    .openapi({ description, type: "integer" });

export const ReadQuery = z.object({
  version: nonNegativeInt("read the document as it was at this version").optional(),
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

const pointer = z.string().openapi({ description: "JSON Pointer (RFC 6901)" });
export const JsonPatch = z
  .array(
    z.union([
      z.object({ op: z.enum(["add", "replace", "test"]), path: pointer, value: z.unknown() }),
      z.object({ op: z.literal("remove"), path: pointer }),
      z.object({ op: z.enum(["move", "copy"]), from: pointer, path: pointer }),
      z
        .object({
          op: z.literal("increment"),
          path: pointer,
          value: z.number(),
          min: z.number().optional(),
          max: z.number().optional(),
        })
        .openapi({
          description: "Tessera's extension: atomic add, failing (409) when the result leaves [min, max]",
        }),
    ]),
  )
  .openapi("JsonPatch");

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
    .regex(/^[a-z][a-z0-9_-]{0,62}$/)
    .optional(),
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
  })
  .openapi("Stats");

export const DeadLetter = z
  .object({
    messageId: z.string(),
    body: z.unknown(),
    attempts: z.number().int(),
    receivedAt: z.string().datetime(),
  })
  .openapi("DeadLetter");

export const Health = z.object({ status: z.literal("ok") }).openapi("Health");
