/**
 * The outbox ledger's laws, checked against a modelled world: a change feed that holds only what was sent and
 * arrived, a queue that may lose, delay or duplicate what it accepted (and may take a send it reported as failed),
 * storage that holds the mark and the holes as the outbox writes them, restarts, and a clock that moves forward.
 * The laws: the mark only moves forward; no event is dropped, and none the feed lacks counts as confirmed;
 * storage holds exactly the ledger's holes; what the feed lacks is sent again once overdue (backing off), and
 * nothing blind after a restart; what an answer shows the feed holding stays confirmed; and once the queue stops
 * losing, every event ends up confirmed. The ledger has no I/O, so hundreds of worlds take milliseconds.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Answer,
  CONFIRM_AFTER_MS,
  Ledger,
  PASS_ROWS,
  type Question,
  RUNS_PER_QUERY,
} from "../../durable-objects/outbox/ledger";

/** ledger.ts: the wait for a resent event doubles with each resend, this many times at most. */
const MAX_RESEND_DOUBLINGS = 5;
/** Any event is overdue after this long. */
const LONGEST_WAIT_MS = CONFIRM_AFTER_MS * 2 ** MAX_RESEND_DOUBLINGS;
/** At most this many events to send again are offered by one nextSend (ledger.ts: RESEND_PER_PASS). */
const RESEND_PER_PASS = 90;
/** The clock starts at a real epoch time, as Date.now() does in the object. */
const T0 = Date.UTC(2026, 0, 1);

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** The change feed as D1 answers (durable-objects/change-feed.ts): the asked holes it holds, and its runs. */
function feedAnswer(feed: ReadonlySet<number>, question: Question): Answer {
  const found = new Set(question.holes.filter((v) => feed.has(v)));
  const runs: Array<[number, number]> = [];
  for (let v = question.from; v <= question.to; v++) {
    if (!feed.has(v)) continue;
    const last = runs.at(-1);
    if (last !== undefined && last[1] === v - 1) last[1] = v;
    else if (runs.length === RUNS_PER_QUERY) break;
    else runs.push([v, v]);
  }
  return { found, runs };
}

/** What the queue does with one message in flight at a delivery. */
type Fate = "arrive" | "duplicate" | "lose" | "wait";
/** What one batch of a send does: the queue takes it, refuses it, or takes it but the call times out. */
type Outcome = "accepted" | "failed" | "timedOutButTaken";

type Step =
  | { readonly do: "commit"; readonly count: number; readonly storeMark: boolean }
  | {
      readonly do: "send";
      readonly take: number | "all";
      readonly batch: number;
      readonly outcomes: readonly Outcome[];
    }
  | { readonly do: "startSend"; readonly take: number | "all" }
  | { readonly do: "finishSend"; readonly batch: number; readonly outcomes: readonly Outcome[] }
  | { readonly do: "deliver"; readonly fates: readonly Fate[] }
  | { readonly do: "confirm" }
  | { readonly do: "ask"; readonly snapshotNow: boolean }
  | { readonly do: "reply" }
  | { readonly do: "storeMark" }
  | { readonly do: "restart"; readonly pendingSendLands: boolean }
  | { readonly do: "tick"; readonly ms: number };

/** One confirmation as the world saw it, for the laws about what it marks lost. */
interface Reply {
  readonly question: Question;
  readonly answer: Answer;
  readonly lost: readonly number[];
  readonly opened: readonly number[];
  readonly now: number;
  /** Events marked lost earlier and not sent since: what the ledger should still have to send again. */
  readonly toResendBefore: ReadonlySet<number>;
  /** When each event the feed lacks may be sent again: CONFIRM_AFTER_MS after its send, doubling per resend. */
  readonly dueAt: (version: number) => number;
  /** Whether an event was marked lost before in this incarnation. */
  readonly lostBefore: (version: number) => boolean;
}

/** One send offer as the world saw it, and the world when it was made. */
interface Offer {
  readonly offer: ReturnType<Ledger["nextSend"]>;
  readonly toResend: ReadonlySet<number>;
  readonly unconfirmed: ReadonlySet<number>;
  readonly sentBelow: number;
  readonly latest: number;
}

/**
 * The world around one document's ledger, driven the way durable-objects/outbox/outbox.ts drives it. A send and a
 * confirmation each take two steps, as they await I/O in the object: other steps may run in between.
 */
