import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkArchive,
  checkFeed,
  checkLinearizability,
  checkReadModel,
  type LogEntry,
  type Operation,
  type ReadOp,
  summarize,
  type Violation,
  type WriteOp,
} from "../../bench/chaos/checker";

// Fixed seeds: every run of this file sees the same histories.
const SEED = 0x7e55e4a;

// -----------------------------------------------------------------------------------------------------------------
// Hand-written histories

function write(
  client: string,
  doc: string,
  value: string,
  call: number,
  ret: number | null,
  version?: number,
): WriteOp {
  const op: WriteOp = { kind: "write", client, doc, value, call, ret, acked: version !== undefined };
  if (version !== undefined) op.version = version;
  return op;
}

/** A write that got an error or no response at all. */
function unacked(
  client: string,
  doc: string,
  value: string,
  call: number,
  ret: number | null = null,
): WriteOp {
  return { kind: "write", client, doc, value, call, ret, acked: false };
}

function read(
  client: string,
  doc: string,
  call: number,
  ret: number,
  version: number | null,
  value: string | null,
): ReadOp {
  return { kind: "read", client, doc, call, ret, version, value };
}

function log(...values: Array<string | null>): LogEntry[] {
  return values.map((value, i) => ({ version: i + 1, value }));
}

const logsOf = (entries: Record<string, LogEntry[]>) => new Map(Object.entries(entries));

const checks = (violations: readonly Violation[]) => [...new Set(violations.map((v) => v.check))].sort();

