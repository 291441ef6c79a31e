/**
 * The wire types, as aliases of what openapi-typescript generated from the OpenAPI document: nothing here is a
 * hand-written copy of a payload, so the client's types follow the API when it changes (npm run client:check).
 */
import type { components, operations } from "./generated/openapi.js";

type Schemas = components["schemas"];

/** Any JSON object: a document of a collection that declares no schema. */
export type DocumentData = NonNullable<Schemas["DocumentData"]>;
/** What every document read or write returns: `data` is the document, the rest is Tessera's. */
export type Envelope = Schemas["Envelope"];
/** An envelope whose document is a `T`. */
export type Doc<T> = Omit<Envelope, "data"> & { data: T };
/** An RFC 9457 problem document, as every error is answered. */
export type Problem = Schemas["Problem"];
export type HistoryEvent = Schemas["Event"];
export type Change = Schemas["Change"];
export type JsonPatchOperation = Schemas["JsonPatch"][number];
export type TransactionOperation = Schemas["TransactionOperation"];
export type TransactionResult = Schemas["TransactionResult"];
export type Saga = Schemas["Saga"];
export type SagaStarted = Schemas["SagaStarted"];
export type SagaStatus = Saga["status"];
export type Stats = Schemas["Stats"];
export type KeyInfo = Schemas["KeyInfo"];
export type CreatedKey = Schemas["CreatedKey"];
export type NewKeyRequest = Schemas["NewKeyRequest"];
export type DeadLetter = Schemas["DeadLetter"];
export type AuditEntry = Schemas["AuditEntry"];
export type ExportLine = Schemas["ExportLine"];
export type ImportResult = Schemas["ImportResult"];
export type ImportRefusal = ImportResult["refused"][number];

/** An export's first and last lines. */
export type ExportStart = Extract<ExportLine, { tessera: "export" }>;
export type ExportEnd = Extract<ExportLine, { tessera: "end" }>;
/** An exported document: an envelope (typed by its collection when it declares a schema). */
export type ExportedDocument = Exclude<ExportLine, { tessera: string }>;

type TypedLine = Extract<ExportedDocument, { collection: string; data: unknown }>;

/**
 * The collections the server declares (domain/collections.ts), by name, each with its documents' type: taken
 * from the export line the OpenAPI document types by collection, so that a declared collection's documents come
 * back with their declared type.
 */
export type Collections = {
  [L in TypedLine as string extends L["collection"] ? never : L["collection"]]: L["data"];
};

type QueryParameters = NonNullable<operations["queryCollection"]["parameters"]["query"]>;
type WhereValue = NonNullable<QueryParameters["where"]>[string];

/** A query's comparison operators, as the API names them. */
export type Operator = keyof Exclude<WhereValue, string>;

/** Read consistency: the client's session (read your own writes, the default), strong, or eventual. */
export type Consistency = "session" | "strong" | "eventual";