class World {
  now = T0;
  latest = 0;
  /** What the change feed holds: only ever versions that were sent, and it never forgets one. */
  readonly feed = new Set<number>();
  /** Messages the queue holds (a version may be there twice). */
  inFlight: number[] = [];
  /** What storage holds besides the events: the mark and the holes. */
  readonly stored = { mark: 0, holes: new Set<number>() };
  ledger = new Ledger();
  incarnations = 1;

  // What this incarnation has done, as the world saw it.
  /** When each version was last handed to the queue (sent() called); none: sent by an earlier incarnation. */
  readonly lastSent = new Map<number, number>();
  /** Versions the ledger marked lost that were not sent since. */
  readonly toResend = new Set<number>();
  /** How often the ledger marked each version lost. */
  readonly timesLost = new Map<number, number>();
  /** The newest version committed by an earlier incarnation: its fate is unknown to this one. */
  unknownThrough = 0;
  sending: number[] | null = null;
  asking: { question: Question; answer: Answer | null } | null = null;

  // What the last step observed.
  restarted = false;
  reply: Reply | null = null;
  offer: Offer | null = null;
  /** Every mark written to storage, in order. */
  readonly storedMarks: number[] = [];

  step(s: Step): void {
    this.reply = null;
    this.offer = null;
    this.restarted = false;
    switch (s.do) {
      case "commit":
        for (let i = 0; i < s.count; i++) {
          // The write's transaction stores the mark if a confirmation moved it (Outbox.beforeCommit).
          if (s.storeMark) this.storeMark();
          this.latest += 1;
          this.ledger.committed(this.latest);
        }
        return;
      case "send":
        this.startSend(s.take);
        this.finishSend(s.batch, s.outcomes);
        return;
      case "startSend":
        this.startSend(s.take);
        return;
      case "finishSend":
        this.finishSend(s.batch, s.outcomes);
        return;
      case "deliver":
        this.deliver(s.fates);
        return;
      case "confirm":
        this.ask(true);
        this.answer();
        return;
      case "ask":
        this.ask(s.snapshotNow);
        return;
      case "reply":
        this.answer();
        return;
      case "storeMark":
        this.storeMark();
        return;
      case "restart":
        this.restart(s.pendingSendLands);
        return;
      case "tick":
        this.now += s.ms;
        return;
    }
  }

  startSend(take: number | "all"): void {
    if (this.sending !== null) return; // one flush at a time
    const { sentBelow } = this.ledger;
    const unconfirmed = new Set(range(1, this.latest).filter((v) => !this.ledger.isConfirmed(v)));
    const offer = this.ledger.nextSend();
    this.offer = { offer, toResend: new Set(this.toResend), unconfirmed, sentBelow, latest: this.latest };
    if (offer === null) return;
    const versions = offer.resend.length > 0 ? [...offer.resend] : range(offer.from, this.latest);
    this.sending = take === "all" ? versions : versions.slice(0, take);
  }

  /** The sender: batch by batch, in order, stopping at the first that fails (which the queue may have taken). */
  finishSend(batch: number, outcomes: readonly Outcome[]): void {
    const versions = this.sending;
    this.sending = null;
    if (versions === null) return;
    for (let i = 0, b = 0; i < versions.length; i += batch, b++) {
      const chunk = versions.slice(i, i + batch);
      const outcome = outcomes[b % outcomes.length] ?? "accepted";
      if (outcome !== "failed") this.inFlight.push(...chunk);
      if (outcome !== "accepted") return;
      this.ledger.sent(chunk, this.now);
      for (const v of chunk) {
        this.lastSent.set(v, this.now);
        this.toResend.delete(v);
      }
    }
  }

  /** Sends until nothing is offered (a pass per RESEND_PER_PASS events at most, then one for the rest). */
  sendEverything(): void {
    const passes = Math.ceil(this.latest / RESEND_PER_PASS) + 1;
    for (let pass = 0; pass < passes; pass++) {
      const offer = this.ledger.nextSend();
      if (offer === null) return;
      const versions = offer.resend.length > 0 ? [...offer.resend] : range(offer.from, this.latest);
      this.sending = versions;
      this.finishSend(versions.length, ["accepted"]);
    }
    expect(this.ledger.nextSend(), "every event sent within the passes it needs").toBeNull();
  }

  deliver(fates: readonly Fate[]): void {
    const staying: number[] = [];
    this.inFlight.forEach((v, i) => {
      const fate = fates[i % fates.length] ?? "arrive";
      if (fate === "arrive" || fate === "duplicate") this.feed.add(v);
      if (fate === "duplicate" || fate === "wait") staying.push(v);
    });
    this.inFlight = staying;
  }