describe("checkLinearizability: hand-written histories", () => {
  it("accepts a clean sequential history", () => {
    const ops: Operation[] = [
      read("c1", "d", 0, 1, null, null),
      write("c1", "d", "a", 2, 3, 1),
      read("c2", "d", 4, 5, 1, "a"),
      write("c2", "d", "b", 6, 7, 2),
      read("c1", "d", 8, 9, 2, "b"),
    ];
    expect(checkLinearizability(ops, logsOf({ d: log("a", "b") }))).toEqual([]);
  });

  it("accepts concurrent writes in either order and reads of either while they overlap", () => {
    const ops: Operation[] = [
      write("c1", "d", "a", 0, 10, 2),
      write("c2", "d", "b", 1, 9, 1),
      read("c3", "d", 2, 3, 1, "b"),
      read("c4", "d", 2, 3, null, null),
      read("c5", "d", 4, 5, 2, "a"),
    ];
    expect(checkLinearizability(ops, logsOf({ d: log("b", "a") }))).toEqual([]);
  });

  it("treats equal times as concurrent", () => {
    const ops: Operation[] = [write("c1", "d", "a", 0, 5, 1), read("c2", "d", 5, 6, null, null)];
    expect(checkLinearizability(ops, logsOf({ d: log("a") }))).toEqual([]);
  });

  describe("versions", () => {
    it("reports a gap", () => {
      const entries = [
        { version: 1, value: "a" },
        { version: 2, value: "b" },
        { version: 5, value: "c" },
      ];
      const ops = [
        write("c", "d", "a", 0, 1, 1),
        write("c", "d", "b", 2, 3, 2),
        write("c", "d", "c", 4, 5, 5),
      ];
      const violations = checkLinearizability(ops, logsOf({ d: entries }));
      expect(violations).toEqual([{ check: "versions", doc: "d", detail: expect.stringContaining("3..4") }]);
    });

    it("reports a version used twice, and one that does not start at 1", () => {
      const ops = [unacked("c", "d", "a", 0), unacked("c", "d", "b", 0)];
      const twice = checkLinearizability(ops, logsOf({ d: [...log("a"), { version: 1, value: "b" }] }));
      expect(checks(twice)).toEqual(["versions"]);
      expect(twice[0]?.detail).toContain("appears 2 times");
      const late = checkLinearizability(ops, logsOf({ d: [{ version: 2, value: "a" }] }));
      expect(checks(late)).toEqual(["versions"]);
      const zero = checkLinearizability(ops, logsOf({ d: [{ version: 0, value: "a" }] }));
      expect(checks(zero)).toEqual(["versions"]);
    });

    it("does not care about the order of the log array", () => {
      const ops = [write("c", "d", "a", 0, 1, 1), write("c", "d", "b", 2, 3, 2)];
      const entries = [
        { version: 2, value: "b" },
        { version: 1, value: "a" },
      ];
      expect(checkLinearizability(ops, logsOf({ d: entries }))).toEqual([]);
    });
  });

  describe("lost-write", () => {
    it("reports an acknowledged write missing from the log", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1), write("c2", "d", "b", 2, 3, 2)];
      const violations = checkLinearizability(ops, logsOf({ d: log("a") }));
      expect(violations).toEqual([{ check: "lost-write", doc: "d", detail: expect.stringContaining('"b"') }]);
    });

    it("reports an acknowledged write at another version than acknowledged", () => {
      const ops = [
        write("c1", "d", "a", 0, 1, 1),
        unacked("c2", "d", "x", 0),
        write("c1", "d", "b", 2, 3, 2),
      ];
      const violations = checkLinearizability(ops, logsOf({ d: log("a", "x", "b") }));
      expect(checks(violations)).toContain("lost-write");
      expect(violations.find((v) => v.check === "lost-write")?.detail).toContain(
        "not at the acknowledged version 2",
      );
    });

    it("never counts unacknowledged writes as lost, whatever happened to them", () => {
      const ops = [
        unacked("c1", "d", "crashed", 0),
        unacked("c2", "d", "rejected", 0, 1),
        unacked("c3", "d", "applied", 0),
        write("c4", "d", "a", 2, 3, 2),
      ];
      expect(checkLinearizability(ops, logsOf({ d: log("applied", "a") }))).toEqual([]);
      expect(checkLinearizability([unacked("c", "e", "gone", 0)], logsOf({}))).toEqual([]);
    });
  });

  it("lets an unacknowledged write take effect after its error response (it may still be in flight)", () => {
    const ops = [
      unacked("c1", "d", "a", 0, 1),
      read("c2", "d", 5, 6, null, null),
      read("c2", "d", 7, 8, 1, "a"),
    ];
    expect(checkLinearizability(ops, logsOf({ d: log("a") }))).toEqual([]);
  });

  describe("duplicate", () => {
    it("reports an unacknowledged write applied twice", () => {
      const ops = [unacked("c1", "d", "a", 0), write("c2", "d", "b", 0, 10, 2)];
      const violations = checkLinearizability(ops, logsOf({ d: log("a", "b", "a") }));
      expect(violations).toEqual([{ check: "duplicate", doc: "d", detail: expect.stringContaining("1, 3") }]);
    });

    it("reports an acknowledged write applied twice (but not as lost)", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1)];
      expect(checks(checkLinearizability(ops, logsOf({ d: log("a", "a") })))).toEqual(["duplicate"]);
    });
  });

  describe("phantom", () => {
    it("reports a value no recorded write wrote", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1)];
      const violations = checkLinearizability(ops, logsOf({ d: log("a", "ghost") }));
      expect(violations).toEqual([
        { check: "phantom", doc: "d", detail: expect.stringContaining('"ghost"') },
      ]);
    });

    it("reports a value written to another document", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1), write("c1", "e", "b", 2, 3, 1)];
      const violations = checkLinearizability(ops, logsOf({ d: log("a", "b"), e: log("b") }));
      expect(violations).toEqual([{ check: "phantom", doc: "d", detail: expect.stringContaining('"e"') }]);
    });

    it("does not treat a delete as a phantom", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1)];
      expect(checkLinearizability(ops, logsOf({ d: log("a", null) }))).toEqual([]);
    });
  });

  describe("real-time", () => {
    it("reports a write that returned before another was called but got the higher version", () => {
      const ops = [write("c1", "d", "a", 0, 1, 2), write("c2", "d", "b", 2, 3, 1)];
      const violations = checkLinearizability(ops, logsOf({ d: log("b", "a") }));
      expect(violations).toEqual([{ check: "real-time", doc: "d", detail: expect.stringContaining('"b"') }]);
    });

    it("reports two acknowledged writes with the same version", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1), write("c2", "d", "b", 2, 3, 1)];
      const violations = checkLinearizability(ops, logsOf({ d: log("a") }));
      expect(checks(violations)).toEqual(["lost-write", "real-time"]);
    });
  });

  describe("stale-read", () => {
    it("reports a read older than a write acknowledged before it was called", () => {
      const ops = [
        write("c1", "d", "a", 0, 1, 1),
        write("c1", "d", "b", 2, 3, 2),
        read("c2", "d", 4, 5, 1, "a"),
        read("c3", "d", 4, 5, null, null),
      ];
      const violations = checkLinearizability(ops, logsOf({ d: log("a", "b") }));
      expect(violations.map((v) => v.check)).toEqual(["stale-read", "stale-read"]);
    });

    it("accepts the old version while the write is still in flight", () => {
      const ops = [
        write("c1", "d", "a", 0, 1, 1),
        write("c1", "d", "b", 2, 6, 2),
        read("c2", "d", 3, 4, 1, "a"),
      ];
      expect(checkLinearizability(ops, logsOf({ d: log("a", "b") }))).toEqual([]);
    });

    it("accepts a 404 explained by a later delete", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1), read("c2", "d", 4, 5, null, null)];
      expect(checkLinearizability(ops, logsOf({ d: log("a", null) }))).toEqual([]);
      expect(checks(checkLinearizability(ops, logsOf({ d: log("a") })))).toEqual(["stale-read"]);
    });
  });

  describe("future-read", () => {
    it("reports a read of a version whose write was called after the read returned", () => {
      const ops = [read("c2", "d", 0, 1, 1, "a"), write("c1", "d", "a", 2, 3, 1)];
      const violations = checkLinearizability(ops, logsOf({ d: log("a") }));
      expect(violations).toEqual([
        { check: "future-read", doc: "d", detail: expect.stringContaining("returned before") },
      ]);
    });

    it("reports a read of a version the log does not have", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1), read("c2", "d", 2, 3, 2, "a")];
      expect(checks(checkLinearizability(ops, logsOf({ d: log("a") })))).toEqual(["future-read"]);
    });

    it("reports a read whose value is not the log's value at that version", () => {
      const ops = [
        write("c1", "d", "a", 0, 1, 1),
        write("c1", "d", "b", 2, 3, 2),
        read("c2", "d", 4, 5, 2, "a"),
      ];
      expect(checks(checkLinearizability(ops, logsOf({ d: log("a", "b") })))).toEqual(["future-read"]);
    });

    it("reports a read that returned data at a deleted version", () => {
      const ops = [write("c1", "d", "a", 0, 1, 1), read("c2", "d", 4, 5, 2, "a")];
      expect(checks(checkLinearizability(ops, logsOf({ d: log("a", null) })))).toEqual(["future-read"]);
    });
  });

  describe("linearizability (what no pairwise check sees)", () => {
    it("reports reads that observe versions against real time", () => {
      // The write never returned, so neither read is stale by itself; but the second read began after the first
      // one had seen version 1 and still saw version 0.
      const ops = [
        unacked("c1", "d", "a", 0),
        read("c2", "d", 1, 2, 1, "a"),
        read("c3", "d", 3, 4, null, null),
      ];
      const violations = checkLinearizability(ops, logsOf({ d: log("a") }));
      expect(violations).toEqual([
        { check: "linearizability", doc: "d", detail: expect.stringContaining("c3") },
      ]);
    });

    it("reports a write ordering that a read contradicts", () => {
      // "b" (version 1) was called at 3, so version 2 came after 3; yet a read saw version 2 by time 2.
      const ops = [
        write("c1", "d", "a", 0, 100, 2),
        read("c2", "d", 1, 2, 2, "a"),
        write("c3", "d", "b", 3, 4, 1),
      ];
      const violations = checkLinearizability(ops, logsOf({ d: log("b", "a") }));
      expect(checks(violations)).toEqual(["linearizability"]);
    });
  });

  describe("history", () => {
    it("reports malformed operations", () => {
      const ops: Operation[] = [
        write("c1", "d", "a", 0, 1, 1),
        write("c2", "d", "a", 2, 3, 2),
        { kind: "write", client: "c3", doc: "d", value: "b", call: 4, ret: null, acked: true, version: 3 },
        { kind: "write", client: "c3", doc: "d", value: "c", call: 6, ret: 7, acked: true },
        read("c4", "d", 9, 8, 3, "b"),
        read("c4", "d", 10, 11, null, "b"),
      ];
      const violations = checkLinearizability(ops, logsOf({ d: log("a", "a", "b", "c") }));
      expect(violations.filter((v) => v.check === "history")).toHaveLength(5);
    });
  });

  it("keeps documents apart", () => {
    const ops = [
      write("c1", "d", "a", 0, 1, 1),
      write("c1", "e", "b", 2, 3, 1),
      read("c2", "e", 4, 5, 1, "b"),
    ];
    expect(checkLinearizability(ops, logsOf({ d: log("a"), e: log("b") }))).toEqual([]);
  });
});

