/**
 * A document object's outbox: committed events wait here until the read model has them.
 *
 * The outbox is the tail of the object's event log: every event above `meta.confirmed_through`, the version
 * through which the change feed in D1 holds every event, plus the `holes` below it. The event row is the outbox
 * entry, so a write stores one row, not two. The mark moves in memory when a confirmation finds the feed holding
 * a run of events, and reaches storage with the next write's commit (or with the holes, when they change): a
 * confirmation commits nothing of its own. An event the feed is found to lack does not hold the mark back: the
 * mark passes it and it waits as a hole (one row), so one poisoned event cannot make everything after it wait.
 * Even a queue that loses what it accepted (Miniflare's does on a restart) loses no event: an event the feed
 * still lacks CONFIRM_AFTER_MS after its send is sent again, with backoff, forever. The bookkeeping is the ledger's
 * (pure, in memory: it spares a commit per write); a new incarnation of the object asks the feed first and sends
 * again only what the feed lacks. How events travel is the sender's. This module holds the SQL, the send loop and
 * the alarm policy: when the object's alarm must fire for its events.
 */
import type { DocumentKey } from "../../domain/keys";
import { errorText, log } from "../../platform/log";
import type { EventLog, EventRow } from "../event-log";
import { CONFIRM_POLL_MS, Ledger, PASS_ROWS, RUNS_PER_QUERY } from "./ledger";
import { Backoff, Sender, type Transport } from "./sender";

export { CONFIRM_AFTER_MS, CONFIRM_POLL_MS } from "./ledger";
export type { Publisher, StateStore, Transport } from "./sender";

/** What the change feed (D1) holds of one document's events. */
export interface ChangeFeed {
  /** Which of these versions it holds: how holes, which lie scattered below the mark, are asked about. */
  holds(key: DocumentKey, versions: readonly number[]): Promise<Set<number>>;
  /**
   * The runs of consecutive versions from `from` through `to` that it holds, in order, at most `limit` of them.
   * A run of any length is one row, so a hot document's thousands of events are confirmed by one query.
   */
  runs(key: DocumentKey, from: number, to: number, limit: number): Promise<Array<readonly [number, number]>>;
}

export interface OutboxStatus {
  /** Events not handed to the queue yet, or to be handed again (after a restart, none until the feed is asked). */
  readonly unsent: number;
  /** Events the queue accepted (or, after a restart, of unknown fate) that the change feed has not confirmed. */
  readonly unconfirmed: number;
  /** Consecutive failed sends; 0 once one succeeds. */
  readonly failures: number;
  /** No send is tried before this time (epoch ms) unless the alarm tries; null when sends succeed. */
  readonly retryAt: number | null;
  /** The change feed holds every event through this version but the holes (storage may hold a lower mark). */
  readonly confirmedThrough: number;
}

/** The `slots` column of an event row: the index values as JSON, null when the document has none. */
export function slotsColumn(slots: ReadonlyArray<string | number | null>): string | null {
  return slots.every((s) => s === null) ? null : JSON.stringify(slots);
}

/** One flush pass reads at most PASS_ROWS rows, or this many characters of state, whichever comes first. */
const PASS_CHARS = 4 * 1024 * 1024;
/**
 * The alarm set with every write: it sends what the immediate send did not (an eviction or a crash before it),
 * and asks the change feed whether the events arrived.
 */
const SAFETY_ALARM_MS = CONFIRM_POLL_MS;

/** A stuck backlog as the outbox reports it (null: none any more): what /metrics sums and recovery wakes. */
export type Backlog = { readonly events: number; readonly retryAt: number | null } | null;

export interface OutboxDeps {
  readonly storage: DurableObjectStorage;
  readonly log: EventLog;
  readonly transport: () => Transport;
  readonly changeFeed: () => ChangeFeed;
  readonly clock: () => number;
  /** Where a stuck backlog is reported (a send failed, or the feed lacked events); best effort. */
  readonly report: () => (key: DocumentKey, backlog: Backlog) => Promise<void>;
}

export class Outbox {
  private readonly ledger = new Ledger();
  private readonly sender: Sender;
  private readonly backoff = new Backoff();
  private flushing: Promise<boolean> | null = null;
  private again = false;
  /**
   * The newest rows committed in this incarnation and not yet sent, in version order, so that the usual flush
   * sends what the write just committed without reading it back. Bounded like a pass; older rows are read.
   */
  private recent: EventRow[] = [];
  private recentChars = 0;
  /** When the alarm is set for, as far as this incarnation knows (null: none, or unknown after a restart). */
  private alarmAt: number | null = null;
  /** Whether this incarnation reported a stuck backlog that it has not cleared yet. */
  private reported = false;

  constructor(private readonly deps: OutboxDeps) {
    this.sender = new Sender(deps.transport);
  }

  /** What storage holds: the newest version, the mark and the holes (see Ledger.loaded). */
  loaded(latest: number, confirmedThrough: number, holes: readonly number[] = []): void {
    this.ledger.loaded(latest, confirmedThrough, holes);
  }