  /** Asks the feed; the answer is read now or when the reply is applied (the feed only grows meanwhile). */
  ask(snapshotNow: boolean): void {
    if (this.asking !== null) return; // one alarm at a time
    const question = this.ledger.question();
    if (question === null) return;
    this.asking = { question, answer: snapshotNow ? feedAnswer(this.feed, question) : null };
  }

  answer(): void {
    if (this.asking === null) return;
    const { question } = this.asking;
    const answer = this.asking.answer ?? feedAnswer(this.feed, question);
    this.asking = null;
    const toResendBefore = new Set(this.toResend);
    const { lost, filled, opened } = this.ledger.answer(question, answer, this.now);
    const lastSent = new Map(this.lastSent);
    const timesLost = new Map(this.timesLost);
    const dueAt = (v: number) =>
      (lastSent.get(v) ?? 0) + CONFIRM_AFTER_MS * 2 ** Math.min(timesLost.get(v) ?? 0, MAX_RESEND_DOUBLINGS);
    const lostBefore = (v: number) => timesLost.has(v);
    this.reply = { question, answer, lost, opened, now: this.now, toResendBefore, dueAt, lostBefore };
    for (const v of lost) {
      this.toResend.add(v);
      this.timesLost.set(v, (this.timesLost.get(v) ?? 0) + 1);
    }
    // As Outbox.confirm: holes that fill or open are stored, with the mark, in the same commit.
    if (filled.length > 0 || opened.length > 0) {
      for (const v of filled) this.stored.holes.delete(v);
      for (const v of opened) this.stored.holes.add(v);
      this.storeMark();
    }
  }

  storeMark(): void {
    const mark = this.ledger.markToStore();
    if (mark === null) return;
    this.storedMarks.push(mark);
    this.stored.mark = Math.max(this.stored.mark, mark); // UPDATE … WHERE confirmed_through < ?
    this.ledger.markStored(mark);
  }

  /** A new incarnation: what storage holds; the queue keeps what it holds, and a send under way may land. */
  restart(pendingSendLands: boolean): void {
    if (this.sending !== null && pendingSendLands) this.inFlight.push(...this.sending);
    this.sending = null;
    this.asking = null;
    this.ledger = new Ledger();
    this.ledger.loaded(this.latest, this.stored.mark, [...this.stored.holes]);
    this.incarnations += 1;
    this.restarted = true;
    this.lastSent.clear();
    this.toResend.clear();
    this.timesLost.clear();
    this.unknownThrough = this.latest;
  }

  /** The versions the ledger counts as confirmed. */
  confirmed(): number[] {
    return range(1, this.latest).filter((v) => this.ledger.isConfirmed(v));
  }

  /** The holes, as the ledger's answers show them: versions at or below the mark not confirmed. */
  holes(): number[] {
    const { confirmedThrough } = this.ledger.counts();
    return range(1, confirmedThrough).filter((v) => !this.ledger.isConfirmed(v));
  }

  allConfirmed(): boolean {
    const counts = this.ledger.counts();
    return (
      counts.unsent === 0 &&
      counts.unconfirmed === 0 &&
      counts.confirmedThrough === this.latest &&
      this.confirmed().length === this.latest
    );
  }
}

// ---- Arbitraries ----------------------------------------------------------------------------------------------

const fates = fc.array(
  fc.constantFrom<Fate>("arrive", "arrive", "duplicate", "lose", "lose", "wait", "wait"),
  {
    minLength: 1,
    maxLength: 4,
  },
);
const outcomes = fc.array(
  fc.constantFrom<Outcome>("accepted", "accepted", "accepted", "failed", "timedOutButTaken"),
  {
    minLength: 1,
    maxLength: 3,
  },
);
const tick = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
  { weight: 3, arbitrary: fc.integer({ min: CONFIRM_AFTER_MS - 2_000, max: CONFIRM_AFTER_MS + 2_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * LONGEST_WAIT_MS }) },
);

interface Shape {
  /** How many events one commit step writes. */
  readonly burst: fc.Arbitrary<number>;
  /** How many of the offered events one send takes, when not all. */
  readonly prefix: number;
  /** How many events go in one batch to the queue, at most. */
  readonly batch: number;
  readonly steps: number;
}