describe("checkReadModel", () => {
  const logs = logsOf({ d: log("a", "b"), gone: log("a", null), empty: [] });
  const row = (version: number, value: string | null, deleted = false) => ({ version, value, deleted });

  it("accepts a read model at every document's last version, tombstones included", () => {
    const model = new Map([
      ["d", row(2, "b")],
      ["gone", row(2, null, true)],
    ]);
    expect(checkReadModel(logs, model)).toEqual([]);
  });

  it("reports a read model behind, ahead, missing or unknown", () => {
    expect(
      checks(
        checkReadModel(
          logs,
          new Map([
            ["d", row(1, "a")],
            ["gone", row(2, null, true)],
          ]),
        ),
      ),
    ).toEqual(["read-model-behind"]);
    expect(
      checks(
        checkReadModel(
          logs,
          new Map([
            ["d", row(3, "c")],
            ["gone", row(2, null, true)],
          ]),
        ),
      ),
    ).toEqual(["read-model-ahead"]);
    expect(checkReadModel(logs, new Map([["d", row(2, "b")]]))).toEqual([
      { check: "read-model-missing", doc: "gone", detail: expect.stringContaining("version 2") },
    ]);
    const unknown = new Map([
      ["d", row(2, "b")],
      ["gone", row(2, null, true)],
      ["empty", row(1, "x")],
      ["x", row(1, "x")],
    ]);
    expect(checkReadModel(logs, unknown).map((v) => [v.check, v.doc])).toEqual([
      ["read-model-unknown", "empty"],
      ["read-model-unknown", "x"],
    ]);
  });

  it("reports a wrong deleted flag either way, and a wrong value", () => {
    const notDeleted = new Map([
      ["d", row(2, "b")],
      ["gone", row(2, null, false)],
    ]);
    expect(checkReadModel(logs, notDeleted)).toEqual([
      { check: "read-model-mismatch", doc: "gone", detail: expect.stringContaining("not deleted") },
    ]);
    const deleted = new Map([
      ["d", row(2, "b", true)],
      ["gone", row(2, null, true)],
    ]);
    expect(checkReadModel(logs, deleted)).toEqual([
      { check: "read-model-mismatch", doc: "d", detail: expect.stringContaining("is deleted") },
    ]);
    const wrong = new Map([
      ["d", row(2, "a")],
      ["gone", row(2, null, true)],
    ]);
    expect(checkReadModel(logs, wrong)).toEqual([
      { check: "read-model-mismatch", doc: "d", detail: expect.stringContaining('"a"') },
    ]);
  });
});

