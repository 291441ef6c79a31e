/**
 * One Durable Object per document: the single writer for its key. A write is parse → decide → persist → publish:
 * the domain parses and decides, and one SQLite transaction persists the event row (which holds the state and
 * version and is the outbox entry until the change feed confirms it), the idempotency record and the alarm that
 * backs the outbox up; the outbox then publishes. A busy document's writes share commits (group commit).
 */
import { DurableObject } from "cloudflare:workers";
import { indexSignature, indexValues, validateDocument } from "../domain/collections";
import {
  type DocumentRpc,
  envelopeJson,
  type FinishResult,
  type HistoryQuery,
  type HistoryResult,
  type PrepareRequest,
  type PrepareResult,
  type ReadResult,
  type WriteOutcome,
  type WriteResult,
} from "../domain/commands";
import { type Config, readConfig } from "../domain/config";
import { sha256Hex } from "../domain/digest";
import { type Decision, type DocumentState, decide } from "../domain/document";
import { monotonicIds } from "../domain/ids";
import type { JsonObject } from "../domain/json";
import { type DocumentKey, sameKey } from "../domain/keys";
import { evaluatePreconditions } from "../domain/preconditions";
import {
  fingerprintText,
  type MalformedBody,
  type ParsedWrite,
  parseWrite,
  type WriteRequest,
} from "../domain/write-request";
import { errorText, log, setLogLevel } from "../platform/log";
import { type DocumentDeps, productionDeps } from "./document-deps";
import { migrate, SCHEMA_VERSION, schemaVersion } from "./document-schema";
import { EventLog, type EventRow, eventFromRow } from "./event-log";
import { GroupCommit } from "./group-commit";
import { type Claim, IdempotencyStore, type StoredOutcome } from "./idempotency-store";
import { CONFIRM_POLL_MS, Outbox, type OutboxStatus, slotsColumn } from "./outbox/outbox";
import { type Commit, type Hold, LEASE_MS, Participant } from "./participant";

/** Largest history page in characters of event data, so a page of large documents stays a sane response. */
const HISTORY_PAGE_CHARS = 4 * 1024 * 1024;
/**
 * How long a write, a strong read or another transaction's prepare waits for a transaction holding the document
 * to finish, before it is answered that the document is busy (409 for writes, 503 for reads, Retry-After).
 */
export const HOLD_WAIT_MS = 1_000;
/** When the coordinator cannot be asked about an expired hold, the object asks again this much later. */
const OUTCOME_RETRY_MS = 5_000;

/** A write that parsed: decided by the domain, even if refused. */
type WellFormed = Exclude<ParsedWrite, MalformedBody>;

/** A write on its way to its group's commit. */
interface PendingWrite {
  readonly request: WriteRequest;
  readonly parsed: WellFormed;
  readonly claim: Claim | undefined;
}

/** What one write stored: its answer, and the event it committed (null when it committed none). */
interface Applied {
  readonly result: WriteResult;
  readonly state: DocumentState | null;
  readonly event: EventRow | null;
  readonly alarm: number | null;
}

/** Who wrote an event besides its request: a transaction, and how many documents it wrote. */
interface Writer {
  readonly txId: string | null;
  readonly txSize: number | null;
}

/** Thrown to roll back a first write that stores nothing, so that the object keeps no schema for it. */
class NothingToStore {
  constructor(readonly result: WriteResult) {}
}

