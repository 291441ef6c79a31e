/**
 * The outbox's bookkeeping, with no storage and no I/O: which of a document's events the change feed is known to
 * hold (a confirmed mark, the holes below it, the confirmed events above it), which were sent and when, and which
 * are to be sent again. The outbox asks it what to send and what to ask the feed, and tells it what happened.
 *
 * Its laws (property-tested in test/durable-objects/outbox-ledger.test.ts): the mark only moves forward; no
 * event is ever dropped (each is confirmed, waiting to be sent, sent and unconfirmed, or a hole); an event the
 * feed lacks is sent again once it is overdue, and a hole leaves only when the feed holds it.
 */

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
/** One pass (a send or a confirmation) handles at most this many events. */
export const PASS_ROWS = 500;
/** The most runs one confirmation asks the change feed for; versions past the last one wait for the next pass. */
export const RUNS_PER_QUERY = 200;
/** At most this many events to send again are read in one pass (D1's and SQLite's bound-parameter limits). */
const RESEND_PER_PASS = 90;

/** What to ask the change feed: some holes, by list, and the versions above the mark that were sent, as a range. */
export interface Question {
  readonly holes: readonly number[];
  readonly from: number;
  readonly to: number;
}

/** The feed's answer: which asked holes it holds, and its runs of consecutive versions within the range. */
export interface Answer {
  readonly found: ReadonlySet<number>;
  readonly runs: ReadonlyArray<readonly [number, number]>;
}

/** What a confirmation changed that storage must record: holes filled and holes opened. */
export interface Confirmation {
  /** Events the feed lacks, overdue: to be sent again. */
  readonly lost: readonly number[];
  readonly filled: readonly number[];
  readonly opened: readonly number[];
}

export interface LedgerCounts {
  /** Events not handed to the queue yet, or to be handed again (after a restart, none until the feed is asked). */
  readonly unsent: number;
  /** Events the queue accepted (or, after a restart, of unknown fate) that the change feed has not confirmed. */
  readonly unconfirmed: number;
  /** The change feed holds every event through this version but the holes. */
  readonly confirmedThrough: number;
}

export class Ledger {
  /** The newest version committed (0: none); events up to it may wait in the outbox. */
  private latest = 0;
  /** The change feed holds every event up to this version, except the holes. */
  private confirmedThrough = 0;
  /** The mark as storage holds it: at most confirmedThrough, and never below a hole. */
  private storedThrough = 0;
  /** Events at or below the mark that the change feed lacked when the mark passed them; asked in turn. */
  private readonly holes = new Set<number>();
  /** Events above the mark that the change feed holds, while an older one is still missing. */
  private readonly confirmedAbove = new Set<number>();
  /** Sends go in version order: every event at or above this version is unsent. */
  private unsentFrom = 1;
  /** Events below unsentFrom that the change feed lacked: sent again on the next pass. */
  private readonly resend = new Set<number>();
  private readonly sentAt = new Map<number, number>();
  private readonly resends = new Map<number, number>();
  /** Consecutive confirmations that found nothing while something was overdue: polls back off. */
  private idlePolls = 0;
  /** Events up to this version were committed by an earlier incarnation: whether they were sent is not known. */
  private unknownThrough = 0;

  /**
   * What storage holds: the newest version, the mark and the holes. Whether the events above the mark were sent
   * is not known: they count as sent long ago, so the next confirmation asks the feed about them and sends again,
   * at once, only what it lacks. None of them is sent blind.
   */
  loaded(latest: number, confirmedThrough: number, holes: readonly number[] = []): void {
    this.latest = latest;
    this.confirmedThrough = confirmedThrough;
    this.storedThrough = confirmedThrough;
    this.unsentFrom = latest + 1;
    this.unknownThrough = latest;
    for (const v of holes) this.holes.add(v);
  }

  /** A new event committed: it waits to be sent. */
  committed(version: number): void {
    this.latest = Math.max(this.latest, version);
  }

  hasUnsent(): boolean {
    return this.resend.size > 0 || this.unsentFrom <= this.latest;
  }

  counts(): LedgerCounts {
    const waiting = this.waiting();
    const unsent = Math.max(0, this.latest - this.unsentFrom + 1) + this.resend.size;
    return { unsent, unconfirmed: waiting - unsent, confirmedThrough: this.confirmedThrough };
  }