describe("checkFeed", () => {
  const logs = logsOf({ d: log("a", "b"), e: log("c") });

  it("accepts every (doc, version) exactly once, in any order", () => {
    const feed = [
      { doc: "e", version: 1 },
      { doc: "d", version: 1 },
      { doc: "d", version: 2 },
    ];
    expect(checkFeed(logs, feed)).toEqual([]);
  });

  it("reports missing, duplicated and unknown entries", () => {
    const feed = [
      { doc: "d", version: 1 },
      { doc: "d", version: 1 },
      { doc: "d", version: 3 },
      { doc: "x", version: 1 },
    ];
    expect(checkFeed(logs, feed).map((v) => [v.check, v.doc])).toEqual([
      ["feed-missing", "d"],
      ["feed-missing", "e"],
      ["feed-unknown", "d"],
      ["feed-unknown", "x"],
      ["feed-duplicate", "d"],
    ]);
  });
});

describe("checkArchive", () => {
  const logs = logsOf({ d: log("a", "b"), e: log("c") });

  it("accepts duplicates (the archive is at-least-once)", () => {
    const archived = [
      { doc: "d", version: 2 },
      { doc: "d", version: 1 },
      { doc: "d", version: 2 },
      { doc: "e", version: 1 },
    ];
    expect(checkArchive(logs, archived)).toEqual([]);
  });

  it("reports missing and unknown entries", () => {
    const archived = [
      { doc: "d", version: 1 },
      { doc: "e", version: 2 },
    ];
    expect(checkArchive(logs, archived)).toEqual([
      { check: "archive-missing", doc: "d", detail: expect.stringContaining("version 2") },
      { check: "archive-missing", doc: "e", detail: expect.stringContaining("version 1") },
      { check: "archive-unknown", doc: "e", detail: expect.stringContaining("version 2") },
    ]);
  });
});