/** Steps of a world. */
function stepsOf(shape: Shape): fc.Arbitrary<Step[]> {
  const take = fc.oneof(
    { weight: 2, arbitrary: fc.constant<"all">("all") },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: shape.prefix }) },
  );
  const batch = fc.integer({ min: 1, max: shape.batch });
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ do: fc.constant("commit"), count: shape.burst, storeMark: fc.boolean() }),
    },
    // A send whose I/O nothing interleaves with, and one in two steps that other steps may come between.
    { weight: 6, arbitrary: fc.record({ do: fc.constant("send"), take, batch, outcomes }) },
    { weight: 3, arbitrary: fc.record({ do: fc.constant("startSend"), take }) },
    { weight: 3, arbitrary: fc.record({ do: fc.constant("finishSend"), batch, outcomes }) },
    { weight: 8, arbitrary: fc.record({ do: fc.constant("deliver"), fates }) },
    // Likewise a confirmation: in one step, or asked and answered in two.
    { weight: 6, arbitrary: fc.constant({ do: "confirm" as const }) },
    { weight: 3, arbitrary: fc.record({ do: fc.constant("ask"), snapshotNow: fc.boolean() }) },
    { weight: 3, arbitrary: fc.constant({ do: "reply" as const }) },
    { weight: 2, arbitrary: fc.constant({ do: "storeMark" as const }) },
    { weight: 1, arbitrary: fc.record({ do: fc.constant("restart"), pendingSendLands: fc.boolean() }) },
    { weight: 10, arbitrary: fc.record({ do: fc.constant("tick"), ms: tick }) },
  );
  return fc.array(step, { minLength: 1, maxLength: shape.steps, size: "max" });
}

const smallWorld = stepsOf({ burst: fc.integer({ min: 1, max: 3 }), prefix: 5, batch: 4, steps: 100 });
/**
 * Bursts of hundreds of events, starting with one that the queue delivers in part, in a pattern (every other one,
 * say): the feed then holds more runs than one answer carries.
 */
const bigWorld = fc
  .tuple(
    fc.integer({ min: 2 * RUNS_PER_QUERY + 1, max: 4 * RUNS_PER_QUERY }),
    fc.tuple(
      fc.constantFrom<Fate>("lose", "wait"),
      fc.array(fc.constantFrom<Fate>("arrive", "lose", "wait"), { maxLength: 1 }),
    ),
    stepsOf({
      burst: fc.oneof(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: RUNS_PER_QUERY, max: 3 * RUNS_PER_QUERY }),
      ),
      prefix: 2 * RUNS_PER_QUERY,
      batch: 3 * RUNS_PER_QUERY,
      steps: 30,
    }),
  )
  .map(([count, [missing, more], steps]): Step[] => [
    { do: "commit", count, storeMark: false },
    { do: "send", take: "all", batch: count, outcomes: ["accepted"] },
    { do: "deliver", fates: ["arrive", missing, ...more] },
    ...steps,
  ]);

/** A law checked after every step; it may remember what earlier steps showed. */
type Law = (world: World) => void;

/** Runs the steps in a new world, checking the law after each one (and once before any). */
function run(steps: readonly Step[], law: Law): World {
  const world = new World();
  law(world);
  for (const s of steps) {
    world.step(s);
    law(world);
  }
  return world;
}

function holds(law: () => Law) {
  return (steps: readonly Step[]): void => {
    run(steps, law());
  };
}

// ---- Laws -----------------------------------------------------------------------------------------------------

/**
 * The laws run after every step of hundreds of worlds, and one expect() costs tens of microseconds in the Workers
 * pool: each law is checked plainly, and expect() is called only to report one that broke.
 */
const check = {
  equal(actual: number, expected: number, law: string): void {
    if (actual !== expected) expect(actual, law).toBe(expected);
  },
  atLeast(actual: number, least: number, law: string): void {
    if (!(actual >= least)) expect(actual, law).toBeGreaterThanOrEqual(least);
  },
  /** No version breaks the law. */
  none(offending: readonly number[], law: string): void {
    if (offending.length > 0) expect(offending, law).toEqual([]);
  },
  sameVersions(actual: Iterable<number>, expected: Iterable<number>, law: string): void {
    const a = [...actual].sort((x, y) => x - y);
    const b = [...expected].sort((x, y) => x - y);
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) expect(a, law).toEqual(b);
  },
};