  /**
   * The write path's part, inside the write's transaction and before its event's INSERT (so that nothing that
   * could throw follows it): the alarm that backs the immediate send up, set in the same commit so that a
   * committed event always has one (while a failed send backs off, its retry alarm is already set), and the
   * confirmed mark, if a confirmation moved it since. Returns the alarm set, or null.
   */
  beforeCommit(now: number): number | null {
    this.storeMark();
    if (!this.backoff.canSend(now)) return null;
    if (this.alarmAt !== null && this.alarmAt <= now + SAFETY_ALARM_MS) return null;
    const alarm = now + SAFETY_ALARM_MS;
    void this.deps.storage.setAlarm(alarm);
    return alarm;
  }

  /** After the write's commit: the event is pending, and is sent without making the client wait. */
  committed(key: DocumentKey, row: EventRow, alarm: number | null, now: number): void {
    if (alarm !== null) this.alarmAt = alarm;
    this.ledger.committed(row.version);
    const last = this.recent.at(-1);
    if (last !== undefined && last.version + 1 !== row.version) this.forgetRecent();
    this.recent.push(row);
    this.recentChars += row.data?.length ?? 0;
    while (this.recent.length > PASS_ROWS || (this.recent.length > 1 && this.recentChars > PASS_CHARS)) {
      this.recentChars -= this.recent.shift()?.data?.length ?? 0;
    }
    // While a failed send backs off, the retry alarm sends this one too.
    if (this.backoff.canSend(now)) void this.flushLogged(key);
  }

  /** Whether the change feed is known to hold this version. */
  confirmed(version: number): boolean {
    return this.ledger.isConfirmed(version);
  }

  /** Makes the alarm fire by `at` at the latest (the object's other duties: a transaction's lease, expiries). */
  requestAlarm(at: number): Promise<void> {
    return this.schedule(at);
  }

  /** Known without reading storage: versions are gap-free, so the counts follow from the marks. */
  status(): OutboxStatus {
    return { ...this.ledger.counts(), failures: this.backoff.failures, retryAt: this.backoff.retryAt };
  }

  /**
   * The alarm's part: sends what waits (retrying a failed send), asks the change feed what arrived when the
   * answer matters, sends again what never did, and sets the next alarm: for the outbox while anything is
   * outstanding, else at `otherwise` (the object's other duties; null for none). The feed is asked once the
   * document has gone quiet (`quiet`: its outbox then empties while the object is in memory), or when the answer
   * could lead to a resend. A busy document does not ask every poll: each question is a read-model query, and
   * thousands of busy documents asking every few seconds would load D1.
   */
  async alarm(key: DocumentKey, now: number, quiet: boolean, otherwise: number | null): Promise<void> {
    this.alarmAt = null;
    // A flush that writes keep busy (a hot document) must not hold confirmation back: join it only when idle.
    if (this.flushing !== null) void this.flushLogged(key);
    else if (this.ledger.hasUnsent()) await this.flushLogged(key);
    const asked = quiet || this.ledger.confirmationDue(now);
    if (asked) {
      try {
        if ((await this.confirm(key, now)) > 0) await this.flushLogged(key);
      } catch (error) {
        // The read model is unreachable: the rows stay, and the next alarm asks again.
        log.warn("outbox confirmation failed", { error: errorText(error) });
      }
    }
    const { unsent, unconfirmed } = this.ledger.counts();
    if (this.reported && unsent + unconfirmed === 0) await this.report(key, null);
    let next: number | null;
    if (unsent > 0) next = this.backoff.retryAt ?? now + SAFETY_ALARM_MS;
    else if (unconfirmed > 0) next = asked ? this.ledger.nextConfirmation(now) : now + CONFIRM_POLL_MS;
    else next = otherwise;
    if (next !== null) await this.schedule(next);
  }

  /**
   * Recovery's wake-up: the pipeline takes events again, so a send backing off is tried now, and the alarm's
   * work (sending, asking the feed, sending again what it lacks) runs at once.
   */
  async nudge(key: DocumentKey, now: number, quiet: boolean, otherwise: number | null): Promise<void> {
    this.backoff.succeeded();
    // A backlog report this incarnation does not know of (made before a restart) is cleared once it is empty.
    this.reported = true;
    await this.alarm(key, now, quiet, otherwise);
  }

  /** Sends these versions again now (the audit found the read model lacking them); returns how many. */
  async resend(key: DocumentKey, from: number, to: number): Promise<number> {
    const rows = this.deps.log.page(from - 1, Math.min(PASS_ROWS, to - from + 1), PASS_CHARS).rows;
    await this.sender.send(key, rows, () => {});
    return rows.length;
  }

  /** Tells the backlog registry (best effort: the object's own alarm recovers without it). */
  private async report(key: DocumentKey, backlog: Backlog): Promise<void> {
    try {
      await this.deps.report()(key, backlog);
      this.reported = backlog !== null;
    } catch (error) {
      log.warn("outbox backlog not reported", { error: errorText(error) });
    }
  }

  private async schedule(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.deps.storage.setAlarm(at);
  }