describe("summarize", () => {
  it("counts operations, acknowledgements, losses, duplicates and unacknowledged writes that took effect", () => {
    const ops: Operation[] = [
      write("c1", "d", "a", 0, 1, 1),
      write("c1", "d", "lost", 2, 3, 2),
      write("c1", "d", "moved", 4, 5, 5),
      unacked("c2", "d", "twice", 0),
      unacked("c3", "d", "applied", 0, 9),
      unacked("c4", "d", "never", 0),
      read("c5", "d", 0, 1, null, null),
    ];
    expect(summarize(ops, logsOf({ d: log("a", "twice", "moved", "twice", "applied") }))).toEqual({
      operations: 7,
      acknowledged: 3,
      lost: 2,
      duplicated: 1,
      unacknowledgedApplied: 2,
    });
  });
});

// -----------------------------------------------------------------------------------------------------------------
// A simulated register with concurrent clients

type Variant =
  | "correct"
  /** (a) a write reads the current version when called and commits that + 1 when applied: lost updates */
  | "skip-version-check"
  /** (a') the same, with a log keyed by version: the second commit of a version overwrites the first */
  | "skip-version-check-overwrite"
  /** (b) some reads return a version older than one acknowledged before they were called */
  | "stale-read"
  /** (c) some acknowledged writes are never committed to the log */
  | "lose-acked"
  /** (d) some writes that get no response are applied twice */
  | "double-apply";

interface OpSpec {
  client: number;
  doc: number;
  write: boolean;
  /** idle time before the client calls */
  gap: number;
  /** call to apply */
  applyDelay: number;
  /** apply to ret */
  retDelay: number;
  /** no response: a write may or may not apply (maybe after the client gave up); a read is not recorded */
  crash: boolean;
  crashApplies: boolean;
  /** how long after its apply time a crashed write actually applies */
  late: number;
  /** orders events at the same time */
  tie: number;
  /** decides whether a broken variant misbehaves on this operation */
  roll: number;
}

const opSpec: fc.Arbitrary<OpSpec> = fc.record({
  client: fc.nat(4),
  doc: fc.nat(1),
  write: fc.boolean(),
  gap: fc.nat(3),
  applyDelay: fc.nat(4),
  retDelay: fc.nat(4),
  crash: fc.nat(4).map((n) => n === 0),
  crashApplies: fc.boolean(),
  late: fc.nat(8),
  tie: fc.nat(1000),
  roll: fc.nat(99),
});

interface Simulated {
  ops: Operation[];
  logs: Map<string, LogEntry[]>;
  /** the variant's bug happened in a way the checker must see */
  bug: boolean;
  /** (a') an acknowledged write's log entry was overwritten */
  ackedOverwritten: boolean;
  appliedUnacked: number;
}

interface WriteRec {
  op: WriteOp;
  apply: number | null;
  snapshot: number | null;
  roll: number;
  committed: boolean;
}

interface ReadRec {
  op: ReadOp;
  apply: number;
  roll: number;
}

interface DocState {
  version: number;
  value: string | null;
  log: LogEntry[];
  byVersion: Map<number, { value: string; acked: boolean }>;
  /** applied acknowledged writes: ret time and version */
  acked: Array<{ ret: number; version: number }>;
}

type SimEvent =
  | { time: number; tie: number; seq: number; kind: "snapshot" | "apply" | "reapply"; rec: WriteRec }
  | { time: number; tie: number; seq: number; kind: "read"; rec: ReadRec };

