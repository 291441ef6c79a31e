import { describe, expect, it } from "vitest";
import {
  type AccountEvent,
  type BankSpec,
  checkBank,
  checkFeedTransactions,
  checkPage,
  type HeldRow,
  heldReady,
  type Transfer,
  type TransferOutcome,
} from "../../bench/chaos/bank-checker";

const spec: BankSpec = { accounts: ["a", "b", "c"], initial: 100 };

function transfer(
  n: number,
  from: string,
  to: string,
  amount: number,
  outcome: TransferOutcome = "committed",
): Transfer {
  return { key: `key-${n}`, txId: `tx-${n}`, client: "c0", from, to, amount, outcome };
}

/**
 * The histories a correct service leaves after `applied` (in order), and the committed transfers' versions filled
 * in as their answers would give them.
 */
function apply(applied: Transfer[]): Map<string, AccountEvent[]> {
  const histories = new Map(
    spec.accounts.map((a) => [a, [{ version: 1, balance: spec.initial, txId: null } as AccountEvent]]),
  );
  for (const t of applied) {
    const versions: Record<string, number> = {};
    for (const [account, delta] of [
      [t.from, -t.amount],
      [t.to, t.amount],
    ] as const) {
      const events = histories.get(account) ?? [];
      const last = events.at(-1) ?? { version: 0, balance: 0, txId: null };
      events.push({ version: last.version + 1, balance: (last.balance ?? 0) + delta, txId: t.txId });
      versions[account] = last.version + 1;
    }
    if (t.outcome === "committed") t.versions = { from: versions[t.from] ?? 0, to: versions[t.to] ?? 0 };
  }
  return histories;
}

function finalOf(histories: Map<string, AccountEvent[]>) {
  return new Map(
    [...histories].map(([a, events]) => {
      const last = events.at(-1);
      return [a, { version: last?.version ?? 0, balance: last?.balance ?? 0 }];
    }),
  );
}

const checks = (violations: Array<{ check: string }>) => [...new Set(violations.map((v) => v.check))];

describe("the bank checker", () => {
  it("passes a run where every transfer applied whole or not at all, answered or not", () => {
    const transfers = [
      transfer(1, "a", "b", 30),
      transfer(2, "b", "c", 130, "bound"),
      transfer(3, "c", "a", 10, "unanswered"),
      transfer(4, "a", "c", 5, "unanswered"),
      transfer(5, "b", "a", 1, "conflict"),
      transfer(6, "c", "b", 2, "unavailable"),
      transfer(7, "b", "c", 100),
    ];
    const [t1, , t3, , , , t7] = transfers;
    const histories = apply([t1, t3, t7].filter((t): t is Transfer => t !== undefined));
    expect(checkBank(spec, transfers, histories, finalOf(histories))).toEqual([]);
  });

  it("finds a transaction in one account's history only, and one in an account not its own", () => {
    const t1 = transfer(1, "a", "b", 30);
    const t2 = transfer(2, "a", "b", 5, "unanswered");
    const histories = apply([t1, t2]);
    // b lost t2's write; c got t1's as well.
    histories.set("b", (histories.get("b") ?? []).slice(0, 2));
    histories.get("c")?.push({ version: 2, balance: 130, txId: "tx-1" });
    const violations = checkBank(spec, [t1, t2], histories, finalOf(histories));
    expect(checks(violations)).toContain("bank-atomicity");
    expect(violations.filter((v) => v.check === "bank-atomicity").map((v) => v.doc)).toEqual(["c", "b"]);
  });

  it("finds a committed transfer missing from a history, or at another version than answered", () => {
    const t1 = transfer(1, "a", "b", 30);
    const t2 = transfer(2, "b", "c", 10);
    const histories = apply([t1]);
    t2.versions = { from: 3, to: 2 };
    expect(checks(checkBank(spec, [t1, t2], histories, finalOf(histories)))).toEqual(["bank-lost"]);
    const moved = apply([t1]);
    t1.versions = { from: 3, to: 2 };
    expect(checks(checkBank(spec, [t1], moved, finalOf(moved)))).toEqual(["bank-lost"]);
  });

  it("finds an aborted transfer that was applied", () => {
    for (const outcome of ["bound", "conflict", "unavailable"] as const) {
      const t = transfer(1, "a", "b", 30, outcome);
      const histories = apply([t]);
      expect(checks(checkBank(spec, [t], histories, finalOf(histories)))).toEqual(["bank-aborted"]);
    }
  });

  it("finds a transaction no transfer made, one applied twice, and one that moved the wrong amount", () => {
    const t1 = transfer(1, "a", "b", 30);
    const histories = apply([t1, transfer(9, "c", "a", 1)]);
    expect(checks(checkBank(spec, [t1], histories, finalOf(histories)))).toContain("bank-phantom");

    const twice = apply([t1]);
    twice.get("a")?.push({ version: 3, balance: 40, txId: "tx-1" });
    expect(checks(checkBank(spec, [t1], twice, finalOf(twice)))).toContain("bank-duplicate");

    const wrong = apply([t1]);
    const events = wrong.get("b") ?? [];
    events[1] = { version: 2, balance: 131, txId: "tx-1" };
    const violations = checkBank(spec, [t1], wrong, finalOf(wrong));
    expect(checks(violations)).toEqual(["bank-amount", "bank-total"]);
  });

  it("finds a negative balance, a write outside a transaction and a gap in a history", () => {
    const t1 = transfer(1, "a", "b", 130);
    const negative = apply([t1]);
    expect(checks(checkBank(spec, [t1], negative, finalOf(negative)))).toEqual(["bank-negative"]);

    const outside = apply([]);
    outside.get("a")?.push({ version: 2, balance: 100, txId: null });
    expect(checks(checkBank(spec, [], outside, finalOf(outside)))).toEqual(["bank-history"]);

    const gap = apply([]);
    gap.get("a")?.push({ version: 3, balance: 100, txId: null });
    expect(checks(checkBank(spec, [], gap, finalOf(gap)))).toEqual(["bank-history"]);

    const opened = apply([]);
    opened.set("c", [{ version: 1, balance: 99, txId: null }]);
    expect(checks(checkBank(spec, [], opened, finalOf(apply([]))))).toContain("bank-history");
  });

  it("finds final strong reads that do not add up, or disagree with the histories", () => {
    const t1 = transfer(1, "a", "b", 30);
    const histories = apply([t1]);
    const final = finalOf(histories);
    final.set("c", { version: 1, balance: 101 });
    const violations = checkBank(spec, [t1], histories, final);
    expect(violations.map((v) => [v.check, v.doc])).toEqual([
      ["bank-total", "c"],
      ["bank-total", "*"],
    ]);
    // An account the drain could not read (still held) leaves the sum unchecked; the harness reports the hold.
    final.delete("c");
    expect(checkBank(spec, [t1], histories, final)).toEqual([]);
  });
});

