/**
 * One Durable Object per document: the single writer for its key. Every write is one RPC and one SQLite
 * transaction (state, version, event, outbox row, idempotency record); the domain decides, this class persists.
 */
import { DurableObject } from "cloudflare:workers";
import { validateDocument } from "../domain/collections";
import {
  type DocumentRpc,
  envelopeJson,
  type HistoryQuery,
  type HistoryResult,
  type ReadResult,
  type WriteCommand,
  type WriteOutcome,
  type WriteResult,
} from "../domain/commands";
import { type Config, readConfig } from "../domain/config";
import { type Decision, type DocumentState, decide } from "../domain/document";
import type { DocumentEvent } from "../domain/events";
import { type Clock, type IdGenerator, monotonicIds } from "../domain/ids";
import type { JsonObject } from "../domain/json";
import { type DocumentKey, sameKey } from "../domain/keys";
import { publish } from "../workers/events-queue";
import { migrate } from "./document-schema";
import { type DocumentRow, type EventRow, eventFromRow } from "./event-rows";
import { Outbox, type ProjectedVersions, type Publisher, type StateStore } from "./outbox";

/** Largest history page in bytes of event data, so a page of large documents stays a sane response. */
const HISTORY_PAGE_BYTES = 4 * 1024 * 1024;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** The alarm set with every write: if the immediate send does not drain the outbox, this one retries it. */
const SAFETY_ALARM_MS = 10_000;

/** The part of an outcome kept with an idempotency key; a committed envelope is rebuilt from the event log. */
type StoredOutcome =
  | Exclude<WriteOutcome, { kind: "committed" }>
  | { kind: "committed"; version: number; created: boolean };

