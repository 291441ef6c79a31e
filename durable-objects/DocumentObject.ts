/**
 * One Durable Object per document: the single writer for its key. Every write is one RPC and one SQLite
 * transaction (the event row, which holds the state and version and is the outbox entry until the change feed
 * confirms it; the idempotency record; the alarm that backs the outbox up), which a busy document's writes
 * share (group commit, see enqueue); the domain decides, this class persists.
 */
import { DurableObject } from "cloudflare:workers";
import { indexValues, validateDocument } from "../domain/collections";
import {
  type DocumentRpc,
  envelopeJson,
  type HistoryQuery,
  type HistoryResult,
  type ReadResult,
  type WriteOutcome,
  type WriteResult,
} from "../domain/commands";
import { type Config, readConfig } from "../domain/config";
import { sha256Hex } from "../domain/digest";
import { type Decision, type DocumentState, decide } from "../domain/document";
import type { DocumentEvent } from "../domain/events";
import { type Clock, type IdGenerator, monotonicIds } from "../domain/ids";
import type { JsonObject } from "../domain/json";
import { type DocumentKey, sameKey } from "../domain/keys";
import {
  fingerprintText,
  type MalformedBody,
  type ParsedWrite,
  parseWrite,
  type WriteRequest,
} from "../domain/write-request";
import { publish } from "../workers/events-queue";
import { d1ChangeFeed } from "./change-feed";
import { migrate, SCHEMA_VERSION, schemaVersion } from "./document-schema";
import { type EventRow, eventFromRow } from "./event-rows";
import {
  type ChangeFeed,
  CONFIRM_POLL_MS,
  Outbox,
  type OutboxStatus,
  type PendingRow,
  type Publisher,
  type StateStore,
  slotsColumn,
} from "./outbox";

/** Largest history page in characters of event data, so a page of large documents stays a sane response. */
const HISTORY_PAGE_CHARS = 4 * 1024 * 1024;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/**
 * The alarm set with every write: it sends what the immediate send did not (an eviction or a crash before it),
 * and asks the change feed whether the events arrived.
 */
const SAFETY_ALARM_MS = CONFIRM_POLL_MS;
/**
 * A write that arrives within this long of the previous one waits for the writes queued behind it, so that all of
 * them commit together (group commit): one transaction, one durable commit, instead of one each.
 */
const GROUP_COMMIT_WINDOW_MS = 5;

/** The part of an outcome kept with an idempotency key; a committed envelope is rebuilt from the event log. */
type StoredOutcome =
  | Exclude<WriteOutcome, { kind: "committed" }>
  | { kind: "committed"; version: number; created: boolean };

/** The key and the newest event, as the constructor loads them (event columns null before any commit). */
interface LoadedRow extends Record<string, SqlStorageValue> {
  tenant: string;
  collection: string;
  id: string;
  /** The change feed holds every event up to this version (but the holes); the ones above wait in the outbox. */
  confirmed_through: number;
  /** 1 when some events below the mark still wait for the change feed (table holes). */
  has_holes: number;
  /** 1 when the object holds idempotency records (most hold none, and their alarm need not look for expired ones). */
  has_keys: number;
  version: number | null;
  data: string | null;
  created_at: number | null;
  committed_at: number | null;
}

/** A write that parsed: decided by the domain, even if refused. */
type WellFormed = Exclude<ParsedWrite, MalformedBody>;
/** An Idempotency-Key and the digest of the request it was used with. */
interface Claim {
  key: string;
  fingerprint: string;
}

/** A write waiting for its group's commit. */
interface QueuedWrite {
  request: WriteRequest;
  parsed: WellFormed;
  claim: Claim | undefined;
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
}

/** Thrown to roll back a first write that stores nothing, so that the object keeps no schema for it. */
class NothingToStore {
  constructor(readonly result: WriteResult) {}
}

export class DocumentObject extends DurableObject<Env> implements DocumentRpc {
  /** Injectable for tests: the time every commit and expiry is measured by. */
  clock: Clock = Date.now;
  /** Injectable for fault tests: how events reach the queue, and large states reach R2. */
  publish: Publisher = (batch) => publish(this.env.EVENTS, batch);
  storeState: StateStore = async (key, json) => {
    await this.env.ARCHIVE.put(key, json, { httpMetadata: { contentType: "application/json" } });
  };
  /** Injectable for fault tests: where the outbox learns which of its events reached the change feed. */
  changeFeed: ChangeFeed = d1ChangeFeed(this.env.DB);

