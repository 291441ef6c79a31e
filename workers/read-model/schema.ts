/** The D1 read model, in drizzle: documents with typed index slots, the change feed, dead letters. */

import { sql } from "drizzle-orm";
import {
  customType,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/**
 * An index slot (INDEX_SLOT_COUNT of them, k0..k3: each indexed field a collection declares takes one): declared BLOB so SQLite applies no type affinity (a TEXT column would turn numbers into strings,
 * NUMERIC would turn "007" into 7). Values keep the type the collection declares, and compare as SQLite does.
 */
const slot = customType<{ data: string | number | null; driverData: string | number | null }>({
  dataType: () => "blob",
});

/** A document's row: the live table's columns, and a rebuild's (which adds its id). */
const documentColumns = () => ({
  tenant: text("tenant").notNull(),
  collection: text("collection").notNull(),
  id: text("id").notNull(),
  version: integer("version").notNull(),
  deleted: integer("deleted").notNull(),
  /** The state as JSON, or null when it is deleted or stored in R2 (`dataRef`). */
  data: text("data"),
  dataRef: text("data_ref"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  projectedAt: integer("projected_at").notNull(),
  k0: slot("k0"),
  k1: slot("k1"),
  k2: slot("k2"),
  k3: slot("k3"),
  /** The index signature the slots were computed under (null: projected before signatures existed). */
  ix: text("ix"),
});

export const documents = sqliteTable("documents", documentColumns(), (t) => [
  uniqueIndex("documents_key").on(t.tenant, t.collection, t.id),
  index("documents_by_id").on(t.tenant, t.collection, t.deleted, t.id),
  index("documents_k0").on(t.tenant, t.collection, t.deleted, t.k0, t.id),
  index("documents_k1").on(t.tenant, t.collection, t.deleted, t.k1, t.id),
  index("documents_k2").on(t.tenant, t.collection, t.deleted, t.k2, t.id),
  index("documents_k3").on(t.tenant, t.collection, t.deleted, t.k3, t.id),
  /** Large states by reference: the states sweep asks whether one is still referenced. */
  index("documents_by_ref").on(t.dataRef).where(sql`${t.dataRef} IS NOT NULL`),
]);

export const changes = sqliteTable(
  "changes",
  {
    /** Feed order: assigned when a (document, version) is first recorded, never reused. */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenant: text("tenant").notNull(),
    collection: text("collection").notNull(),
    id: text("id").notNull(),
    version: integer("version").notNull(),
    type: text("type", { enum: ["put", "patch", "delete"] }).notNull(),
    eventId: text("event_id").notNull(),
    data: text("data"),
    dataRef: text("data_ref"),
    committedAt: integer("committed_at").notNull(),
    projectedAt: integer("projected_at").notNull(),
    /** The transaction that wrote this change, if one did: its changes sit together in the feed. */
    txId: text("tx_id"),
  },
  (t) => [
    uniqueIndex("changes_key_version").on(t.tenant, t.collection, t.id, t.version),
    index("changes_by_collection").on(t.tenant, t.collection, t.seq),
    index("changes_by_tenant").on(t.tenant, t.seq),
    index("changes_by_ref").on(t.dataRef).where(sql`${t.dataRef} IS NOT NULL`),
  ],
);

export const deadLetters = sqliteTable(
  "dead_letters",
  {
    messageId: text("message_id").primaryKey(),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull(),
    receivedAt: integer("received_at").notNull(),
    redrivenAt: integer("redriven_at"),
    /**
     * The event's id when the body is an event: an event that dies again (the outbox resends what the feed
     * lacks) updates its row instead of adding one, so the list holds each dead event once.
     */
    eventId: text("event_id"),
    /** How many times this event reached the dead-letter queue. */
    deaths: integer("deaths").notNull().default(1),
    /** The event's tenant; null for a body that is not an event (only the operator sees those). */
    tenant: text("tenant"),
  },
  (t) => [
    index("dead_letters_pending").on(t.redrivenAt, t.receivedAt),
    uniqueIndex("dead_letters_event").on(t.eventId),
    index("dead_letters_by_tenant").on(t.tenant, t.redrivenAt, t.messageId),
  ],
);

/**
 * Whether a collection's indexes hold every live document of a tenant: the read model is complete for the
 * declaration whose signature is `signature` when `ready` is 1. A declaration change (an index added, removed or
 * retyped) makes the rows projected before it stale until a backfill rewrites them.
 */
export const indexStates = sqliteTable(
  "index_states",
  {
    tenant: text("tenant").notNull(),
    collection: text("collection").notNull(),
    signature: text("signature").notNull(),
    ready: integer("ready").notNull(),
    /**
     * The signature rows without one (projected before signatures existed) are taken to have: the declaration in
     * force when this tenant's collection was first checked. Set once.
     */
    adopted: text("adopted").notNull(),
    checkedAt: integer("checked_at").notNull(),
    /** The backfill under way (workers/maintenance/backfill.ts): rows to reindex at its start, rows done. */
    backfillTotal: integer("backfill_total"),
    backfillDone: integer("backfill_done"),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection] })],
);