function simulate(specs: readonly OpSpec[], variant: Variant): Simulated {
  const clock = new Map<number, number>();
  const events: SimEvent[] = [];
  const recorded: Operation[] = [];

  specs.forEach((spec, i) => {
    const client = `c${spec.client}`;
    const doc = `d${spec.doc}`;
    const call = (clock.get(spec.client) ?? 0) + spec.gap;
    const apply = call + spec.applyDelay;
    const ret = apply + spec.retDelay;
    // A client that gets no response gives up after a timeout and moves on.
    clock.set(spec.client, spec.crash ? ret + 1 : ret);
    if (spec.write) {
      const op: WriteOp = { kind: "write", client, doc, value: `${client}-${i}`, call, ret, acked: true };
      if (spec.crash) {
        op.ret = null;
        op.acked = false;
      }
      const applyAt = !spec.crash ? apply : spec.crashApplies ? apply + spec.late : null;
      const rec: WriteRec = { op, apply: applyAt, snapshot: null, roll: spec.roll, committed: false };
      recorded.push(op);
      if (variant === "skip-version-check" || variant === "skip-version-check-overwrite") {
        events.push({ time: call, tie: spec.tie, seq: events.length, kind: "snapshot", rec });
      }
      if (applyAt !== null) {
        events.push({ time: applyAt, tie: spec.tie, seq: events.length, kind: "apply", rec });
        if (variant === "double-apply" && spec.crash && spec.roll < 50) {
          const time = applyAt + 1 + (spec.roll % 4);
          events.push({ time, tie: spec.tie, seq: events.length, kind: "reapply", rec });
        }
      }
    } else if (!spec.crash) {
      const op: ReadOp = { kind: "read", client, doc, call, ret, version: null, value: null };
      recorded.push(op);
      events.push({
        time: apply,
        tie: spec.tie,
        seq: events.length,
        kind: "read",
        rec: { op, apply, roll: spec.roll },
      });
    }
  });
  events.sort((a, b) => a.time - b.time || a.tie - b.tie || a.seq - b.seq);

  const docs = new Map<string, DocState>();
  const stateOf = (doc: string): DocState => {
    let state = docs.get(doc);
    if (!state) {
      state = { version: 0, value: null, log: [], byVersion: new Map(), acked: [] };
      docs.set(doc, state);
    }
    return state;
  };
  const result: Simulated = {
    ops: recorded,
    logs: new Map(),
    bug: false,
    ackedOverwritten: false,
    appliedUnacked: 0,
  };

  const commit = (state: DocState, rec: WriteRec, version: number) => {
    if (version !== state.version + 1) result.bug = true;
    const overwritten = state.byVersion.get(version);
    if (variant === "skip-version-check-overwrite" && overwritten) {
      if (overwritten.acked) result.ackedOverwritten = true;
      state.log = state.log.filter((e) => e.version !== version);
    }
    state.log.push({ version, value: rec.op.value });
    state.byVersion.set(version, { value: rec.op.value, acked: rec.op.acked });
    state.version = version;
    state.value = rec.op.value;
    if (rec.op.acked) {
      rec.op.version = version;
      if (rec.op.ret !== null) state.acked.push({ ret: rec.op.ret, version });
    }
  };

  for (const event of events) {
    if (event.kind === "read") {
      const { op, roll } = event.rec;
      const state = stateOf(op.doc);
      op.version = state.version === 0 ? null : state.version;
      op.value = state.value;
      if (variant === "stale-read" && roll < 30) {
        // Return something older than a write acknowledged before this read was called, if there is one.
        let bound = 0;
        for (const a of state.acked) if (a.ret < op.call) bound = Math.max(bound, a.version);
        if (bound > 0) {
          const stale = roll % bound;
          op.version = stale === 0 ? null : stale;
          op.value = stale === 0 ? null : (state.byVersion.get(stale)?.value ?? null);
          result.bug = true;
        }
      }
      continue;
    }
    const { rec } = event;
    const state = stateOf(rec.op.doc);
    if (event.kind === "snapshot") {
      rec.snapshot = state.version;
    } else if (event.kind === "reapply") {
      result.bug = true;
      commit(state, rec, state.version + 1);
    } else if (variant === "lose-acked" && rec.op.acked && rec.roll < 15) {
      // Acknowledged with the next version, never committed.
      rec.op.version = state.version + 1;
      result.bug = true;
    } else {
      commit(state, rec, (rec.snapshot ?? state.version) + 1);
      if (!rec.op.acked) result.appliedUnacked++;
    }
  }

  for (const op of recorded) {
    if (!result.logs.has(op.doc)) {
      result.logs.set(
        op.doc,
        [...(docs.get(op.doc)?.log ?? [])].sort((a, b) => a.version - b.version),
      );
    }
  }
  return result;
}