  /** How long a queue send or R2 upload may take before the outbox counts it as failed. */
  sendTimeoutMs = 10_000;
  private readonly outbox = new Outbox(
    this.ctx.storage,
    () => this.publish,
    () => this.storeState,
    () => this.clock(),
    () => this.sendTimeoutMs,
  );
  /** When the alarm is set for, as far as this incarnation knows (null: none, or unknown after a restart). */
  private alarmAt: number | null = null;
  private readonly newEventId: IdGenerator = monotonicIds(() => this.clock());
  private readonly config: Config;
  /** The applied schema version; 0 until the first write commits. */
  private schema = 0;
  private key: DocumentKey | null = null;
  /** Whether storage holds the key (meta): written with the first commit. */
  private keyStored = false;
  private state: DocumentState | null = null;
  /** The current state's envelope as JSON text, ready to answer reads with; null when missing or deleted. */
  private body: string | null = null;
  /** The write path forgets expired idempotency keys at most once an hour (the alarm does it every time). */
  private nextPruneAt = Date.now() + PRUNE_INTERVAL_MS;
  /** Whether storage may hold idempotency records: without any, neither the alarm nor the write path looks. */
  private hasKeys = false;
  /** Writes waiting for the group commit already scheduled (see enqueue), in arrival order. */
  private queued: QueuedWrite[] = [];
  private groupScheduled = false;
  /** When the last write arrived, by the runtime's clock (not the injectable one: this is about load, not data). */
  private lastWriteAt = 0;
  /** When this incarnation last committed an event, by the object's clock (0: never). */
  private lastCommitAt = 0;
  /** Diagnostics: how many groups commitGroup applied, and how many writes they held. */
  readonly groupCommits = { groups: 0, writes: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    // Schema and state load synchronously (SQLite's API is), so nothing can interleave with them and no
    // blockConcurrencyWhile is needed: it would only add a turn of the event loop to every object's start. A throw
    // here resets the object, as it would inside blockConcurrencyWhile.
    const sql = ctx.storage.sql;
    const version = schemaVersion(sql);
    if (version === 0) {
      this.outbox.loaded(0, 0);
      return;
    }
    if (version < SCHEMA_VERSION) ctx.storage.transactionSync(() => migrate(sql, version));
    this.schema = SCHEMA_VERSION;
    this.load();
  }

  /**
   * Applies one write: linearizable, because everything from the idempotency lookup to the commit is
   * synchronous, and writes apply in the order they arrive. Only a write with an Idempotency-Key awaits first, to
   * digest the request it is compared by. Under load a write waits for the ones behind it (see enqueue).
   */
  write(request: WriteRequest): WriteResult | Promise<WriteResult> {
    this.bind(request.key);
    const parsed = parseWrite(request);
    if (parsed.kind === "malformed") return { ...parsed, replayed: false };
    const claimKey = request.idempotencyKey;
    if (claimKey === undefined) return this.enqueue(request, parsed, undefined);
    // A body refused as invalid is compared by its bytes: it may be too deep to put in canonical form.
    const text =
      parsed.kind === "write"
        ? fingerprintText(request, parsed.parsed)
        : `refused\n${request.body.type}\n${"json" in request.body ? request.body.json : ""}`;
    return sha256Hex(text).then((fingerprint) =>
      this.enqueue(request, parsed, { key: claimKey, fingerprint }),
    );
  }

  /**
   * Group commit. A write to an idle document applies at once. One that follows another closely waits until the
   * runtime has delivered the calls already on their way (a zero-delay timer fires after them), and then the
   * whole group applies in one turn. Their statements share the turn's implicit transaction, so the group reaches
   * storage in one commit (locally one fsync) where a hot document would otherwise pay one commit per write. Each
   * write is still decided alone, in arrival order, and answered only once its group is durable: the output gate
   * holds the answers until the commit.
   */
  private enqueue(
    request: WriteRequest,
    parsed: WellFormed,
    claim: Claim | undefined,
  ): WriteResult | Promise<WriteResult> {
    const now = Date.now();
    const busy = now - this.lastWriteAt < GROUP_COMMIT_WINDOW_MS;
    this.lastWriteAt = now;
    if (!busy && !this.groupScheduled) return this.commit(request, parsed, claim);
    return new Promise((resolve, reject) => {
      this.queued.push({ request, parsed, claim, resolve, reject });
      if (this.groupScheduled) return;
      this.groupScheduled = true;
      setTimeout(() => this.commitGroup(), 0);
    });
  }

