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
 * still lacks CONFIRM_AFTER_MS after its send is sent again, with backoff, forever. Which events were sent, and
 * which above the mark were confirmed, is kept in memory: it spares a commit per write. A new incarnation of the
 * object (after an eviction or a crash) does not know what was sent, so it asks the feed first and sends again
 * only what the feed lacks. A failed send backs off exponentially; until the backoff ends, writes leave the retry
 * to the alarm. Large states are stored in R2 once and travel by reference.
 */
import {
  type EventMessage,
  INLINE_DATA_BYTES,
  type IndexSlots,
  messageBytes,
  planBatches,
  stateKey,
} from "../domain/event-message";
import type { DocumentKey } from "../domain/keys";
import { withTimeout } from "../workers/timeout";
import { EVENT_COLUMNS, type EventRow, eventHeader } from "./event-rows";

export type Publisher = (batch: readonly EventMessage[]) => Promise<void>;
export type StateStore = (key: string, json: string) => Promise<void>;
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

/** An event as the outbox sends it: its row in the log, which carries the index values computed at commit. */
export type PendingRow = EventRow;

/** The `slots` column of an event row: the index values as JSON, null when the document has none. */
export function slotsColumn(slots: IndexSlots): string | null {
  return slots.every((s) => s === null) ? null : JSON.stringify(slots);
}

/** One flush pass reads at most this many rows, or this many characters of state, whichever comes first. */
const PASS_ROWS = 500;
/** The most runs one confirmation asks the change feed for; versions past the last one wait for the next pass. */
const RUNS_PER_QUERY = 200;
const PASS_CHARS = 4 * 1024 * 1024;
const BASE_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;
/** How long a sent event may take to reach the change feed before it is sent again. */
export const CONFIRM_AFTER_MS = 30_000;
/** Resends back off: the wait doubles with each one, up to this many doublings (30 s → 16 min). */
const MAX_RESEND_DOUBLINGS = 5;
/**
 * When to ask the change feed after a send: soon enough that the object is usually still in memory (the runtime
 * evicts an idle one after about 10 s), doubling while nothing gets confirmed, up to a minute.
 */
export const CONFIRM_POLL_MS = 4_000;
const MAX_CONFIRM_POLL_MS = 60_000;
/** A busy document asks the change feed anyway once this many events wait: memory holds one entry for each. */
const MAX_WAITING = 10_000;

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