const history = fc.array(opSpec, { minLength: 1, maxLength: 60, size: "max" });

/** The feed, archive and read model a correct read side derives from the logs. */
function readSide(logs: ReadonlyMap<string, LogEntry[]>) {
  const feed: Array<{ doc: string; version: number }> = [];
  const model = new Map<string, { version: number; value: string | null; deleted: boolean }>();
  for (const [doc, entries] of logs) {
    for (const e of entries) feed.push({ doc, version: e.version });
    const last = entries.at(-1);
    if (last) model.set(doc, { version: last.version, value: last.value, deleted: last.value === null });
  }
  return { feed, archived: [...feed, ...feed.slice(0, 3)], model };
}

describe("checker against a simulated register (property)", () => {
  it("finds nothing wrong in any history of a correct register", () => {
    let crashedApplied = 0;
    fc.assert(
      fc.property(history, (specs) => {
        const { ops, logs, bug, appliedUnacked } = simulate(specs, "correct");
        expect(bug).toBe(false);
        expect(checkLinearizability(ops, logs)).toEqual([]);
        const { feed, archived, model } = readSide(logs);
        expect(checkFeed(logs, feed)).toEqual([]);
        expect(checkArchive(logs, archived)).toEqual([]);
        expect(checkReadModel(logs, model)).toEqual([]);
        const writes = ops.filter((op) => op.kind === "write");
        expect(summarize(ops, logs)).toEqual({
          operations: ops.length,
          acknowledged: writes.filter((w) => w.acked).length,
          lost: 0,
          duplicated: 0,
          unacknowledgedApplied: appliedUnacked,
        });
        crashedApplied += appliedUnacked;
      }),
      { numRuns: 400, seed: SEED },
    );
    expect(crashedApplied).toBeGreaterThan(0);
  });

  const broken: Array<[Variant, string]> = [
    ["skip-version-check", "versions"],
    ["stale-read", "stale-read"],
    ["lose-acked", "lost-write"],
    ["double-apply", "duplicate"],
  ];
  for (const [variant, check] of broken) {
    it(`reports ${check} whenever the ${variant} register misbehaved, and nothing otherwise`, () => {
      let caught = 0;
      fc.assert(
        fc.property(history, (specs) => {
          const { ops, logs, bug } = simulate(specs, variant);
          const violations = checkLinearizability(ops, logs);
          if (bug) {
            expect(checks(violations)).toContain(check);
            caught++;
          } else {
            expect(violations).toEqual([]);
          }
        }),
        { numRuns: 300, seed: SEED },
      );
      // The bug must actually have happened often enough for this to mean something.
      expect(caught).toBeGreaterThan(50);
    });
  }

  it("reports lost-write whenever a register that skips the version check overwrote an acknowledged write", () => {
    let caught = 0;
    fc.assert(
      fc.property(history, (specs) => {
        const { ops, logs, bug, ackedOverwritten } = simulate(specs, "skip-version-check-overwrite");
        const violations = checkLinearizability(ops, logs);
        if (ackedOverwritten) {
          expect(checks(violations)).toContain("lost-write");
          caught++;
        }
        if (!bug) expect(violations).toEqual([]);
      }),
      { numRuns: 300, seed: SEED },
    );
    expect(caught).toBeGreaterThan(50);
  });

  it("checks a 50k-operation history quickly (no quadratic passes)", () => {
    const specs = fc.sample(fc.array(opSpec, { minLength: 50_000, maxLength: 50_000 }), {
      numRuns: 1,
      seed: SEED,
    })[0];
    if (!specs) throw new Error("no sample");
    // Many clients and documents, as the harness runs them.
    const wide = specs.map((s, i) => ({ ...s, client: i % 64, doc: i % 8 }));
    const { ops, logs } = simulate(wide, "correct");
    expect(ops.length).toBeGreaterThan(40_000);
    expect(checkLinearizability(ops, logs)).toEqual([]);

    // One acknowledged write dropped from the middle of a log is found, and only it.
    const victim = ops.find((op): op is WriteOp => op.kind === "write" && op.acked && op.version === 1000);
    if (!victim) throw new Error("no victim");
    const damaged = new Map(logs);
    damaged.set(
      victim.doc,
      (logs.get(victim.doc) ?? []).map((e) => (e.value === victim.value ? { ...e, value: "mangled" } : e)),
    );
    const violations = checkLinearizability(ops, damaged);
    expect(checks(violations)).toContain("lost-write");
    expect(checks(violations)).toContain("phantom");
  });
});