  private commitGroup(): void {
    const group = this.queued;
    this.queued = [];
    this.groupScheduled = false;
    this.groupCommits.groups++;
    this.groupCommits.writes += group.length;
    for (const { request, parsed, claim, resolve, reject } of group) {
      try {
        resolve(this.commit(request, parsed, claim));
      } catch (error) {
        // This write failed alone (its statement or savepoint applied nothing); the others still commit.
        reject(error);
      }
    }
  }

  /** Outbox counters, for tests and diagnostics. */
  outboxStatus(): OutboxStatus | null {
    return this.schema === 0 ? null : this.outbox.status();
  }

  private commit(request: WriteRequest, parsed: WellFormed, claim: Claim | undefined): WriteResult {
    const now = this.clock();
    const fresh = this.schema === 0;
    const sql = this.ctx.storage.sql;
    let outcome: {
      result: WriteResult;
      state: DocumentState | null;
      alarm: number | null;
      pending: PendingRow | null;
    };
    // A write without an Idempotency-Key to a stored document writes one row, its event: one statement, which
    // SQLite applies whole or not at all and workerd commits with the alarm in the turn's implicit transaction.
    // A write that stores more (the schema, the key, an idempotency record, a pruning) runs in transactionSync, so
    // that all of it commits or none does.
    const oneRow =
      !fresh && this.keyStored && claim === undefined && (!this.hasKeys || now < this.nextPruneAt);
    try {
      outcome = oneRow
        ? this.applyWrite(request, parsed, undefined, now)
        : this.ctx.storage.transactionSync(() => {
            if (fresh) migrate(sql, 0);
            if (!this.keyStored) this.storeKey(request.key);
            const done = this.applyWrite(request, parsed, claim, now);
            if (fresh && done.state === null && claim === undefined) throw new NothingToStore(done.result);
            return done;
          });
    } catch (error) {
      if (error instanceof NothingToStore) return error.result;
      throw error;
    }
    this.schema = SCHEMA_VERSION;
    const { result, state, alarm, pending } = outcome;
    if (alarm !== null) this.alarmAt = alarm;
    this.keyStored = true;
    if (pending !== null) this.outbox.committed(pending);
    if (state !== null) {
      this.lastCommitAt = now;
      this.state = state;
      this.body = result.kind === "committed" ? result.body : null;
      // Sent without making the client wait; while a failed send backs off, the retry alarm sends this one too.
      if (this.outbox.canSend(now)) void this.flushOutbox(request.key);
    }
    return result;
  }

