/**
 * SQLite schema of a DocumentObject, as versioned migrations. PRAGMA user_version is unavailable in Durable
 * Objects, so the applied version lives in `_schema`. An object that has never committed a write has no tables at
 * all: reads and refused writes leave nothing behind, and the first write creates the schema in its transaction.
 *
 * A write touches as few rows as it can, because in an object that sees few writes every statement is prepared
 * afresh: the event row holds the state, the version, both timestamps and the index values (the newest row is
 * the current document), and it is the outbox entry too until `meta.confirmed_through` passes it (`holes` lists
 * the few events the mark passed that the change feed still lacks); `meta` holds the key, written once. A write
 * without an Idempotency-Key to an existing document is one INSERT.
 */

/** The current schema, which an object's first write creates. */
const CURRENT = `
  CREATE TABLE _schema (version INTEGER NOT NULL);
  CREATE TABLE meta (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    tenant TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL,
    confirmed_through INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE events (
    version INTEGER PRIMARY KEY, event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT,
    committed_at INTEGER NOT NULL, created_at INTEGER NOT NULL, idempotency_key TEXT, tx_id TEXT,
    slots TEXT, ix TEXT, tx_size INTEGER, tx_before INTEGER);
  CREATE TABLE holes (version INTEGER PRIMARY KEY);
  CREATE TABLE tx_lock (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    tx_id TEXT NOT NULL, coordinator TEXT NOT NULL, decision TEXT, expires_at INTEGER NOT NULL);
  CREATE TABLE tx_done (tx_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE TABLE idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, outcome TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX idempotency_expiry ON idempotency (expires_at);`;

/**
 * How objects created by an older version reach the current schema: UPGRADES[n] takes version n + 1 to n + 2.
 * The document schema test checks that applying them to version 1 gives exactly CURRENT.
 */
const UPGRADES: readonly string[] = [
  // v2: an outbox row stayed, marked sent, until the change feed confirmed its event (see v3).
  `ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
   ALTER TABLE outbox ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX outbox_unsent ON outbox (version) WHERE sent_at IS NULL;`,
  // v3: which rows were sent, and how often sends failed, are kept in memory (a second commit per write cost
  // more than forgetting them, which only resends); the row carries the index values computed at commit. The
  // document row, rewritten by every write, goes: the newest event says the same, and meta keeps the key.
  `DROP INDEX outbox_unsent;
   ALTER TABLE outbox DROP COLUMN sent_at;
   ALTER TABLE outbox DROP COLUMN resends;
   ALTER TABLE outbox DROP COLUMN attempts;
   ALTER TABLE outbox ADD COLUMN slots TEXT;
   CREATE TABLE meta (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     tenant TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL);
   INSERT INTO meta SELECT 1, tenant, collection, id FROM document;
   DROP TABLE document;`,
  // The outbox becomes the log's tail above a confirmed mark: each waiting row's index values move to its event,
  // and the mark goes just below the oldest waiting row (an event confirmed out of order above it is sent once
  // more, which the projector absorbs).
  `ALTER TABLE events ADD COLUMN slots TEXT;
   UPDATE events SET slots = (SELECT o.slots FROM outbox o WHERE o.version = events.version)
     WHERE version IN (SELECT version FROM outbox);
   ALTER TABLE meta ADD COLUMN confirmed_through INTEGER NOT NULL DEFAULT 0;
   UPDATE meta SET confirmed_through =
     coalesce((SELECT min(version) FROM outbox) - 1, (SELECT max(version) FROM events), 0);
   DROP TABLE outbox;
   CREATE TABLE holes (version INTEGER PRIMARY KEY);`,
  // v5: each event records the index signature its slots were computed under (null on older events: unknown).
  `ALTER TABLE events ADD COLUMN ix TEXT;`,
  // v6: transactions. An event written by a transaction records how many documents it wrote (tx_size) and,
  // like any event, the newest earlier transaction write the change feed may not hold yet (tx_before), so that
  // the projector shows a transaction all at once; a prepared transaction holds the document (tx_lock); ended
  // ones are remembered for a day (tx_done).
  `ALTER TABLE events ADD COLUMN tx_size INTEGER;
   ALTER TABLE events ADD COLUMN tx_before INTEGER;
   CREATE TABLE tx_lock (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     tx_id TEXT NOT NULL, coordinator TEXT NOT NULL, decision TEXT, expires_at INTEGER NOT NULL);
   CREATE TABLE tx_done (tx_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, expires_at INTEGER NOT NULL);`,
];

/** Version 1, as the first release created it: kept to test UPGRADES against. */
export const VERSION_1 = `
  CREATE TABLE _schema (version INTEGER NOT NULL);
  INSERT INTO _schema VALUES (1);
  CREATE TABLE document (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    tenant TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL,
    version INTEGER NOT NULL, deleted INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE events (
    version INTEGER PRIMARY KEY, event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT,
    committed_at INTEGER NOT NULL, created_at INTEGER NOT NULL, idempotency_key TEXT, tx_id TEXT);
  CREATE TABLE outbox (version INTEGER PRIMARY KEY, attempts INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, outcome TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX idempotency_expiry ON idempotency (expires_at);`;

export const SCHEMA_VERSION = UPGRADES.length + 1;

/** The applied schema version; 0 for an object that has never committed a write (it has no tables). */
export function schemaVersion(sql: SqlStorage): number {
  try {
    return sql.exec<{ version: number }>("SELECT version FROM _schema").one().version;
  } catch (error) {
    if (error instanceof Error && error.message.includes("no such table")) return 0;
    throw error;
  }
}

/**
 * Brings the database from version `from` (0: no schema) to SCHEMA_VERSION. Call inside a transaction
 * (transactionSync): the steps and the version record commit together with whatever else it writes, or not at all.
 */
export function migrate(sql: SqlStorage, from: number, to = SCHEMA_VERSION): void {
  if (from === to) return;
  if (from === 0) {
    sql.exec(CURRENT);
    sql.exec("INSERT INTO _schema (version) VALUES (?)", SCHEMA_VERSION);
    return;
  }
  for (let version = from; version < to; version++) sql.exec(UPGRADES[version - 1] ?? "");
  sql.exec("UPDATE _schema SET version = ?", to);
}
