/**
 * SQLite schema of a DocumentObject, as versioned migrations applied in the constructor.
 * PRAGMA user_version is unavailable in Durable Objects, so the applied version lives in `_schema`.
 */

const MIGRATIONS: readonly string[] = [
  // v1: the document's current version, its append-only event log (which holds every state, the current one
  // included, so a state is written once per write), the outbox of events not yet sent, idempotency records.
  `CREATE TABLE document (
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
   CREATE INDEX idempotency_expiry ON idempotency (expires_at);`,
  // v2: an outbox row stays, marked sent, until the change feed confirms its event was projected; the queue
  // may lose what it accepted (Miniflare's does on restart), and then the row is sent again.
  `ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
   ALTER TABLE outbox ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX outbox_unsent ON outbox (version) WHERE sent_at IS NULL;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the object's database to SCHEMA_VERSION; each step commits with its version record. */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
  let applied = row?.version ?? 0;
  if (row === undefined) sql.exec("INSERT INTO _schema (version) VALUES (0)");
  while (applied < MIGRATIONS.length) {
    const step = MIGRATIONS[applied] ?? "";
    storage.transactionSync(() => {
      sql.exec(step);
      sql.exec("UPDATE _schema SET version = ?", applied + 1);
    });
    applied += 1;
  }
}