export class DocumentObject extends DurableObject<Env> implements DocumentRpc {
  /** Everything outside the object it talks to; replaceable on a live instance by tests and the chaos harness. */
  readonly deps: DocumentDeps = productionDeps(this.env);
  private readonly config: Config;
  private readonly log = new EventLog(this.ctx.storage.sql);
  private readonly idempotency: IdempotencyStore;
  private readonly outbox = new Outbox({
    storage: this.ctx.storage,
    log: this.log,
    transport: () => ({
      publish: this.deps.publish,
      storeState: this.deps.storeState,
      timeoutMs: this.deps.sendTimeoutMs,
    }),
    changeFeed: () => this.deps.changeFeed,
    clock: () => this.deps.clock(),
    report: () => this.deps.reportBacklog,
  });
  private readonly writes = new GroupCommit<PendingWrite, WriteResult>((w) => this.commit(w));
  private readonly participant = new Participant(() => this.ctx.storage.sql);
  /** The newest event written by a transaction over several documents (0: none); see EventRow.tx_before. */
  private lastTxWrite = 0;
  private readonly newEventId = monotonicIds(() => this.deps.clock());
  /** The applied schema version; 0 until the first write commits. */
  private schema = 0;
  private key: DocumentKey | null = null;
  /** Whether storage holds the key (meta): written with the first commit. */
  private keyStored = false;
  private state: DocumentState | null = null;
  /** The current state's envelope as JSON text, ready to answer reads with; null when missing or deleted. */
  private body: string | null = null;
  /** When this incarnation last committed an event, by the object's clock (0: never). */
  private lastCommitAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    setLogLevel(this.config.logLevel);
    this.idempotency = new IdempotencyStore(ctx.storage.sql, this.config.idempotencyTtlMs);
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

  /** Diagnostics for tests: how many groups the group commit applied, and how many writes they held. */
  get groupCommits(): { groups: number; writes: number } {
    return this.writes.stats;
  }

  /** Outbox counters, for tests and diagnostics. */
  outboxStatus(): OutboxStatus | null {
    return this.schema === 0 ? null : this.outbox.status();
  }

  /**
   * Applies one write: linearizable, because everything from the idempotency lookup to the commit is
   * synchronous, and writes apply in the order they arrive. Only a write with an Idempotency-Key awaits first, to
   * digest the request it is compared by.
   */
  write(request: WriteRequest): WriteResult | Promise<WriteResult> {
    this.bind(request.key);
    const parsed = parseWrite(request);
    if (parsed.kind === "malformed") return { ...parsed, replayed: false };
    const claimKey = request.idempotencyKey;
    if (claimKey === undefined) {
      const pending: PendingWrite = { request, parsed, claim: undefined };
      return this.participant.held() ? this.afterHold(pending) : this.writes.submit(pending);
    }
    // A body refused as invalid is compared by its bytes: it may be too deep to put in canonical form.
    const text =
      parsed.kind === "write"
        ? fingerprintText(request, parsed.parsed)
        : `refused\n${request.body.type}\n${"json" in request.body ? request.body.json : ""}`;
    return sha256Hex(text).then((fingerprint) =>
      this.afterHold({ request, parsed, claim: { key: claimKey, fingerprint } }),
    );
  }

  /**
   * A write that meets a document held by a transaction waits for the outcome, HOLD_WAIT_MS at most, and is
   * then applied after the transaction's write; past that it is answered `locked`, having written nothing.
   */
  private async afterHold(pending: PendingWrite): Promise<WriteResult> {
    const deadline = Date.now() + HOLD_WAIT_MS;
    for (;;) {
      const left = deadline - Date.now();
      if (this.participant.held() && !(left > 0 && (await this.participant.waitUntilFree(left)))) {
        return { kind: "locked", replayed: false };
      }
      const result = await this.writes.submit(pending);
      // A prepare may have taken the document between the wait and the group's commit.
      if (result.kind !== "locked" || deadline <= Date.now()) return result;
    }
  }

  /**
   * The current document, or the one at `version`. A document held by a transaction is read once the outcome is
   * known (HOLD_WAIT_MS at most, else `locked`): a strong read never sees a state from before a transaction that
   * another of its documents already shows.
   */
  read(key: DocumentKey, version?: number): ReadResult | Promise<ReadResult> {
    this.bind(key);
    if (version !== undefined) {
      const body = this.bodyAt(version);
      return body === null ? { kind: "not-found", deleted: false } : { kind: "found", version, body };
    }
    if (this.participant.held()) {
      return this.participant
        .waitUntilFree(HOLD_WAIT_MS)
        .then((free): ReadResult => (free ? this.current() : { kind: "locked" }));
    }
    return this.current();
  }