  /**
   * Sends pending events (retrying failed sends with backoff), confirms sent ones against the change feed and
   * sends again what never arrived, and forgets expired idempotency keys. Runs while anything is outstanding.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (this.schema === 0 || this.key === null) return;
    const key = this.key;
    const now = this.clock();
    // A flush that writes keep busy (a hot document) must not hold confirmation back: join it only when idle.
    if (this.outbox.busy()) void this.flushOutbox(key);
    else if (this.outbox.hasUnsent()) await this.flushOutbox(key);
    // The change feed is asked once the document has gone quiet (its outbox then empties while the object is in
    // memory), or when the answer could lead to a resend. A busy document does not ask every poll: each question
    // is a read-model query, and thousands of busy documents asking every few seconds would load D1 (and, on one
    // machine, slow the projector that the answers wait for).
    const quiet = now - this.lastCommitAt >= CONFIRM_POLL_MS;
    const asked = quiet || this.outbox.confirmationDue(now);
    if (asked) {
      try {
        if ((await this.outbox.confirm(key, this.changeFeed, now)) > 0) await this.flushOutbox(key);
      } catch (error) {
        // The read model is unreachable: the rows stay, and the next alarm asks again.
        console.warn(
          JSON.stringify({ level: "warn", msg: "outbox confirmation failed", error: String(error) }),
        );
      }
    }
    const expiry = this.hasKeys ? this.expireIdempotency(now) : null;
    const { unsent, unconfirmed, retryAt } = this.outbox.status();
    let next: number | null;
    if (unsent > 0) next = retryAt ?? now + SAFETY_ALARM_MS;
    else if (unconfirmed > 0) next = asked ? this.outbox.nextConfirmation(now) : now + CONFIRM_POLL_MS;
    else next = expiry;
    if (next !== null) await this.scheduleAlarm(next);
  }

  private async scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private async flushOutbox(key: DocumentKey): Promise<void> {
    try {
      if (await this.outbox.flush(key)) return;
      const { retryAt } = this.outbox.status();
      if (retryAt !== null) await this.scheduleAlarm(retryAt);
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
    const cursor = this.ctx.storage.sql.exec<EventRow>(
      "SELECT * FROM events WHERE version > ? ORDER BY version LIMIT ?",
      query.after,
      query.limit + 1,
    );
    const events: DocumentEvent[] = [];
    let chars = 0;
    let more = false;
    for (const row of cursor) {
      // Characters, not bytes: a page may reach 3× this in UTF-8 for non-ASCII states, still far below RPC limits.
      if (
        events.length === query.limit ||
        (events.length > 0 && chars + (row.data?.length ?? 0) > HISTORY_PAGE_CHARS)
      ) {
        more = true;
        break;
      }
      chars += row.data?.length ?? 0;
      events.push(eventFromRow(this.key ?? key, row));
    }
    const last = events.at(-1);
    return { kind: "found", events, next: more && last !== undefined ? last.version : null };
  }

  /**
   * Decides a write and stores what it commits. Runs inside transactionSync, or alone when it writes a single
   * row (see commit): then nothing that can throw comes after the row's INSERT.
   */
  private applyWrite(
    request: WriteRequest,
    parsed: WellFormed,
    claim: Claim | undefined,
    now: number,
  ): { result: WriteResult; state: DocumentState | null; alarm: number | null; pending: PendingRow | null } {
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
        return { result, state: null, alarm: null, pending: null };
      }
    }
    this.pruneIdempotency(now);
    let outcome: WriteOutcome;
    let state: DocumentState | null = null;
    let alarm: number | null = null;
    let pending: PendingRow | null = null;
    const decision: Decision =
      parsed.kind === "write"
        ? decide(this.state, parsed.intent, now, {
            maxDocumentBytes: this.config.maxDocumentBytes,
            validate: (data) => validateDocument(request.key.collection, data),
          })
        : { kind: "reject", rejection: parsed };
    if (decision.kind === "reject") {
      outcome = decision.rejection;
    } else {
      state = decision.state;
      const body =
        decision.serialized === null
          ? null
          : envelopeJson(request.key, state.version, decision.serialized, state.createdAt, state.updatedAt);
      // The alarm backs the immediate send up (an eviction or crash before it); set in the event row's commit, so
      // a committed event always has one. While a failed send backs off, its retry alarm is already set. It is set
      // before the row, so that nothing that could throw follows the INSERT (an alarm with nothing to do is harmless).
      if (this.outbox.canSend(now) && (this.alarmAt === null || this.alarmAt > now + SAFETY_ALARM_MS)) {
        alarm = now + SAFETY_ALARM_MS;
        void this.ctx.storage.setAlarm(alarm);
      }
      // The confirmed mark, if a confirmation moved it since, rides in this commit (also before the INSERT).
      this.outbox.storeMark();
      pending = this.persist(request, decision, now);
      outcome = { kind: "committed", version: state.version, created: decision.created, body };
    }
    if (claim !== undefined) {
      const stored: StoredOutcome =
        outcome.kind === "committed"
          ? { kind: "committed", version: outcome.version, created: outcome.created }
          : outcome;
      this.hasKeys = true;
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO idempotency (key, fingerprint, outcome, expires_at) VALUES (?, ?, ?, ?)",
        claim.key,
        claim.fingerprint,
        JSON.stringify(stored),
        now + this.config.idempotencyTtlMs,
      );
    }
    return { result: { ...outcome, replayed: false }, state, alarm, pending };
  }

  /** The event row (state, version, timestamps, index values), which is also its outbox entry. */
  private persist(
    request: WriteRequest,
    decision: Extract<Decision, { kind: "commit" }>,
    now: number,
  ): PendingRow {
    const { key } = request;
    const { state } = decision;
    const sql = this.ctx.storage.sql;
    const event: EventRow = {
      version: state.version,
      event_id: this.newEventId(),
      type: decision.type,
      data: decision.serialized,
      committed_at: now,
      created_at: state.createdAt,
      idempotency_key: request.idempotencyKey ?? null,
      tx_id: request.txId ?? null,
      slots: slotsColumn(indexValues(key.collection, state.data)),
    };
    sql.exec(
      `INSERT INTO events (version, event_id, type, data, committed_at, created_at, idempotency_key, tx_id, slots)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      event.version,
      event.event_id,
      event.type,
      event.data,
      event.committed_at,
      event.created_at,
      event.idempotency_key,
      event.tx_id,
      event.slots,
    );
    return event;
  }

  private storeKey(key: DocumentKey): void {
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO meta (singleton, tenant, collection, id) VALUES (1, ?, ?, ?)",
      key.tenant,
      key.collection,
      key.id,
    );
  }

  private replay(stored: StoredOutcome): WriteOutcome {
    if (stored.kind !== "committed") return stored;
    return { ...stored, body: this.bodyAt(stored.version) };
  }

  /** The envelope JSON of the document as it was at `version`; null for a deletion or a version that does not exist. */
  private bodyAt(version: number): string | null {
    const key = this.key;
    if (key === null || this.schema === 0) return null;
    const row = this.ctx.storage.sql
      .exec<EventRow>("SELECT * FROM events WHERE version = ?", version)
      .toArray()[0];
    if (row === undefined || row.data === null) return null;
    return envelopeJson(key, row.version, row.data, row.created_at, row.committed_at);
  }

  /**
   * The alarm's part: forgets expired idempotency keys, and returns when the next one left expires (null: none).
   * An object that never saw a key (most) runs one indexed read here, not a DELETE.
   */
  private expireIdempotency(now: number): number | null {
    const soonest = () =>
      this.ctx.storage.sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM idempotency").one().t;
    const first = soonest();
    if (first === null || first > now) {
      this.hasKeys = first !== null;
      return first;
    }
    this.pruneIdempotency(now, true);
    const next = soonest();
    this.hasKeys = next !== null;
    return next;
  }

  /** Forgets expired idempotency keys: at most once an hour from the write path, and from the alarm when due. */
  private pruneIdempotency(now: number, force = false): void {
    if (!this.hasKeys || (!force && now < this.nextPruneAt)) return;
    this.ctx.storage.sql.exec("DELETE FROM idempotency WHERE expires_at <= ?", now);
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
  }

  private load(): void {
    const row = this.ctx.storage.sql
      .exec<LoadedRow>(
        `SELECT m.tenant, m.collection, m.id, m.confirmed_through, EXISTS (SELECT 1 FROM holes) AS has_holes,
           EXISTS (SELECT 1 FROM idempotency) AS has_keys, e.version, e.data, e.created_at, e.committed_at
         FROM meta m LEFT JOIN events e ON e.version = (SELECT max(version) FROM events)`,
      )
      .toArray()[0];
    const holes =
      row?.has_holes === 1
        ? this.ctx.storage.sql
            .exec<{ version: number }>("SELECT version FROM holes ORDER BY version")
            .toArray()
            .map((r) => r.version)
        : [];
    this.outbox.loaded(row?.version ?? 0, row?.confirmed_through ?? 0, holes);
    if (row === undefined) return;
    this.key = { tenant: row.tenant, collection: row.collection, id: row.id };
    this.keyStored = true;
    this.hasKeys = row.has_keys === 1;
    const { version, data: json, created_at: createdAt, committed_at: updatedAt } = row;
    if (version === null || createdAt === null || updatedAt === null) return;
    // The newest event is the current document; a delete leaves a tombstone (data null).
    const data = json === null ? null : (JSON.parse(json) as JsonObject);
    if (json !== null) this.body = envelopeJson(this.key, version, json, createdAt, updatedAt);
    this.state = { version, data, createdAt, updatedAt };
  }

  /** An object does not know its own name: the first request tells it, and every later one must agree. */
  private bind(key: DocumentKey): void {
    if (this.key === null) this.key = key;
    else if (!sameKey(this.key, key))
      throw new Error("document object addressed with a key that is not its own");
  }
}