/** API keys: the secret's SHA-256 only; see workers/security/api-keys.ts. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenant: text("tenant").notNull(),
    name: text("name").notNull(),
    /** JSON array of scopes. */
    scopes: text("scopes").notNull(),
    /** JSON array of collection names; null for all. */
    collections: text("collections"),
    rateLimit: text("rate_limit").notNull(),
    secretHash: text("secret_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_by_tenant").on(t.tenant, t.revokedAt, t.id)],
);

/** Every admin action: who, what, when, and the request it came with. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    /** "operator", "key:<id>" or "jwt:<subject>". */
    actor: text("actor").notNull(),
    /** The tenant acted on; null for an action that spans tenants. */
    tenant: text("tenant"),
    action: text("action").notNull(),
    target: text("target"),
    requestId: text("request_id").notNull(),
    /** JSON: what else the action recorded (never a secret). */
    detail: text("detail"),
  },
  (t) => [index("audit_by_tenant").on(t.tenant, t.seq)],
);

/**
 * Events the projector holds back so that a transaction becomes visible all at once: a transaction's writes
 * until every one has arrived, and any later event of a document until the transaction write its state builds on
 * is in the feed. Applied together in one D1 batch, then deleted. See workers/projector/held.ts.
 */
export const heldEvents = sqliteTable(
  "held_events",
  {
    tenant: text("tenant").notNull(),
    collection: text("collection").notNull(),
    id: text("id").notNull(),
    version: integer("version").notNull(),
    txId: text("tx_id"),
    txSize: integer("tx_size"),
    /** The event as the queue delivered it (JSON). */
    body: text("body").notNull(),
    heldAt: integer("held_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant, t.collection, t.id, t.version] }),
    index("held_by_tx").on(t.tenant, t.txId),
  ],
);

/**
 * Per tenant and collection: live documents, the characters of their inline states, and events in the change
 * feed. Kept exact by triggers on documents and changes (migrations/0005), so /metrics reads them in O(1).
 */
export const collectionStats = sqliteTable(
  "collection_stats",
  {
    tenant: text("tenant").notNull(),
    collection: text("collection").notNull(),
    documents: integer("documents").notNull().default(0),
    bytes: integer("bytes").notNull().default(0),
    events: integer("events").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection] })],
);

/**
 * Document objects whose outbox holds events the change feed lacks, as each reported it (see the outbox): the
 * outbox backlog metric sums them, and the pipeline's recovery wakes them once sends can succeed again.
 */