  private current(): ReadResult {
    const state = this.state;
    if (state === null || this.body === null) return { kind: "not-found", deleted: state !== null };
    return { kind: "found", version: state.version, body: this.body };
  }

  history(key: DocumentKey, query: HistoryQuery): HistoryResult {
    this.bind(key);
    if (this.state === null) return { kind: "not-found" };
    const { rows, more } = this.log.page(query.after, query.limit, HISTORY_PAGE_CHARS);
    const events = rows.map((row) => eventFromRow(this.key ?? key, row));
    const last = events.at(-1);
    return { kind: "found", events, next: more && last !== undefined ? last.version : null };
  }

  /** Sends and confirms the outbox's events, and forgets expired idempotency keys; see Outbox.alarm. */
  /**
   * Whether a write sent with `idempotencyKey` committed here, without writing anything: how a saga settles a step
   * whose answers were all lost. `unknown`: no record (it never arrived, or its record expired).
   */
  applied(key: DocumentKey, idempotencyKey: string): "committed" | "refused" | "unknown" {
    this.bind(key);
    if (this.schema === 0) return "unknown";
    const outcome = this.idempotency.outcomeOf(idempotencyKey, this.deps.clock());
    return outcome === null ? "unknown" : outcome.kind === "committed" ? "committed" : "refused";
  }

  /** The audit's question: the newest version and when it committed (null before the first write). */
  head(key: DocumentKey): { version: number; committedAt: number } | null {
    this.bind(key);
    const state = this.state;
    return state === null ? null : { version: state.version, committedAt: state.updatedAt };
  }

  /** The audit's repair: sends these versions' events again, whatever the outbox believes the feed holds. */
  async resend(key: DocumentKey, from: number, to: number): Promise<number> {
    this.bind(key);
    if (this.schema === 0 || from > to) return 0;
    return this.outbox.resend(key, from, to);
  }

  /** The pipeline monitor's wake-up for a backed-off outbox: send and confirm now (see Outbox.nudge). */
  async nudge(key: DocumentKey): Promise<void> {
    this.bind(key);
    if (this.schema === 0) return;
    const now = this.deps.clock();
    await this.outbox.nudge(key, now, now - this.lastCommitAt >= CONFIRM_POLL_MS, this.nextDuty(now));
  }

  /** When the object's other duties need the alarm (idempotency and transaction records expiring). */
  private nextDuty(now: number): number | null {
    const next = [
      this.idempotency.expire(now),
      this.participant.expire(now),
      this.participant.current?.expiresAt ?? null,
    ];
    const due = next.filter((t): t is number => t !== null);
    return due.length === 0 ? null : Math.min(...due);
  }

  override async alarm(): Promise<void> {
    if (this.schema === 0 || this.key === null) return;
    const key = this.key;
    let now = this.deps.clock();
    let holdDue = this.participant.current?.expiresAt ?? null;
    const hold = this.participant.current;
    if (hold !== null && now >= hold.expiresAt) {
      holdDue = (await this.resolveExpiredHold(key, hold)) ? null : now + OUTCOME_RETRY_MS;
      now = this.deps.clock();
    }
    const quiet = now - this.lastCommitAt >= CONFIRM_POLL_MS;
    const next = [this.idempotency.expire(now), this.participant.expire(now), holdDue].filter(
      (t): t is number => t !== null,
    );
    await this.outbox.alarm(key, now, quiet, next.length === 0 ? null : Math.min(...next));
  }

  /**
   * A hold whose lease ran out asks the coordinator how its transaction ended: commit applies it, anything else
   * releases it (a coordinator with no decision decides abort: presumed abort). False when it could not ask.
   */
  private async resolveExpiredHold(key: DocumentKey, hold: Hold): Promise<boolean> {
    try {
      const coordinator = this.env.TRANSACTIONS.get(this.env.TRANSACTIONS.idFromName(hold.coordinator));
      const outcome = await coordinator.outcome(hold.txId);
      if (this.participant.current?.txId !== hold.txId) return true; // settled meanwhile
      if (outcome.kind === "commit") this.commitPrepared(key, hold.txId, outcome.size);
      else this.abortPrepared(key, hold.txId);
      return true;
    } catch (error) {
      log.warn("transaction outcome unknown; asking again", { txId: hold.txId, error: errorText(error) });
      return false;
    }
  }