/** Law 1: the mark only moves forward, in memory within an incarnation, and in storage across restarts. */
function markMovesForward(): Law {
  let incarnation = 0;
  let mark = 0;
  let stored = 0;
  let seen = 0;
  return (world) => {
    const { confirmedThrough } = world.ledger.counts();
    if (world.incarnations !== incarnation) {
      // A new incarnation starts from the stored mark (what the last one held in memory alone is asked about
      // again); that mark is never below one stored before.
      incarnation = world.incarnations;
      check.equal(confirmedThrough, world.stored.mark, "a new incarnation starts from the stored mark");
      mark = confirmedThrough;
    }
    check.atLeast(confirmedThrough, mark, "the mark never moves backwards");
    mark = confirmedThrough;
    if (confirmedThrough < world.latest && world.ledger.isConfirmed(confirmedThrough + 1)) {
      expect(confirmedThrough, "the mark rises over every event confirmed just above it").toBe(
        confirmedThrough + 1,
      );
    }
    for (const next of world.storedMarks.slice(seen)) {
      check.atLeast(next, stored + 1, "storage only ever takes a higher mark");
      stored = next;
    }
    seen = world.storedMarks.length;
    // Storage never runs ahead of what the ledger knows, and a stored hole never lies above the stored mark.
    check.atLeast(confirmedThrough, world.stored.mark, "the stored mark is at most the ledger's");
    check.none(
      [...world.stored.holes].filter((h) => h > world.stored.mark),
      "no stored hole lies above the stored mark",
    );
  };
}

/** Law 2: no event is dropped, and none is confirmed that the feed does not hold. */
const noEventDropped = (): Law => (world) => {
  const confirmed = world.confirmed();
  check.none(
    confirmed.filter((v) => !world.feed.has(v)),
    "an event the feed lacks is never counted confirmed",
  );
  const counts = world.ledger.counts();
  check.atLeast(counts.unsent, 0, "unsent is never negative");
  check.atLeast(counts.unconfirmed, 0, "unconfirmed is never negative");
  check.equal(
    counts.unsent + counts.unconfirmed,
    world.latest - confirmed.length,
    "every event not confirmed is counted as unsent or unconfirmed",
  );
  check.atLeast(
    counts.unsent,
    world.latest - world.ledger.sentBelow + 1,
    "events never sent count as unsent",
  );
  check.atLeast(world.latest, counts.confirmedThrough, "the mark never passes the latest event");
};

/** Storage holds exactly the ledger's holes: what each confirmation reports as opened and filled is complete. */
const storedHolesAreTheLedgers = (): Law => (world) => {
  check.sameVersions(world.stored.holes, world.holes(), "storage holds exactly the ledger's holes");
};

/**
 * An event the feed lacks is marked lost once overdue (and only then, and only if asked about), and every event
 * marked lost is offered by the next send until it is sent: after a restart, nothing else of unknown fate is.
 */
const lostEventsAreSentAgain = (): Law => (world) => {
  const { reply, offer } = world;
  if (world.restarted) {
    // A new incarnation sends nothing before it asked the feed, and asking is due while anything waits.
    const { unsent, unconfirmed } = world.ledger.counts();
    check.equal(unsent, 0, "a new incarnation sends nothing blind");
    check.equal(Number(world.ledger.confirmationDue(world.now)), Number(unconfirmed > 0), "asking is due");
  }
  if (reply !== null) {
    const { question, answer, lost, opened, now, toResendBefore, dueAt, lostBefore } = reply;
    const lastRun = answer.runs.at(-1);
    const known = answer.runs.length === RUNS_PER_QUERY && lastRun !== undefined ? lastRun[1] : question.to;
    const inRuns = new Set(answer.runs.flatMap(([first, last]) => range(first, last)));
    const held = (v: number) => answer.found.has(v) || inRuns.has(v);
    const asked = [...question.holes, ...range(question.from, known)];
    const askedSet = new Set(asked);
    const lostSet = new Set(lost);
    check.none(
      lost.filter((v) => !askedSet.has(v) || held(v)),
      "only an event asked about and found lacking is lost",
    );
    check.none(
      lost.filter((v) => toResendBefore.has(v)),
      "an event waiting to be sent again is not lost again",
    );
    check.equal(lostSet.size, lost.length, "an event is lost once per answer");
    check.none(
      opened.filter((v) => !lostSet.has(v) && !lostBefore(v)),
      "the mark passes a missing event (a hole) only once it was found lacking when overdue",
    );
    check.none(
      lost.filter((v) => dueAt(v) > now),
      "an event is lost only once overdue (resends back off)",
    );
    // One pass takes at most PASS_ROWS.
    if (lost.length < PASS_ROWS) {
      check.none(
        asked.filter((v) => !held(v) && !toResendBefore.has(v) && dueAt(v) <= now && !lostSet.has(v)),
        "an overdue event the feed lacks is lost",
      );
    }
  }
  if (offer !== null) {
    const expected = [...offer.toResend].filter((v) => offer.unconfirmed.has(v));
    const resend = offer.offer?.resend ?? [];
    check.none(
      resend.filter((v) => !offer.toResend.has(v)),
      "only an event found lacking (and not sent since) is sent again",
    );
    if (expected.length <= RESEND_PER_PASS) {
      check.sameVersions(resend, expected, "every event found lacking is sent again");
    } else check.equal(resend.length, RESEND_PER_PASS, "a pass sends RESEND_PER_PASS again");
    if (offer.offer !== null && resend.length === 0) {
      // Otherwise it sends from where it stopped, never an event an earlier incarnation may have sent.
      check.equal(offer.offer.from, offer.sentBelow, "sends go on from where they stopped");
      check.atLeast(offer.offer.from, world.unknownThrough + 1, "nothing is sent blind after a restart");
      check.atLeast(offer.latest, offer.offer.from, "an offer holds an event");
    }
    if (offer.offer === null) {
      check.none(expected, "nothing to send means nothing lost waits");
      check.equal(offer.sentBelow, offer.latest + 1, "nothing to send means everything was sent");
    }
  }
};