// -----------------------------------------------------------------------------------------------------------------
// The checker against an exhaustive search, on small random histories

interface TinyWrite {
  call: number;
  duration: number;
  acked: boolean;
  appliedIfCrashed: boolean;
  order: number;
}

interface TinyRead {
  call: number;
  duration: number;
  pick: number;
}

/** Is there a total order of the effective operations, respecting real time and the log, where reads see the
 * version current at their position? (Wing & Gong, memoised on the set of placed operations.) */
function linearizable(
  items: ReadonlyArray<{ call: number; ret: number; write: number | null; reads: number }>,
): boolean {
  const full = (1 << items.length) - 1;
  const failed = new Set<number>();
  const search = (done: number, version: number): boolean => {
    if (done === full) return true;
    if (failed.has(done)) return false;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!item || done & (1 << i)) continue;
      // Something still pending that finished before this began must go first.
      const blocked = items.some((other, j) => j !== i && !(done & (1 << j)) && other.ret < item.call);
      if (blocked) continue;
      if (item.write !== null ? item.write === version + 1 : item.reads === version) {
        if (search(done | (1 << i), item.write ?? version)) return true;
      }
    }
    failed.add(done);
    return false;
  };
  return search(0, 0);
}

describe("checker against exhaustive search (property)", () => {
  it("reports a violation exactly when no linearization exists", () => {
    let good = 0;
    let bad = 0;
    const tinyWrite = fc.record({
      call: fc.nat(8),
      duration: fc.nat(4),
      acked: fc.boolean(),
      appliedIfCrashed: fc.boolean(),
      order: fc.nat(100),
    });
    const tinyRead = fc.record({ call: fc.nat(8), duration: fc.nat(4), pick: fc.nat(10) });
    fc.assert(
      fc.property(
        fc.array(tinyWrite, { minLength: 1, maxLength: 4 }),
        fc.array(tinyRead, { maxLength: 4 }),
        (tinyWrites: TinyWrite[], tinyReads: TinyRead[]) => {
          const ops: Operation[] = [];
          const applied: Array<{ op: WriteOp; order: number }> = [];
          tinyWrites.forEach((w, i) => {
            const op = w.acked
              ? write(`w${i}`, "d", `v${i}`, w.call, w.call + w.duration, 0)
              : unacked(`w${i}`, "d", `v${i}`, w.call);
            ops.push(op);
            if (w.acked || w.appliedIfCrashed) applied.push({ op, order: w.order });
          });
          applied.sort((a, b) => a.order - b.order);
          const entries = applied.map(({ op }, i) => {
            if (op.acked) op.version = i + 1;
            return { version: i + 1, value: op.value };
          });
          const items: Array<{ call: number; ret: number; write: number | null; reads: number }> =
            applied.map(({ op }, i) => ({
              call: op.call,
              ret: op.ret ?? Number.POSITIVE_INFINITY,
              write: i + 1,
              reads: 0,
            }));
          tinyReads.forEach((r, i) => {
            const version = r.pick % (entries.length + 1);
            const value = entries[version - 1]?.value ?? null;
            ops.push(read(`r${i}`, "d", r.call, r.call + r.duration, version === 0 ? null : version, value));
            items.push({ call: r.call, ret: r.call + r.duration, write: null, reads: version });
          });

          const violations = checkLinearizability(ops, logsOf({ d: entries }));
          const expected = linearizable(items);
          expect(violations.length === 0).toBe(expected);
          if (expected) good++;
          else bad++;
        },
      ),
      { numRuns: 3000, seed: SEED },
    );
    expect(good).toBeGreaterThan(300);
    expect(bad).toBeGreaterThan(300);
  });
});