export class DocumentObject extends DurableObject<Env> implements DocumentRpc {
  /** Injectable for tests: the time every commit and expiry is measured by. */
  clock: Clock = Date.now;
  /** Injectable for fault tests: how events reach the queue, and large states reach R2. */
  publish: Publisher = (batch) => publish(this.env.EVENTS, batch);
  storeState: StateStore = async (key, json) => {
    await this.env.ARCHIVE.put(key, json, { httpMetadata: { contentType: "application/json" } });
  };
  /** Which of these versions the change feed holds: how the outbox learns its events arrived. */
  projected: ProjectedVersions = async (key, versions) => {
    const { results } = await this.env.DB.prepare(
      "SELECT version FROM changes WHERE tenant = ? AND collection = ? AND id = ? AND version BETWEEN ? AND ?",
    )
      .bind(key.tenant, key.collection, key.id, Math.min(...versions), Math.max(...versions))
      .all<{ version: number }>();
    return new Set(results.map((r) => r.version));
  };
  private readonly outbox = new Outbox(
    this.ctx.storage,
    () => this.publish,
    () => this.storeState,
    () => this.clock(),
  );
  private alarmAt: number | null = null;
  private readonly newEventId: IdGenerator = monotonicIds(() => this.clock());
  private readonly config: Config;
  private key: DocumentKey | null = null;
  private state: DocumentState | null = null;
  /** The current state's envelope as JSON text, ready to answer reads with; null when missing or deleted. */
  private body: string | null = null;
  private nextPruneAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage);
      this.load();
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Applies one write: linearizable, because everything from lookup to commit is synchronous. */
  write(command: WriteCommand): WriteResult {
    this.bind(command.key);
    const now = this.clock();
    const { result, state } = this.ctx.storage.transactionSync(() => this.writeInTransaction(command, now));
    if (state !== null) {
      this.state = state;
      this.body = result.kind === "committed" ? result.body : null;
      // Still synchronous, so the alarm commits with the write; then send without making the client wait.
      if (this.alarmAt === null || this.alarmAt > now + SAFETY_ALARM_MS) {
        this.alarmAt = now + SAFETY_ALARM_MS;
        void this.ctx.storage.setAlarm(this.alarmAt);
      }
      void this.flushOutbox(command.key);
    }
    return result;
  }

  /**
   * Sends pending events (retrying failed sends with backoff), confirms sent ones against the change feed and
   * sends again what never arrived, and forgets expired idempotency keys. Runs while anything is outstanding.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = this.clock();
    if (this.key !== null) {
      // A flush that writes keep busy (a hot document) must not hold confirmation back: join it only when idle.
      if (this.outbox.busy()) void this.flushOutbox(this.key);
      else await this.flushOutbox(this.key);
      try {
        if ((await this.outbox.confirm(this.key, this.projected, now)) > 0) await this.flushOutbox(this.key);
      } catch (error) {
        // The read model is unreachable: the rows stay, and the next alarm asks again.
        console.warn(
          JSON.stringify({ level: "warn", msg: "outbox confirmation failed", error: String(error) }),
        );
      }
    }
    this.pruneIdempotency(now, true);
    const { unsent, unconfirmed } = this.outbox.pending();
    let next: number | null;
    if (unsent > 0) next = now + this.outbox.retryDelay();
    else if (unconfirmed > 0) next = now + SAFETY_ALARM_MS;
    else
      next = this.ctx.storage.sql
        .exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM idempotency")
        .one().t;
    if (next !== null && (this.alarmAt === null || next < this.alarmAt)) {
      this.alarmAt = next;
      await this.ctx.storage.setAlarm(next);
    }
  }

  private async flushOutbox(key: DocumentKey): Promise<void> {
    try {
      await this.outbox.flush(key);
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "outbox flush failed", error: String(error) }));
    }
  }

  read(key: DocumentKey, version?: number): ReadResult {
    this.bind(key);
    if (version !== undefined) {
      const body = this.bodyAt(version);
      return body === null ? { kind: "not-found", deleted: false } : { kind: "found", version, body };
    }
    const state = this.state;
    if (state === null || this.body === null) return { kind: "not-found", deleted: state !== null };
    return { kind: "found", version: state.version, body: this.body };
  }

  history(key: DocumentKey, query: HistoryQuery): HistoryResult {
    this.bind(key);
    if (this.state === null) return { kind: "not-found" };
    const rows = this.ctx.storage.sql
      .exec<EventRow>(
        "SELECT * FROM events WHERE version > ? ORDER BY version LIMIT ?",
        query.after,
        query.limit + 1,
      )
      .toArray();
    const events: DocumentEvent[] = [];
    let bytes = 0;
    for (const row of rows.slice(0, query.limit)) {
      // Characters, not bytes: a page may reach 3× this in UTF-8 for non-ASCII states, still far below RPC limits.
      if (events.length > 0 && bytes + (row.data?.length ?? 0) > HISTORY_PAGE_BYTES) break;
      bytes += row.data?.length ?? 0;
      events.push(eventFromRow(this.key ?? key, row));
    }
    const last = events.at(-1);
    const more = rows.length > events.length;
    return { kind: "found", events, next: more && last !== undefined ? last.version : null };
  }

  private writeInTransaction(
    command: WriteCommand,
    now: number,
  ): { result: WriteResult; state: DocumentState | null } {
    const claim = command.idempotency;
    if (claim !== undefined) {
      const prior = this.ctx.storage.sql
        .exec<{ fingerprint: string; outcome: string }>(
          "SELECT fingerprint, outcome FROM idempotency WHERE key = ? AND expires_at > ?",
          claim.key,
          now,
        )
        .toArray()[0];
      if (prior !== undefined) {
        const result: WriteResult =
          prior.fingerprint === claim.fingerprint
            ? { ...this.replay(JSON.parse(prior.outcome) as StoredOutcome), replayed: true }
            : { kind: "idempotency-key-reused", replayed: false };
        return { result, state: null };
      }
    }
    this.pruneIdempotency(now);
    const decision = decide(this.state, command, now, {
      maxDocumentBytes: this.config.maxDocumentBytes,
      validate: (data) => validateDocument(command.key.collection, data),
    });
    let outcome: WriteOutcome;
    let state: DocumentState | null = null;
    if (decision.kind === "reject") {
      outcome = decision.rejection;
    } else {
      state = decision.state;
      this.persist(command, decision, now);
      const body =
        decision.serialized === null
          ? null
          : envelopeJson(command.key, state.version, decision.serialized, state.createdAt, state.updatedAt);
      outcome = { kind: "committed", version: state.version, created: decision.created, body };
    }
    if (claim !== undefined) {
      const stored: StoredOutcome =
        outcome.kind === "committed"
          ? { kind: "committed", version: outcome.version, created: outcome.created }
          : outcome;
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO idempotency (key, fingerprint, outcome, expires_at) VALUES (?, ?, ?, ?)",
        claim.key,
        claim.fingerprint,
        JSON.stringify(stored),
        now + this.config.idempotencyTtlMs,
      );
    }
    return { result: { ...outcome, replayed: false }, state };
  }

  private persist(command: WriteCommand, decision: Extract<Decision, { kind: "commit" }>, now: number): void {
    const { key } = command;
    const { state } = decision;
    const sql = this.ctx.storage.sql;
    sql.exec(
      `INSERT INTO document (singleton, tenant, collection, id, version, deleted, created_at, updated_at)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
         created_at = excluded.created_at, updated_at = excluded.updated_at`,
      key.tenant,
      key.collection,
      key.id,
      state.version,
      state.data === null ? 1 : 0,
      state.createdAt,
      state.updatedAt,
    );
    sql.exec(
      `INSERT INTO events (version, event_id, type, data, committed_at, created_at, idempotency_key, tx_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      state.version,
      this.newEventId(),
      decision.type,
      decision.serialized,
      now,
      state.createdAt,
      command.idempotency?.key ?? null,
      command.txId ?? null,
    );
    sql.exec("INSERT INTO outbox (version) VALUES (?)", state.version);
  }

  private replay(stored: StoredOutcome): WriteOutcome {
    if (stored.kind !== "committed") return stored;
    return { ...stored, body: this.bodyAt(stored.version) };
  }

  /** The envelope JSON of the document as it was at `version`; null for a deletion or a version that does not exist. */
  private bodyAt(version: number): string | null {
    const key = this.key;
    const row = this.ctx.storage.sql
      .exec<EventRow>("SELECT * FROM events WHERE version = ?", version)
      .toArray()[0];
    if (key === null || row === undefined || row.data === null) return null;
    return envelopeJson(key, row.version, row.data, row.created_at, row.committed_at);
  }

  /** Forgets expired idempotency keys: at most once an hour from the write path, and on every alarm. */
  private pruneIdempotency(now: number, force = false): void {
    if (!force && now < this.nextPruneAt) return;
    this.ctx.storage.sql.exec("DELETE FROM idempotency WHERE expires_at <= ?", now);
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
  }

  private load(): void {
    const sql = this.ctx.storage.sql;
    const doc = sql.exec<DocumentRow>("SELECT * FROM document").toArray()[0];
    if (doc === undefined) return;
    this.key = { tenant: doc.tenant, collection: doc.collection, id: doc.id };
    let data: JsonObject | null = null;
    if (doc.deleted === 0) {
      const row = sql
        .exec<{ data: string }>("SELECT data FROM events WHERE version = ?", doc.version)
        .toArray()[0];
      if (row === undefined) throw new Error(`document ${doc.id}: event ${doc.version} missing from its log`);
      data = JSON.parse(row.data) as JsonObject;
      this.body = envelopeJson(this.key, doc.version, row.data, doc.created_at, doc.updated_at);
    }
    this.state = { version: doc.version, data, createdAt: doc.created_at, updatedAt: doc.updated_at };
  }

  /** An object does not know its own name: the first request tells it, and every later one must agree. */
  private bind(key: DocumentKey): void {
    if (this.key === null) this.key = key;
    else if (!sameKey(this.key, key))
      throw new Error("document object addressed with a key that is not its own");
  }
}