  /** Events the change feed is not known to hold: above the mark and not confirmed, and the holes. */
  private waiting(): number {
    return this.latest - this.confirmedThrough - this.confirmedAbove.size + this.holes.size;
  }

  isConfirmed(version: number): boolean {
    return (version <= this.confirmedThrough && !this.holes.has(version)) || this.confirmedAbove.has(version);
  }

  /**
   * What the next send pass takes: the events to send again (confirmed ones dropped), else everything from
   * `from` up, in version order.
   */
  nextSend(): { readonly resend: readonly number[]; readonly from: number } | null {
    for (const v of this.resend) if (this.isConfirmed(v)) this.resend.delete(v);
    if (!this.hasUnsent()) return null;
    return { resend: [...this.resend].slice(0, RESEND_PER_PASS), from: this.unsentFrom };
  }

  /** The queue accepted these events at `at`. */
  sent(versions: readonly number[], at: number): void {
    for (const version of versions) {
      this.sentAt.set(version, at);
      if (!this.resend.delete(version)) this.unsentFrom = Math.max(this.unsentFrom, version + 1);
    }
  }

  /** Every event below this version has been handed to the queue at least once (in this incarnation or before). */
  get sentBelow(): number {
    return this.unsentFrom;
  }

  /**
   * Whether asking the change feed now could lead to a resend: an event of unknown fate (from an earlier
   * incarnation), a hole or a sent event the feed should hold by now, or more events waiting than memory should
   * hold. An event sent moments ago is not sent again even if the feed lacks it, so asking about it only moves
   * the mark: a busy document leaves that until it goes quiet.
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

  /** When to ask the change feed next about sent events: the pace doubles while nothing that is due arrives. */
  nextConfirmation(now: number): number {
    return now + Math.min(MAX_CONFIRM_POLL_MS, CONFIRM_POLL_MS * 2 ** this.idlePolls);
  }

  /**
   * The next question for the change feed, or null when there is nothing to ask. At most half a pass goes to
   * holes, taken in turn (each one asked moves to the back), so that many holes can neither starve the events
   * above the mark nor leave some holes never asked about.
   */
  question(): Question | null {
    const holes: number[] = [];
    for (const v of this.holes) {
      if (holes.length === PASS_ROWS / 2) break;
      if (!this.resend.has(v)) holes.push(v);
    }
    for (const v of holes) {
      this.holes.delete(v);
      this.holes.add(v);
    }
    const from = this.confirmedThrough + 1;
    const to = this.unsentFrom - 1;
    if (holes.length === 0 && from > to) return null;
    return { holes, from, to };
  }

  /**
   * Applies the feed's answer: holes it holds are filled; events it still lacks CONFIRM_AFTER_MS after their send
   * (doubling with each resend) are marked to be sent again; the mark moves over every run the feed holds from
   * just above it and over events found missing before (which become holes).
   */
  answer(question: Question, answer: Answer, now: number): Confirmation {
    const { holes, from, to } = question;
    const { found, runs } = answer;
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
    const opened = this.advance(runs);
    return { lost, filled, opened };
  }

  /** Whether an event the feed lacks has waited long enough since its send (or unknown send) to go again. */
  private overdue(version: number, now: number): boolean {
    const wait = CONFIRM_AFTER_MS * 2 ** Math.min(this.resends.get(version) ?? 0, MAX_RESEND_DOUBLINGS);
    return (this.sentAt.get(version) ?? 0) <= now - wait;
  }

  private forget(version: number): void {
    this.sentAt.delete(version);
    this.resends.delete(version);
  }

  /**
   * Moves the mark over the runs the feed holds from just above it, over events confirmed earlier, and over those
   * found missing (sent again at least once), which become holes; returns the holes it opened. A run that starts
   * above an event still missing is remembered version by version, until the mark reaches it.
   */
  private advance(runs: ReadonlyArray<readonly [number, number]>): number[] {
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
    for (const v of [...this.sentAt.keys(), ...this.resends.keys()]) {
      if (v <= through && !this.holes.has(v)) this.forget(v);
    }
    this.confirmedThrough = through;
    return opened;
  }

  /** The mark to store, when it moved since storage last took it; null otherwise. */
  markToStore(): number | null {
    return this.confirmedThrough > this.storedThrough ? this.confirmedThrough : null;
  }

  markStored(through: number): void {
    this.storedThrough = Math.max(this.storedThrough, through);
  }
}