/**
 * What an answer shows the feed holding (holes found, runs) counts as confirmed from then on, in that incarnation
 * (a new one knows only the stored mark, and asks again about what lies above it).
 */
function answersAreBelieved(): Law {
  const seen = new Set<number>();
  let incarnation = 1;
  return (world) => {
    if (world.incarnations !== incarnation) {
      incarnation = world.incarnations;
      seen.clear();
    }
    if (world.reply !== null) {
      const { answer } = world.reply;
      for (const v of answer.found) seen.add(v);
      for (const [first, last] of answer.runs) for (const v of range(first, last)) seen.add(v);
    }
    check.none(
      [...seen].filter((v) => !world.ledger.isConfirmed(v)),
      "what the feed was seen to hold is confirmed",
    );
  };
}

function allLaws(): Law {
  const laws = [
    markMovesForward(),
    noEventDropped(),
    storedHolesAreTheLedgers(),
    lostEventsAreSentAgain(),
    answersAreBelieved(),
  ];
  return (world) => {
    for (const law of laws) law(world);
  };
}

/**
 * Law 3: once the queue stops losing, every event ends up confirmed. Each round waits past the longest back-off,
 * sends everything offered, lets it all arrive and asks the feed until it has nothing to ask.
 */
function settle(world: World, law: Law): void {
  world.sending = null; // a send under way fails
  world.offer = null;
  world.restarted = false;
  world.answer();
  law(world);
  for (let round = 0; round < 20 && !world.allConfirmed(); round++) {
    world.now += LONGEST_WAIT_MS + 1;
    world.reply = null;
    world.sendEverything();
    law(world);
    world.deliver(["arrive"]);
    // With nothing left to send and every send long past, a confirmation is due exactly while something waits.
    const waiting = world.confirmed().length < world.latest;
    if (world.ledger.confirmationDue(world.now + LONGEST_WAIT_MS + 1) !== waiting) {
      expect(world.ledger.confirmationDue(world.now + LONGEST_WAIT_MS + 1), "a confirmation is due").toBe(
        waiting,
      );
    }
    for (let asks = 0; asks < 5; asks++) {
      world.ask(true);
      if (world.asking === null) break;
      world.answer();
      law(world);
    }
  }
}