export const outboxBacklog = sqliteTable(
  "outbox_backlog",
  {
    tenant: text("tenant").notNull(),
    collection: text("collection").notNull(),
    id: text("id").notNull(),
    events: integer("events").notNull(),
    /** When its next send is due, as far as it knew (epoch ms): a backed-off object waits until then. */
    retryAt: integer("retry_at"),
    reportedAt: integer("reported_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection, t.id] })],
);

/** Pipeline probes (see PipelineObject): when each was sent, and when the projector saw it. */
export const pipelineProbes = sqliteTable(
  "pipeline_probes",
  {
    id: text("id").primaryKey(),
    sentAt: integer("sent_at").notNull(),
    projectedAt: integer("projected_at"),
  },
  (t) => [index("pipeline_probes_by_time").on(t.sentAt)],
);

/** Which read-model database holds each tenant (in the primary database; see read-model/databases.ts). */
export const tenantDatabases = sqliteTable("tenant_databases", {
  tenant: text("tenant").primaryKey(),
  binding: text("binding").notNull(),
  assignedAt: integer("assigned_at").notNull(),
  /** Moves so far: a feed cursor names the epoch it was issued in, and one from before a move is refused (410). */
  epoch: integer("epoch").notNull().default(0),
});

/** Rebuilds of the read model from the R2 archive (workers/maintenance/rebuild.ts), in the primary database. */
export const rebuilds = sqliteTable(
  "rebuilds",
  {
    id: text("id").primaryKey(),
    /** Scope: one tenant, or every tenant (null); one collection of it, or all (null). */
    tenant: text("tenant"),
    collection: text("collection"),
    /** The database the rebuilt read model goes to (a move when it is not the tenant's). */
    target: text("target").notNull(),
    /**
     * waiting (for every projector to see it), scanning (the archive), taking-over, draining (a move: isolates
     * still route the tenant to its old database), then done, cancelled or failed.
     */
    status: text("status", {
      enum: ["waiting", "scanning", "taking-over", "draining", "done", "cancelled", "failed"],
    }).notNull(),
    objectsTotal: integer("objects_total"),
    objectsRead: integer("objects_read").notNull().default(0),
    eventsRead: integer("events_read").notNull().default(0),
    startedAt: integer("started_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    finishedAt: integer("finished_at"),
    error: text("error"),
    /** "shadow": built beside the live rows of the same database; "move": built in another database. */
    mode: text("mode", { enum: ["shadow", "move"] })
      .notNull()
      .default("shadow"),
    /** For a move, the database the tenant leaves. */
    source: text("source"),
  },
  (t) => [index("rebuilds_by_status").on(t.status)],
);

/**
 * A rebuild's documents, built beside the live ones (which keep serving) until it takes over: the same columns
 * as documents, keyed by the rebuild too.
 */
export const rebuildDocuments = sqliteTable(
  "rebuild_documents",
  {
    rebuildId: text("rebuild_id").notNull(),
    ...documentColumns(),
  },
  (t) => [primaryKey({ columns: [t.rebuildId, t.tenant, t.collection, t.id] })],
);

/** Rebuilds that took over in this database: a takeover retried after it happened changes nothing. */
export const rebuildTakeovers = sqliteTable("rebuild_takeovers", {
  rebuildId: text("rebuild_id").primaryKey(),
  at: integer("at").notNull(),
});

/**
 * How far retention has pruned a tenant's change feed in this database (workers/maintenance/retention.ts): every
 * change with seq <= pruned_seq is in R2 feed segments, not in `changes`.
 */
export const feedHorizons = sqliteTable("feed_horizons", {
  tenant: text("tenant").primaryKey(),
  prunedSeq: integer("pruned_seq").notNull(),
  /** The newest commit time among the pruned changes: a rebuild restores no feed entry committed before it. */
  prunedCommittedAt: integer("pruned_committed_at").notNull(),
  prunedAt: integer("pruned_at").notNull(),
});

/** Where a long maintenance pass (the states sweep) stopped, to go on from there next time (primary database). */
export const maintenanceCursors = sqliteTable("maintenance_cursors", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