  /**
   * A transaction's first phase here: decides its operation against the current state, as a single write would
   * be decided, and holds the document until the outcome (or the lease's end). Waits HOLD_WAIT_MS at most for
   * another transaction's hold; a duplicate prepare answers as the first did.
   */
  async prepare(request: PrepareRequest): Promise<PrepareResult> {
    this.bind(request.key);
    const { txId } = request;
    // Every waiter wakes when a hold ends and one of them takes the document next: the others wait again.
    const deadline = Date.now() + HOLD_WAIT_MS;
    while (this.participant.held() && this.participant.current?.txId !== txId) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.participant.waitUntilFree(left))) return { kind: "locked" };
    }
    const hold = this.participant.current;
    if (hold?.txId === txId) return { kind: "prepared", version: hold.decision?.state.version ?? null };
    if (this.schema !== 0 && this.participant.ended(txId) !== null) return { kind: "finished" };
    const now = this.deps.clock();
    let decision: Commit | null = null;
    if (request.body === null) {
      const live = this.state?.data != null ? this.state.version : undefined;
      if (evaluatePreconditions(request.preconditions, live) !== "pass") {
        return {
          kind: "refused",
          rejection: { kind: "precondition-failed", ...(live === undefined ? {} : { currentVersion: live }) },
        };
      }
    } else {
      const parsed = parseWrite({
        key: request.key,
        body: request.body,
        preconditions: request.preconditions,
      });
      if (parsed.kind !== "write") return { kind: "refused", rejection: parsed };
      const decided = this.decideWrite(request.key, parsed.intent, now);
      if (decided.kind === "reject") return { kind: "refused", rejection: decided.rejection };
      decision = decided;
    }
    const expiresAt = now + LEASE_MS;
    this.ctx.storage.transactionSync(() => {
      if (this.schema === 0) migrate(this.ctx.storage.sql, 0);
      if (!this.keyStored) this.log.storeKey(request.key);
      this.participant.take({ txId, coordinator: request.coordinator, decision, expiresAt });
    });
    this.schema = SCHEMA_VERSION;
    this.keyStored = true;
    await this.outbox.requestAlarm(expiresAt);
    return { kind: "prepared", version: decision?.state.version ?? null };
  }

  /** Applies the write `txId` prepared here and releases the document (idempotent: a repeat reports the first). */
  commitPrepared(key: DocumentKey, txId: string, size: number): FinishResult {
    this.bind(key);
    const hold = this.participant.current;
    if (hold?.txId !== txId) return this.finished(txId);
    const now = this.deps.clock();
    const decision = hold.decision;
    let committed: { event: EventRow; alarm: number | null } | null = null;
    this.ctx.storage.transactionSync(() => {
      if (decision !== null) {
        const alarm = this.outbox.beforeCommit(now);
        const event = this.eventRow(key, decision, now, { txId, txSize: size }, undefined);
        this.log.append(event);
        committed = { event, alarm };
      }
      this.participant.release(txId, "committed", now);
    });
    if (decision !== null && committed !== null) {
      const { event, alarm } = committed as { event: EventRow; alarm: number | null };
      this.afterTransactionWrite(key, decision, event, alarm, now);
    }
    this.participant.wake();
    return { kind: "committed", version: decision?.state.version ?? null };
  }

  /** Releases the document `txId` holds, writing nothing (idempotent; remembered, so a late prepare is refused). */
  abortPrepared(key: DocumentKey, txId: string): FinishResult {
    this.bind(key);
    const now = this.deps.clock();
    if (this.participant.current?.txId !== txId) {
      const ended = this.finished(txId);
      if (ended.kind !== "unknown" || this.schema === 0) return ended;
      // Never held here (its prepare was refused, or has not landed yet): remember the end, so that a prepare
      // arriving late is refused. Another transaction's hold stays as it is.
      this.participant.remember(txId, "aborted", now);
      return { kind: "aborted" };
    }
    this.ctx.storage.transactionSync(() => this.participant.release(txId, "aborted", now));
    this.participant.wake();
    return { kind: "aborted" };
  }

  /** How a transaction that holds nothing here ended, as far as this document knows. */
  private finished(txId: string): FinishResult {
    if (this.schema === 0) return { kind: "unknown" };
    const ended = this.participant.ended(txId);
    if (ended === "aborted") return { kind: "aborted" };
    if (ended === "committed") return { kind: "committed", version: this.log.versionOf(txId) };
    return { kind: "unknown" };
  }

  /** Persists one write and publishes its event: in one transaction, or as one statement when it is one row. */
  private commit(write: PendingWrite): WriteResult {
    const { request, claim } = write;
    const now = this.deps.clock();
    const fresh = this.schema === 0;
    // A write without an Idempotency-Key to a stored document writes one row, its event: one statement, which
    // SQLite applies whole or not at all and workerd commits with the alarm in the turn's implicit transaction.
    // A write that stores more (the schema, the key, an idempotency record, a pruning) runs in transactionSync, so
    // that all of it commits or none does.
    const oneRow = !fresh && this.keyStored && claim === undefined && !this.idempotency.pruneDue(now);
    let applied: Applied;
    try {
      applied = oneRow
        ? this.apply(write, now)
        : this.ctx.storage.transactionSync(() => {
            if (fresh) migrate(this.ctx.storage.sql, 0);
            if (!this.keyStored) this.log.storeKey(request.key);
            const done = this.apply(write, now);
            if (fresh && done.event === null && claim === undefined) throw new NothingToStore(done.result);
            return done;
          });
    } catch (error) {
      if (error instanceof NothingToStore) return error.result;
      throw error;
    }
    this.schema = SCHEMA_VERSION;
    this.keyStored = true;
    const { result, state, event, alarm } = applied;
    if (state !== null && event !== null) {
      this.lastCommitAt = now;
      this.state = state;
      this.body = result.kind === "committed" ? result.body : null;
      this.outbox.committed(request.key, event, alarm, now);
    }
    return result;
  }

  /** After a transaction's write committed: the same bookkeeping as a single write's (see commit). */
  private afterTransactionWrite(
    key: DocumentKey,
    decision: Commit,
    event: EventRow,
    alarm: number | null,
    now: number,
  ): void {
    const { state } = decision;
    this.lastCommitAt = now;
    this.state = state;
    this.body =
      decision.serialized === null
        ? null
        : envelopeJson(key, state.version, decision.serialized, state.createdAt, state.updatedAt);
    this.outbox.committed(key, event, alarm, now);
  }

  private decideWrite(key: DocumentKey, intent: Parameters<typeof decide>[1], now: number): Decision {
    return decide(this.state, intent, now, {
      maxDocumentBytes: this.config.maxDocumentBytes,
      validate: (data) => validateDocument(key.collection, data),
    });
  }

  /**
   * Decides a write and stores what it commits. Runs inside transactionSync, or alone when it writes a single
   * row (see commit): then nothing that can throw comes after the row's INSERT.
   */
  private apply({ request, parsed, claim }: PendingWrite, now: number): Applied {
    // A transaction took the document after this write was queued: it waits for the outcome (see afterHold).
    if (this.participant.held())
      return { result: { kind: "locked", replayed: false }, state: null, event: null, alarm: null };
    if (claim !== undefined) {
      const prior = this.idempotency.find(claim, now);
      if (prior !== null) {
        const result: WriteResult =
          prior.kind === "replay"
            ? { ...this.replay(prior.outcome), replayed: true }
            : { kind: "idempotency-key-reused", replayed: false };
        return { result, state: null, event: null, alarm: null };
      }
    }
    this.idempotency.prune(now);
    const decision: Decision =
      parsed.kind === "write"
        ? this.decideWrite(request.key, parsed.intent, now)
        : { kind: "reject", rejection: parsed };
    let outcome: WriteOutcome;
    let committed: Omit<Applied, "result"> = { state: null, event: null, alarm: null };
    if (decision.kind === "reject") {
      outcome = decision.rejection;
    } else {
      const { state } = decision;
      const body =
        decision.serialized === null
          ? null
          : envelopeJson(request.key, state.version, decision.serialized, state.createdAt, state.updatedAt);
      const alarm = this.outbox.beforeCommit(now);
      const event = this.eventRow(
        request.key,
        decision,
        now,
        { txId: request.txId ?? null, txSize: null },
        request.idempotencyKey,
      );
      this.log.append(event);
      committed = { state, event, alarm };
      outcome = { kind: "committed", version: state.version, created: decision.created, body };
    }
    if (claim !== undefined) this.idempotency.record(claim, outcome, now);
    return { result: { ...outcome, replayed: false }, ...committed };
  }

  /**
   * The event row (state, version, timestamps, index values), which is also its outbox entry. It names the newest
   * earlier transaction write the change feed may not hold yet (tx_before), so the projector shows no state that
   * carries a transaction's effect before the whole transaction.
   */
  private eventRow(
    key: DocumentKey,
    decision: Commit,
    now: number,
    writer: Writer,
    idempotencyKey: string | undefined,
  ): EventRow {
    const { state } = decision;
    const before = this.lastTxWrite > 0 && !this.outbox.confirmed(this.lastTxWrite) ? this.lastTxWrite : null;
    if (writer.txSize !== null && writer.txSize > 1) this.lastTxWrite = state.version;
    return {
      version: state.version,
      event_id: this.newEventId(),
      type: decision.type,
      data: decision.serialized,
      committed_at: now,
      created_at: state.createdAt,
      idempotency_key: idempotencyKey ?? null,
      tx_id: writer.txId,
      slots: slotsColumn(indexValues(key.collection, state.data)),
      ix: indexSignature(key.collection),
      tx_size: writer.txSize,
      tx_before: before,
    };
  }

  private replay(stored: StoredOutcome): WriteOutcome {
    if (stored.kind !== "committed") return stored;
    return { ...stored, body: this.bodyAt(stored.version) };
  }

  /** The envelope JSON of the document as it was at `version`; null for a deletion or a version that does not exist. */
  private bodyAt(version: number): string | null {
    const key = this.key;
    if (key === null || this.schema === 0) return null;
    const row = this.log.at(version);
    if (row === undefined || row.data === null) return null;
    return envelopeJson(key, row.version, row.data, row.created_at, row.committed_at);
  }

  private load(): void {
    this.participant.load();
    this.lastTxWrite = this.log.lastTransactionWrite();
    const head = this.log.loadHead();
    this.outbox.loaded(head?.newest?.version ?? 0, head?.confirmedThrough ?? 0, head?.holes ?? []);
    if (head === undefined) return;
    this.key = head.key;
    this.keyStored = true;
    this.idempotency.hasKeys = head.hasKeys;
    const newest = head.newest;
    if (newest === null) return;
    // The newest event is the current document; a delete leaves a tombstone (data null).
    const data = newest.data === null ? null : (JSON.parse(newest.data) as JsonObject);
    if (newest.data !== null)
      this.body = envelopeJson(head.key, newest.version, newest.data, newest.createdAt, newest.committedAt);
    this.state = {
      version: newest.version,
      data,
      createdAt: newest.createdAt,
      updatedAt: newest.committedAt,
    };
  }

  /** An object does not know its own name: the first request tells it, and every later one must agree. */
  private bind(key: DocumentKey): void {
    if (this.key === null) this.key = key;
    else if (!sameKey(this.key, key))
      throw new Error("document object addressed with a key that is not its own");
  }
}