describe("the outbox ledger's laws (properties over a modelled queue, feed, storage and clock)", () => {
  // Each: given any world of commits, sends (whole, in part, failing), deliveries (lost, late, twice),
  // confirmations (at once or with steps between), stores of the mark, restarts and time passing,
  // when it runs step by step, then the law holds after every step.
  it("never moves the mark backwards, whatever the feed answers, and storage only ever takes a higher mark", () => {
    fc.assert(fc.property(smallWorld, holds(markMovesForward)), { seed: 20260101, numRuns: 400 });
  });

  it("drops no event: each is confirmed by the feed or counted as waiting, and none the feed lacks is confirmed", () => {
    fc.assert(fc.property(smallWorld, holds(noEventDropped)), { seed: 20260102, numRuns: 400 });
  });

  it("reports every hole it opens or fills, so storage holds exactly its holes across restarts", () => {
    fc.assert(fc.property(smallWorld, holds(storedHolesAreTheLedgers)), { seed: 20260103, numRuns: 400 });
  });

  it("sends again exactly what the feed lacks once overdue, and nothing blind after a restart", () => {
    fc.assert(fc.property(smallWorld, holds(lostEventsAreSentAgain)), { seed: 20260104, numRuns: 400 });
  });

  it("counts as confirmed, from then on, every event an answer shows the feed holding", () => {
    fc.assert(fc.property(smallWorld, holds(answersAreBelieved)), { seed: 20260107, numRuns: 300 });
  });

  it("fills or resends every hole: once the queue stops losing, every event is confirmed and the mark reaches the latest", () => {
    fc.assert(
      fc.property(smallWorld, (steps) => {
        // Given any world, every law holding along the way
        const law = allLaws();
        const world = run(steps, law);

        // When the queue stops losing and rounds of send, deliver and confirm run past every back-off
        settle(world, law);

        // Then every event is confirmed, no hole is left, storage takes the latest mark, and nothing is to do
        expect(world.ledger.counts()).toEqual({ unsent: 0, unconfirmed: 0, confirmedThrough: world.latest });
        expect(world.holes()).toEqual([]);
        world.storeMark();
        expect(world.stored).toEqual({ mark: world.latest, holes: new Set() });
        expect(world.ledger.nextSend()).toBeNull();
        expect(world.ledger.question()).toBeNull();
        expect(world.ledger.confirmationDue(world.now + LONGEST_WAIT_MS)).toBe(false);
      }),
      { seed: 20260105, numRuns: 300 },
    );
  });

  it("keeps every law, and still confirms everything, when the feed's answer is cut at RUNS_PER_QUERY runs", () => {
    fc.assert(
      fc.property(bigWorld, (steps) => {
        // Given a burst the feed holds in hundreds of runs, then any world
        const law = allLaws();
        const world = run(steps, law);
        // When the queue stops losing, then everything is confirmed
        settle(world, law);
        expect(world.allConfirmed()).toBe(true);
      }),
      { seed: 20260106, numRuns: 150 },
    );
  });
});