export class Outbox {
  private flushing: Promise<boolean> | null = null;
  private again = false;
  /** The change feed holds every event up to this version, except the holes. */
  private confirmedThrough = 0;
  /** The mark as storage holds it (meta.confirmed_through): at most confirmedThrough, and never below a hole. */
  private storedThrough = 0;
  /** Events at or below confirmedThrough that the change feed lacked when the mark passed them (table holes). */
  private readonly holes = new Set<number>();
  /** Events above confirmedThrough that the change feed holds, while an older one is still missing. */
  private readonly confirmedAbove = new Set<number>();
  /** Sends go in version order: every event at or above this version is unsent. */
  private unsentFrom = 1;
  /** Events below unsentFrom that the change feed lacked: sent again on the next flush. */
  private readonly resend = new Set<number>();
  private readonly sentAt = new Map<number, number>();
  private readonly resends = new Map<number, number>();
  /** Versions whose large state is already in R2, so a retried send does not upload it again. */
  private readonly stored = new Set<number>();
  private failures = 0;
  private retryAt: number | null = null;
  /**
   * The newest rows committed in this incarnation and not yet sent, in version order, so that the usual flush
   * sends what the write just committed without reading it back. Bounded like a pass; older rows are read.
   */
  private recent: PendingRow[] = [];
  private recentChars = 0;
  /** The newest version committed (0: none); events up to it may wait in the outbox. */
  private latest = 0;
  private idlePolls = 0;
  /** Events up to this version were committed by an earlier incarnation: whether they were sent is not known. */
  private unknownThrough = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly send: () => Publisher,
    private readonly putState: () => StateStore,
    private readonly clock: () => number,
    /** A send or upload that has not answered by then counts as failed (it may still land: resending is safe). */
    private readonly timeoutMs: () => number,
  ) {}

  /** After the write committed its event row: the event is pending from now on. */
  committed(row: PendingRow): void {
    this.latest = Math.max(this.latest, row.version);
    const last = this.recent.at(-1);
    if (last !== undefined && last.version + 1 !== row.version) this.forgetRecent();
    this.recent.push(row);
    this.recentChars += row.data?.length ?? 0;
    while (this.recent.length > PASS_ROWS || (this.recent.length > 1 && this.recentChars > PASS_CHARS)) {
      this.recentChars -= this.recent.shift()?.data?.length ?? 0;
    }
  }

  /**
   * What the object found in storage: its newest version, the version through which the change feed is
   * confirmed, and the holes below it. Whether the events above the mark were sent is not known: they count as
   * sent long ago, so the next confirmation asks the feed about them and sends again, at once, only what it lacks.
   * None of them is sent blind, and none waits on memory this incarnation never had.
   */
  loaded(latest: number, confirmedThrough: number, holes: readonly number[] = []): void {
    this.latest = latest;
    this.confirmedThrough = confirmedThrough;
    this.storedThrough = confirmedThrough;
    this.unsentFrom = latest + 1;
    this.unknownThrough = latest;
    for (const v of holes) this.holes.add(v);
  }

  private forgetRecent(): void {
    this.recent = [];
    this.recentChars = 0;
  }

  /** Whether anything may wait to be sent, known without reading storage. */
  hasUnsent(): boolean {
    return this.resend.size > 0 || this.unsentFrom <= this.latest;
  }

  /**
   * Whether asking the change feed now could lead to a resend: an event of unknown fate (from an earlier
   * incarnation), a hole or a sent event the feed should hold by now (CONFIRM_AFTER_MS, doubling with each resend),
   * or more events waiting than memory should hold. An event sent moments ago is not sent again even if the feed
   * lacks it, so asking about it only moves the mark: a busy document leaves that until it goes quiet.
   */
  confirmationDue(now: number): boolean {
    if (this.confirmedThrough < this.unknownThrough) return true;
    if (this.waiting() >= MAX_WAITING) return true;
    for (const v of this.holes) if (!this.resend.has(v) && this.overdue(v, now)) return true;
    for (const v of this.sentAt.keys()) {
      if (!this.isConfirmed(v) && !this.resend.has(v) && this.overdue(v, now)) return true;
    }
    return false;
  }

  /** When the alarm should next ask the change feed about sent rows. */
  nextConfirmation(now: number): number {
    return now + Math.min(MAX_CONFIRM_POLL_MS, CONFIRM_POLL_MS * 2 ** this.idlePolls);
  }

  /** Known without reading storage: versions are gap-free, so the counts follow from the marks. */
  status(): OutboxStatus {
    const waiting = this.waiting();
    const unsent = Math.max(0, this.latest - this.unsentFrom + 1) + this.resend.size;
    return {
      unsent,
      unconfirmed: waiting - unsent,
      failures: this.failures,
      retryAt: this.retryAt,
      confirmedThrough: this.confirmedThrough,
    };
  }

  /** Events the change feed is not known to hold: above the mark and not confirmed, and the holes. */
  private waiting(): number {
    return this.latest - this.confirmedThrough - this.confirmedAbove.size + this.holes.size;
  }

  private isConfirmed(version: number): boolean {
    return (version <= this.confirmedThrough && !this.holes.has(version)) || this.confirmedAbove.has(version);
  }

  /** Whether a send may be tried now: not while a failed one is backing off. */
  canSend(now: number): boolean {
    return this.retryAt === null || now >= this.retryAt;
  }

  /** Whether a flush is under way (one that a steady stream of writes may keep going). */
  busy(): boolean {
    return this.flushing !== null;
  }

  /**
   * Sends everything pending. Concurrent callers share one flush; a call that arrives during a flush makes it
   * run once more, so events committed meanwhile are not left behind. Resolves true when the outbox drained,
   * false when a send failed (status().retryAt then says when to try again).
   */
  flush(key: DocumentKey): Promise<boolean> {
    if (this.flushing !== null) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.drain(key).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /**
   * Asks the change feed which sent events it holds and marks for sending again those it still lacks
   * CONFIRM_AFTER_MS after their send (doubling with each resend, never giving up: an event stays until the read
   * model has it). The mark moves over every confirmed run and over the events found missing, which become holes.
   * Returns how many are to be sent again.
   */
  async confirm(key: DocumentKey, feed: ChangeFeed, now: number): Promise<number> {
    // At most half a pass goes to holes, taken in turn (each asked moves to the back), so that many holes can
    // neither starve the events above the mark nor leave some holes never asked about.
    const holes: number[] = [];
    for (const v of this.holes) {
      if (holes.length === PASS_ROWS / 2) break;
      if (!this.resend.has(v)) holes.push(v);
    }
    for (const v of holes) {
      this.holes.delete(v);
      this.holes.add(v);
    }
    // Above the mark: every event handed to the queue (or, after a restart, of unknown fate), asked as one range.
    const from = this.confirmedThrough + 1;
    const to = this.unsentFrom - 1;
    if (holes.length === 0 && from > to) return 0;
    const found = holes.length > 0 ? await feed.holds(key, holes) : new Set<number>();
    const runs = from <= to ? await feed.runs(key, from, to, RUNS_PER_QUERY) : [];
    // A full answer may stop short of `to`: what lies past its last run is not known to be missing.
    const lastRun = runs.at(-1);
    const known = runs.length === RUNS_PER_QUERY && lastRun !== undefined ? lastRun[1] : to;

    const filled = holes.filter((v) => found.has(v));
    const lost = holes.filter((v) => !found.has(v) && this.overdue(v, now));
    let v = from;
    for (const [first, last] of [...runs, [known + 1, known] as const]) {
      // The gap before this run: events the feed lacks.
      for (; v < first && v <= known && lost.length < PASS_ROWS; v++) {
        if (!this.confirmedAbove.has(v) && !this.resend.has(v) && this.overdue(v, now)) lost.push(v);
      }
      v = Math.max(v, last + 1);
    }
    // Polls back off while nothing arrives that should have by now (an overdue event, a hole, an event sent
    // again). While everything asked about is young, the projector is only behind: the next poll keeps the pace.
    const stalled =
      lost.length > 0 || holes.length > 0 || [...this.resends.keys()].some((r) => r >= from && r <= to);
    this.idlePolls = filled.length > 0 || runs.length > 0 || !stalled ? 0 : Math.min(this.idlePolls + 1, 8);
    for (const h of filled) {
      this.holes.delete(h);
      this.forget(h);
    }
    for (const m of lost) {
      this.resend.add(m);
      this.resends.set(m, (this.resends.get(m) ?? 0) + 1);
    }
    this.advance(runs, filled);
    if (lost.length > 0) {
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "events not in the change feed; sending again",
          document: `${key.collection}/${key.id}`,
          versions: lost.length,
        }),
      );
    }
    return lost.length;
  }

  /** Whether an event the feed lacks has waited long enough since its send (or unknown send) to go again. */
  private overdue(version: number, now: number): boolean {
    const wait = CONFIRM_AFTER_MS * 2 ** Math.min(this.resends.get(version) ?? 0, MAX_RESEND_DOUBLINGS);
    return (this.sentAt.get(version) ?? 0) <= now - wait;
  }

  /** Drops what memory holds about an event the feed confirmed. */
  private forget(version: number): void {
    this.sentAt.delete(version);
    this.resends.delete(version);
    this.stored.delete(version);
  }

  /**
   * Moves the mark over the runs the feed holds from just above it, over events confirmed earlier, and over those
   * found missing (sent again at least once), which become holes. A run that starts above an event still
   * missing is remembered version by version, until the mark reaches it. When holes open or fill, they are stored
   * with the mark in this turn's commit; otherwise the mark waits in memory for the next write to store it.
   */
  private advance(runs: ReadonlyArray<readonly [number, number]>, filled: readonly number[]): void {
    let through = this.confirmedThrough;
    const opened: number[] = [];
    let i = 0;
    for (;;) {
      const v = through + 1;
      while ((runs[i]?.[1] ?? Number.POSITIVE_INFINITY) < v) i++;
      const run = runs[i];
      if (run !== undefined && run[0] <= v) through = run[1];
      else if (this.confirmedAbove.delete(v)) through = v;
      else if (v < this.unsentFrom && (this.resends.get(v) ?? 0) > 0) {
        opened.push(v);
        this.holes.add(v);
        through = v;
      } else break;
    }
    for (const [first, last] of runs) {
      for (let v = Math.max(first, through + 1); v <= last; v++) this.confirmedAbove.add(v);
    }
    // A run the mark jumped may hold versions an earlier pass found above a gap.
    for (const v of this.confirmedAbove) if (v <= through) this.confirmedAbove.delete(v);
    for (const v of [...this.sentAt.keys(), ...this.resends.keys(), ...this.stored]) {
      if (v <= through && !this.holes.has(v)) this.forget(v);
    }
    this.confirmedThrough = through;
    if (filled.length === 0 && opened.length === 0) return;
    const sql = this.storage.sql;
    if (filled.length > 0)
      sql.exec("DELETE FROM holes WHERE version IN (SELECT value FROM json_each(?))", JSON.stringify(filled));
    if (opened.length > 0)
      sql.exec(
        "INSERT OR IGNORE INTO holes (version) SELECT value FROM json_each(?)",
        JSON.stringify(opened),
      );
    // A stored hole never lies above the stored mark: a restart would count it twice.
    this.storeMark();
  }

  /**
   * Stores the mark if it moved since it was last stored. The write path calls this before its event's INSERT,
   * so the mark rides in the write's commit instead of costing one of its own.
   */
  storeMark(): void {
    const through = this.confirmedThrough;
    if (through <= this.storedThrough) return;
    // The mark only moves forward, whatever ran meanwhile.
    this.storage.sql.exec(
      "UPDATE meta SET confirmed_through = ? WHERE confirmed_through < ?",
      through,
      through,
    );
    this.storedThrough = through;
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
  private nextPass(): PendingRow[] {
    // An event to send again that the change feed confirmed meanwhile is not sent.
    for (const v of this.resend) if (this.isConfirmed(v)) this.resend.delete(v);
    if (!this.hasUnsent()) return [];
    if (this.resend.size === 0 && this.recent[0]?.version === this.unsentFrom) {
      // Everything unsent is in memory: what the writes since the last send committed.
      return [...this.recent];
    }
    const again = [...this.resend].slice(0, 90);
    const cursor =
      again.length > 0
        ? this.storage.sql.exec<PendingRow>(
            `SELECT ${EVENT_COLUMNS} FROM events WHERE version IN (${again.map(() => "?").join(",")})
             ORDER BY version`,
            ...again,
          )
        : this.storage.sql.exec<PendingRow>(
            `SELECT ${EVENT_COLUMNS} FROM events WHERE version >= ? ORDER BY version LIMIT ?`,
            this.unsentFrom,
            PASS_ROWS,
          );
    const rows: PendingRow[] = [];
    let chars = 0;
    for (const row of cursor) {
      if (rows.length > 0 && chars + (row.data?.length ?? 0) > PASS_CHARS) break;
      chars += row.data?.length ?? 0;
      rows.push(row);
    }
    return rows;
  }

  private async sendRows(key: DocumentKey, rows: PendingRow[]): Promise<boolean> {
    try {
      const messages = await Promise.all(rows.map((row) => this.toMessage(key, row)));
      for (const batch of planBatches(messages.map((m) => ({ item: m, bytes: messageBytes(m) })))) {
        await withTimeout(this.send()(batch), this.timeoutMs(), "the queue");
        const sentAt = this.clock();
        for (const { version } of batch) {
          this.sentAt.set(version, sentAt);
          if (!this.resend.delete(version)) this.unsentFrom = Math.max(this.unsentFrom, version + 1);
        }
        while (this.recent[0] !== undefined && this.recent[0].version < this.unsentFrom) {
          this.recentChars -= this.recent.shift()?.data?.length ?? 0;
        }
      }
      this.failures = 0;
      this.retryAt = null;
      return true;
    } catch (error) {
      this.failures += 1;
      const exp = Math.min(MAX_RETRY_MS, BASE_RETRY_MS * 2 ** (this.failures - 1));
      this.retryAt = Math.ceil(this.clock() + exp / 2 + Math.random() * (exp / 2));
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "outbox send failed; will retry",
          document: `${key.collection}/${key.id}`,
          failures: this.failures,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      return false;
    }
  }

  private async toMessage(key: DocumentKey, row: PendingRow): Promise<EventMessage> {
    let data: string | null = row.data;
    let dataRef: string | undefined;
    if (row.data !== null && row.data.length * 3 > INLINE_DATA_BYTES) {
      if (new TextEncoder().encode(row.data).length > INLINE_DATA_BYTES) {
        dataRef = stateKey(key, row.event_id);
        if (!this.stored.has(row.version)) {
          await withTimeout(this.putState()(dataRef, row.data), this.timeoutMs(), "R2");
          this.stored.add(row.version);
        }
        data = null;
      }
    }
    return {
      v: 1,
      ...eventHeader(key, row),
      committedAt: row.committed_at,
      createdAt: row.created_at,
      data,
      index: row.slots === null ? [] : (JSON.parse(row.slots) as IndexSlots),
      ...(dataRef === undefined ? {} : { dataRef }),
    };
  }
}