  /** Stores the mark if it moved since it was last stored; it only ever moves forward, whatever ran meanwhile. */
  private storeMark(): void {
    const through = this.ledger.markToStore();
    if (through === null) return;
    this.deps.storage.sql.exec(
      "UPDATE meta SET confirmed_through = ? WHERE confirmed_through < ?",
      through,
      through,
    );
    this.ledger.markStored(through);
  }

  /**
   * Asks the change feed about sent events (see Ledger.question) and records its answer: the mark moves, and
   * holes that open or fill are stored with it in this turn's commit. Returns how many are to be sent again.
   */
  private async confirm(key: DocumentKey, now: number): Promise<number> {
    const question = this.ledger.question();
    if (question === null) return 0;
    const feed = this.deps.changeFeed();
    const found = question.holes.length > 0 ? await feed.holds(key, question.holes) : new Set<number>();
    const runs =
      question.from <= question.to ? await feed.runs(key, question.from, question.to, RUNS_PER_QUERY) : [];
    const { lost, filled, opened } = this.ledger.answer(question, { found, runs }, now);
    this.sender.forget((v) => this.ledger.isConfirmed(v));
    if (filled.length > 0 || opened.length > 0) {
      const sql = this.deps.storage.sql;
      if (filled.length > 0)
        sql.exec(
          "DELETE FROM holes WHERE version IN (SELECT value FROM json_each(?))",
          JSON.stringify(filled),
        );
      if (opened.length > 0)
        sql.exec(
          "INSERT OR IGNORE INTO holes (version) SELECT value FROM json_each(?)",
          JSON.stringify(opened),
        );
      // A stored hole never lies above the stored mark: a restart would count it twice.
      this.storeMark();
    }
    if (lost.length > 0) {
      log.warn("events not in the change feed; sending again", {
        document: `${key.collection}/${key.id}`,
        versions: lost.length,
      });
      const { unsent, unconfirmed } = this.ledger.counts();
      await this.report(key, { events: unsent + unconfirmed, retryAt: this.backoff.retryAt });
    }
    return lost.length;
  }

  /** A flush whose failure is logged: the caller has nothing to do about it but the alarm, which is set. */
  private async flushLogged(key: DocumentKey): Promise<void> {
    try {
      if (await this.flush(key)) return;
      const { retryAt } = this.backoff;
      if (retryAt !== null) await this.schedule(retryAt);
    } catch (error) {
      log.error("outbox flush failed", { error: errorText(error) });
    }
  }

  /**
   * Sends everything pending. Concurrent callers share one flush; a call that arrives during a flush makes it
   * run once more, so events committed meanwhile are not left behind. Resolves true when the outbox drained,
   * false when a send failed (status().retryAt then says when to try again).
   */
  private flush(key: DocumentKey): Promise<boolean> {
    if (this.flushing !== null) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.drain(key).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(key: DocumentKey): Promise<boolean> {
    do {
      this.again = false;
      for (;;) {
        const rows = this.nextPass();
        if (rows.length === 0) break;
        if (!(await this.sendRows(key, rows))) return false;
      }
    } while (this.again);
    return true;
  }

  /** The next events to send, in version order: those to send again first, then the unsent ones. */
  private nextPass(): EventRow[] {
    const next = this.ledger.nextSend();
    if (next === null) return [];
    if (next.resend.length === 0 && this.recent[0]?.version === next.from) {
      // Everything unsent is in memory: what the writes since the last send committed.
      return [...this.recent];
    }
    const rows =
      next.resend.length > 0
        ? this.deps.log.versions(next.resend)
        : this.deps.log.page(next.from - 1, PASS_ROWS, PASS_CHARS).rows;
    if (next.resend.length === 0) return rows;
    const pass: EventRow[] = [];
    let chars = 0;
    for (const row of rows) {
      if (pass.length > 0 && chars + (row.data?.length ?? 0) > PASS_CHARS) break;
      chars += row.data?.length ?? 0;
      pass.push(row);
    }
    return pass;
  }

  private async sendRows(key: DocumentKey, rows: EventRow[]): Promise<boolean> {
    try {
      await this.sender.send(key, rows, (versions) => {
        this.ledger.sent(versions, this.now());
        const sentBelow = this.ledger.sentBelow;
        while (this.recent[0] !== undefined && this.recent[0].version < sentBelow) {
          this.recentChars -= this.recent.shift()?.data?.length ?? 0;
        }
      });
      this.backoff.succeeded();
      return true;
    } catch (error) {
      this.backoff.failed(this.now());
      log.warn("outbox send failed; will retry", {
        document: `${key.collection}/${key.id}`,
        failures: this.backoff.failures,
        error: error instanceof Error ? error.message : String(error),
      });
      // Reported once per streak of failures (and again when the backoff grows past a minute): recovery finds it.
      const { failures, retryAt } = this.backoff;
      if (failures === 1 || (retryAt !== null && retryAt - this.now() > 60_000 && failures % 4 === 0)) {
        const { unsent, unconfirmed } = this.ledger.counts();
        void this.report(key, { events: unsent + unconfirmed, retryAt });
      }
      return false;
    }
  }

  private now(): number {
    return this.deps.clock();
  }

  private forgetRecent(): void {
    this.recent = [];
    this.recentChars = 0;
  }
}