describe("the outbox ledger in the tricky cases", () => {
  /** A ledger with versions 1..n committed and sent at T0. */
  function sentThrough(n: number): Ledger {
    const ledger = new Ledger();
    for (const v of range(1, n)) ledger.committed(v);
    ledger.sent(range(1, n), T0);
    return ledger;
  }

  /** One confirmation against a feed holding `feed`. */
  function confirm(ledger: Ledger, feed: ReadonlySet<number>, now: number) {
    const question = ledger.question();
    if (question === null) throw new Error("nothing to ask");
    return { question, ...ledger.answer(question, feedAnswer(feed, question), now) };
  }

  it("remembers a run that starts above a young missing event, and passes that event as a hole once it is overdue", () => {
    // Given five events sent, of which the feed holds all but 3
    const ledger = sentThrough(5);
    const feed = new Set([1, 2, 4, 5]);

    // When the feed is asked moments later, then the mark stops below 3, 4 and 5 count as confirmed, and 3 is
    // not lost yet
    expect(confirm(ledger, feed, T0 + 1_000)).toMatchObject({ lost: [], opened: [], filled: [] });
    expect(ledger.counts()).toEqual({ unsent: 0, unconfirmed: 1, confirmedThrough: 2 });
    expect([3, 4, 5].map((v) => ledger.isConfirmed(v))).toEqual([false, true, true]);
    expect(ledger.confirmationDue(T0 + 1_000)).toBe(false);

    // When it is asked once 3 is overdue, then 3 is to be sent again and the mark passes it, leaving a hole
    expect(ledger.confirmationDue(T0 + CONFIRM_AFTER_MS)).toBe(true);
    expect(confirm(ledger, feed, T0 + CONFIRM_AFTER_MS)).toMatchObject({
      lost: [3],
      opened: [3],
      filled: [],
    });
    expect(ledger.counts()).toEqual({ unsent: 1, unconfirmed: 0, confirmedThrough: 5 });
    expect(ledger.markToStore()).toBe(5);
    expect(ledger.nextSend()).toEqual({ resend: [3], from: 6 });

    // When 3 is sent again and arrives, then the hole is filled
    ledger.sent([3], T0 + CONFIRM_AFTER_MS);
    expect(ledger.question()).toEqual({ holes: [3], from: 6, to: 5 });
    expect(confirm(ledger, new Set([...feed, 3]), T0 + CONFIRM_AFTER_MS + 1)).toMatchObject({ filled: [3] });
    expect(ledger.counts()).toEqual({ unsent: 0, unconfirmed: 0, confirmedThrough: 5 });
    expect(ledger.question()).toBeNull();
  });

  it("takes nothing past the last of RUNS_PER_QUERY runs as lost, and asks about it next", () => {
    // Given 2 × RUNS_PER_QUERY + 20 events sent, of which the feed holds only the odd ones
    const n = 2 * RUNS_PER_QUERY + 20;
    const ledger = sentThrough(n);
    const feed = new Set(range(1, n).filter((v) => v % 2 === 1));
    const now = T0 + CONFIRM_AFTER_MS;

    // When the feed is asked, then its answer holds RUNS_PER_QUERY runs, through 2 × RUNS_PER_QUERY - 1
    const first = confirm(ledger, feed, now);
    const lastKnown = 2 * RUNS_PER_QUERY - 1;
    expect(feedAnswer(feed, first.question).runs.at(-1)).toEqual([lastKnown, lastKnown]);
    // Then only the even events below it are lost (and become holes); the mark stops at the last run
    const evensBelow = range(1, lastKnown).filter((v) => v % 2 === 0);
    expect(first.lost).toEqual(evensBelow);
    expect(first.opened).toEqual(evensBelow);
    expect(ledger.counts().confirmedThrough).toBe(lastKnown);
    expect(ledger.isConfirmed(lastKnown + 2)).toBe(false);
    expect(ledger.nextSend()?.resend).toEqual(evensBelow.slice(0, RESEND_PER_PASS));

    // When it is asked again, then the rest are found lacking, and the mark reaches the latest
    const second = confirm(ledger, feed, now);
    expect(second.question).toMatchObject({ from: lastKnown + 1, to: n });
    expect(second.lost).toEqual(range(lastKnown + 1, n).filter((v) => v % 2 === 0));
    expect(ledger.counts()).toEqual({ unsent: n / 2, unconfirmed: 0, confirmedThrough: n });
  });

  it("takes nothing back when a later answer shows less than an earlier one (a read that lags)", () => {
    // Given five events sent, and an answer moments later that shows all but 1
    const ledger = sentThrough(5);
    confirm(ledger, new Set([2, 3, 4, 5]), T0 + 1_000);
    expect(ledger.counts()).toEqual({ unsent: 0, unconfirmed: 1, confirmedThrough: 0 });

    // When 1 is overdue and the next answer comes from a read that shows none of them
    const result = confirm(ledger, new Set(), T0 + CONFIRM_AFTER_MS);

    // Then only 1 is sent again, and the mark passes it (a hole) and the events confirmed before
    expect(result).toMatchObject({ lost: [1], opened: [1] });
    expect(ledger.counts()).toEqual({ unsent: 1, unconfirmed: 0, confirmedThrough: 5 });
    expect(ledger.nextSend()).toEqual({ resend: [1], from: 6 });
  });

  it("after a restart with events of unknown fate above the mark, sends nothing until the feed was asked, then only what it lacks", () => {
    // Given storage holds events through 6, the mark at 2 and a hole at 1
    const ledger = new Ledger();
    ledger.loaded(6, 2, [1]);

    // Then nothing is sent blind, the hole and the four events above the mark count as unconfirmed, and a
    // confirmation is due at once
    expect(ledger.nextSend()).toBeNull();
    expect(ledger.counts()).toEqual({ unsent: 0, unconfirmed: 5, confirmedThrough: 2 });
    expect(ledger.confirmationDue(T0)).toBe(true);

    // When the feed, holding 1, 3 and 5, is asked
    const result = confirm(ledger, new Set([1, 3, 5]), T0);
    expect(result.question).toEqual({ holes: [1], from: 3, to: 6 });

    // Then the hole is filled, and 4 and 6 are sent again (the mark passes them: holes now), nothing else
    expect(result).toMatchObject({ filled: [1], lost: [4, 6], opened: [4, 6] });
    expect(ledger.nextSend()).toEqual({ resend: [4, 6], from: 7 });
    expect(ledger.counts()).toEqual({ unsent: 2, unconfirmed: 0, confirmedThrough: 6 });
    // Nothing is left to ask until they are sent again
    expect(ledger.confirmationDue(T0 + LONGEST_WAIT_MS)).toBe(false);
  });
});