describe("a query of all accounts", () => {
  const item = (id: string, balance: unknown, version = 1) => ({ id, version, data: { balance } });

  it("adds up to the total, or is a torn read", () => {
    expect(checkPage(spec, [item("a", 70), item("b", 130), item("c", 100)], true, "now")).toEqual({
      violation: null,
      full: true,
    });
    const torn = checkPage(spec, [item("a", 70), item("b", 100), item("c", 100)], true, "now");
    expect(torn.violation?.check).toBe("bank-torn-read");
    expect(torn.violation?.detail).toContain("adds up to 270, not 300");
    expect(
      checkPage(spec, [item("a", -1), item("b", 201), item("c", 100)], true, "now").violation?.check,
    ).toBe("bank-negative");
  });

  it("may lack accounts only until it has shown them all", () => {
    const partial = [item("a", 70), item("c", 100)];
    expect(checkPage(spec, partial, false, "now")).toEqual({ violation: null, full: false });
    expect(checkPage(spec, partial, true, "now").violation?.check).toBe("bank-torn-read");
  });
});

describe("a transaction in the change feed", () => {
  const histories = new Map<string, AccountEvent[]>([
    [
      "a",
      [
        { version: 1, balance: 100, txId: null },
        { version: 2, balance: 70, txId: "tx-1" },
      ],
    ],
    [
      "b",
      [
        { version: 1, balance: 100, txId: null },
        { version: 2, balance: 130, txId: "tx-1" },
      ],
    ],
  ]);

  it("is one run of consecutive changes, each with the transaction's id", () => {
    const feed = [
      { seq: 1, doc: "a", version: 1, txId: null },
      { seq: 2, doc: "b", version: 1, txId: null },
      { seq: 5, doc: "b", version: 2, txId: "tx-1" },
      { seq: 4, doc: "a", version: 2, txId: "tx-1" },
    ];
    expect(checkFeedTransactions(feed, histories)).toEqual([]);
  });

  it("is reported when apart or unmarked", () => {
    const apart = [
      { seq: 1, doc: "a", version: 1, txId: null },
      { seq: 2, doc: "a", version: 2, txId: "tx-1" },
      { seq: 3, doc: "b", version: 1, txId: null },
      { seq: 4, doc: "b", version: 2, txId: "tx-1" },
    ];
    expect(checkFeedTransactions(apart, histories).map((v) => v.check)).toEqual(["bank-feed"]);
    const unmarked = [
      { seq: 1, doc: "a", version: 2, txId: "tx-1" },
      { seq: 2, doc: "b", version: 2, txId: null },
    ];
    expect(checkFeedTransactions(unmarked, histories).map((v) => v.detail)).toEqual([
      "the feed has version 2 (seq 2) with transaction none; the history says tx-1",
    ]);
  });
});

describe("events the projector holds back", () => {
  const held = (
    doc: string,
    version: number,
    txId: string | null,
    txSize: number | null,
    txBefore: number | null,
  ) => ({ collection: "accounts", doc, version, txId, txSize, txBefore }) as HeldRow;
  const feed = new Set(["accounts/b@1", "accounts/c@4"]);
  const inFeed = (collection: string, doc: string, version: number) =>
    feed.has(`${collection}/${doc}@${version}`);

  it("wait for something while a write of their transaction is missing, or what one builds on", () => {
    expect(heldReady([held("b", 2, "k", 2, 1)], inFeed)).toEqual(new Map());
    expect(heldReady([held("b", 2, "k", 2, 1), held("c", 6, "k", 2, 5)], inFeed)).toEqual(new Map());
    expect(heldReady([held("c", 6, null, null, 5)], inFeed)).toEqual(new Map());
  });

  it("wait for nothing once every write of the transaction is held and the feed has each one's basis", () => {
    const ready = heldReady(
      [held("b", 2, "k", 2, 1), held("c", 5, "k", 2, 4), held("a", 3, null, null, 1)],
      inFeed,
    );
    expect([...ready.keys()].sort()).toEqual(["accounts/b@2", "accounts/c@5"]);
    expect(ready.get("accounts/b@2")).toContain("transaction k: all 2 writes are held");
    expect([...heldReady([held("b", 3, null, null, 1)], inFeed).keys()]).toEqual(["accounts/b@3"]);
  });
});
