/**
 * The bank workload's invariants (bench/chaos/bank.ts): accounts that only ever change by transfers, each a
 * transaction of two bounded increments (the sender's with min 0), so that money is neither created nor lost and
 * no balance goes below zero, whatever faults the run injects.
 *
 * Pure TypeScript, like ./checker: no Node or Workers APIs, so the harness and the workerd tests both import it.
 *
 * Checks (each a Violation's `check`):
 * - `bank-history`       an account's history is versions 1..N, opened at the initial balance by a write outside
 *                        any transaction, and changed by transactions only after that
 * - `bank-negative`      a balance below zero (or above the bank's total) in a history, a strong read or a query
 * - `bank-phantom`       a transaction id in a history that no transfer of the run has
 * - `bank-atomicity`     a transfer's transaction is in one of its accounts' histories but not in the other's, or
 *                        in an account that is not one of its two
 * - `bank-amount`        a transaction's event changed its account by another amount than the transfer's
 * - `bank-duplicate`     a transaction applied twice to one account
 * - `bank-lost`          a transfer answered 200 is missing from an account's history, or is there at another
 *                        version than the answer said
 * - `bank-aborted`       a transfer answered as aborted (409 / 503 with a transaction outcome) was applied
 * - `bank-total`         the final balances (strong reads, histories) do not add up to the total, or disagree
 * - `bank-torn-read`     a query of all accounts on the read model does not add up to the total
 * - `bank-feed`          the change feed has a transaction's writes apart, or without its id
 * - `held-ready`         the projector holds back events that wait for nothing: every write of their transaction
 *                        is held, and what each builds on (`txBefore`) is in the change feed
 */
import type { Violation } from "./checker";

/** How one attempt of a transfer (one Idempotency-Key) ended, as its client saw it. */
export type TransferOutcome =
  /** 200: every write applied. */
  | "committed"
  /** 409 transaction-aborted, reason patch-bound-exceeded: the sender had too little; nothing applied. */
  | "bound"
  /** 409 transaction-conflict: another transaction held an account; nothing applied. */
  | "conflict"
  /** 503 transaction-unavailable or transaction-interrupted: nothing applied. */
  | "unavailable"
  /** No outcome came back (timeouts, resets, the process restart) before the run ended. */
  | "unanswered";

/** Every outcome but these says nothing was applied. */
const APPLIED: ReadonlySet<TransferOutcome> = new Set(["committed", "unanswered"]);

export interface Transfer {
  /** Its Idempotency-Key: unique in the run. */
  readonly key: string;
  /** The transaction id the key names (the one a 200 answers with). */
  readonly txId: string;
  readonly client: string;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  outcome: TransferOutcome;
  /** When committed: the versions the answer gave the two accounts. */
  versions?: { readonly from: number; readonly to: number };
  /** When the attempt was first sent and when its outcome came (ms since the run started; null: never). */
  call?: number;
  ret?: number | null;
}

/** One event of an account's history. */
export interface AccountEvent {
  readonly version: number;
  /** null: a delete (never written by the workload) or a state without a numeric balance. */
  readonly balance: number | null;
  readonly txId: string | null;
}

export interface BankSpec {
  readonly accounts: readonly string[];
  readonly initial: number;
}

export const totalOf = (spec: BankSpec) => spec.accounts.length * spec.initial;

const seconds = (ms: number | null | undefined) => (ms == null ? "none" : `${(ms / 1000).toFixed(2)} s`);
const describe = (t: Transfer) =>
  `transfer ${t.key} (${t.txId}) of ${t.amount} from ${t.from} to ${t.to}, ${t.outcome}` +
  (t.versions === undefined ? "" : ` at v${t.versions.from}/v${t.versions.to}`) +
  (t.call === undefined ? "" : ` [sent ${seconds(t.call)}, answered ${seconds(t.ret)}]`);

/**
 * Checks the transfers against the accounts' histories, read after the drain. `final` holds the strong reads
 * taken then (an account missing from it could not be read).
 */
export function checkBank(
  spec: BankSpec,
  transfers: readonly Transfer[],
  histories: ReadonlyMap<string, readonly AccountEvent[]>,
  final: ReadonlyMap<string, { version: number; balance: number }>,
): Violation[] {
  const out: Violation[] = [];
  const total = totalOf(spec);
  const byTx = new Map<string, Transfer>();
  for (const t of transfers) {
    if (byTx.has(t.txId)) {
      out.push({ check: "history", doc: t.from, detail: `${describe(t)}: its transaction id is not unique` });
    }
    byTx.set(t.txId, t);
  }
  /** txId -> account -> versions it is at. */
  const seen = new Map<string, Map<string, number[]>>();

  for (const account of spec.accounts) {
    const events = [...(histories.get(account) ?? [])].sort((a, b) => a.version - b.version);
    if (events.length === 0) {
      out.push({ check: "bank-history", doc: account, detail: "the account has no history" });
      continue;
    }
    let previous: AccountEvent | undefined;
    for (const [i, e] of events.entries()) {
      if (e.version !== i + 1) {
        out.push({
          check: "bank-history",
          doc: account,
          detail: `event ${i + 1} of the history is version ${e.version}`,
        });
        break;
      }
      if (e.balance === null) {
        out.push({ check: "bank-history", doc: account, detail: `version ${e.version} holds no balance` });
        break;
      }
      if (e.balance < 0 || e.balance > total) {
        out.push({
          check: "bank-negative",
          doc: account,
          detail: `version ${e.version}${e.txId === null ? "" : ` (${e.txId})`} has balance ${e.balance}`,
        });
      }
      if (e.version === 1) {
        if (e.txId !== null || e.balance !== spec.initial) {
          out.push({
            check: "bank-history",
            doc: account,
            detail: `version 1 is ${e.txId === null ? "" : `transaction ${e.txId}'s, `}balance ${e.balance}; the account opens at ${spec.initial} outside any transaction`,
          });
        }
      } else if (e.txId === null) {
        out.push({
          check: "bank-history",
          doc: account,
          detail: `version ${e.version} (balance ${e.balance}) was written outside any transaction`,
        });
      } else {
        const at = seen.get(e.txId) ?? new Map<string, number[]>();
        seen.set(e.txId, at);
        at.set(account, [...(at.get(account) ?? []), e.version]);
        const t = byTx.get(e.txId);
        const delta =
          t === undefined ? null : t.from === account ? -t.amount : t.to === account ? t.amount : null;
        if (t !== undefined && delta !== null && previous?.balance != null) {
          if (e.balance - previous.balance !== delta) {
            out.push({
              check: "bank-amount",
              doc: account,
              detail: `version ${e.version} changed the balance by ${e.balance - previous.balance} (${previous.balance} -> ${e.balance}); ${describe(t)} moves ${delta}`,
            });
          }
        }
      }
      previous = e;
    }
  }

  for (const [txId, at] of [...seen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const t = byTx.get(txId);
    const where = [...at].map(([account, versions]) => `${account} v${versions.join(", v")}`).join("; ");
    if (t === undefined) {
      out.push({
        check: "bank-phantom",
        doc: [...at.keys()][0] ?? "",
        detail: `transaction ${txId} (at ${where}) is no transfer of the run`,
      });
      continue;
    }
    for (const [account, versions] of at) {
      if (versions.length > 1) {
        out.push({ check: "bank-duplicate", doc: account, detail: `${describe(t)} is at ${where}` });
      }
      if (account !== t.from && account !== t.to) {
        out.push({ check: "bank-atomicity", doc: account, detail: `${describe(t)} is at ${where}` });
      }
    }
    for (const account of [t.from, t.to]) {
      if (!at.has(account)) {
        out.push({
          check: "bank-atomicity",
          doc: account,
          detail: `${describe(t)} is at ${where}, and not in ${account}'s history`,
        });
      }
    }
    if (!APPLIED.has(t.outcome)) {
      out.push({ check: "bank-aborted", doc: t.from, detail: `${describe(t)}, yet it is at ${where}` });
    }
  }

  for (const t of transfers) {
    if (t.outcome !== "committed") continue;
    const at = seen.get(t.txId);
    for (const [account, version] of [
      [t.from, t.versions?.from],
      [t.to, t.versions?.to],
    ] as const) {
      const versions = at?.get(account);
      if (versions === undefined) {
        out.push({
          check: "bank-lost",
          doc: account,
          detail: `${describe(t)} is not in ${account}'s history`,
        });
      } else if (version !== undefined && !versions.includes(version)) {
        out.push({
          check: "bank-lost",
          doc: account,
          detail: `${describe(t)} is at v${versions.join(", v")} of ${account}, not at v${version}`,
        });
      }
    }
  }

  let sum = 0;
  let complete = true;
  for (const account of spec.accounts) {
    const read = final.get(account);
    const last = histories
      .get(account)
      ?.reduce<AccountEvent | undefined>(
        (a, e) => (a === undefined || e.version > a.version ? e : a),
        undefined,
      );
    if (read === undefined) {
      complete = false;
      continue;
    }
    sum += read.balance;
    if (read.balance < 0) {
      out.push({
        check: "bank-negative",
        doc: account,
        detail: `the final strong read has balance ${read.balance} at version ${read.version}`,
      });
    }
    if (last !== undefined && (last.version !== read.version || last.balance !== read.balance)) {
      out.push({
        check: "bank-total",
        doc: account,
        detail: `the final strong read has v${read.version} balance ${read.balance}; the history ends at v${last.version} balance ${last.balance}`,
      });
    }
  }
  if (complete && sum !== total) {
    const balances = spec.accounts.map((a) => `${a} ${final.get(a)?.balance}`).join(", ");
    out.push({
      check: "bank-total",
      doc: "*",
      detail: `the final strong reads add up to ${sum}, not ${total} (${balances})`,
    });
  }
  return out;
}

/** An item of a query page: an account's envelope. */
export interface PageItem {
  readonly id: string;
  readonly version: number;
  readonly data: { readonly balance?: unknown } | null;
}

/**
 * One query of all accounts on the read model, during the run: every account there, adding up to the total. A
 * page that lacks accounts is only wrong once the read model has shown them all (`complete`: it had).
 * Returns the violation, or null; `full` says whether the page held every account.
 */
export function checkPage(
  spec: BankSpec,
  items: readonly PageItem[],
  complete: boolean,
  at: string,
): { violation: Violation | null; full: boolean } {
  const total = totalOf(spec);
  const mine = items.filter((i) => spec.accounts.includes(i.id));
  const shown = mine.map((i) => `${i.id} v${i.version} ${JSON.stringify(i.data?.balance)}`).join(", ");
  const full = mine.length === spec.accounts.length;
  if (!full) {
    return {
      full,
      violation: complete
        ? {
            check: "bank-torn-read",
            doc: "*",
            detail: `${at}: a query of all accounts returned ${mine.length} of ${spec.accounts.length} (${shown})`,
          }
        : null,
    };
  }
  let sum = 0;
  for (const i of mine) {
    const balance = i.data?.balance;
    if (typeof balance !== "number") {
      return {
        full,
        violation: { check: "bank-torn-read", doc: i.id, detail: `${at}: ${i.id} has no balance (${shown})` },
      };
    }
    if (balance < 0) {
      return {
        full,
        violation: { check: "bank-negative", doc: i.id, detail: `${at}: the read model has ${shown}` },
      };
    }
    sum += balance;
  }
  return {
    full,
    violation:
      sum === total
        ? null
        : {
            check: "bank-torn-read",
            doc: "*",
            detail: `${at}: a query of all accounts adds up to ${sum}, not ${total} (${shown})`,
          },
  };
}

/** A row of the change feed. */
export interface FeedRow {
  readonly seq: number;
  readonly doc: string;
  readonly version: number;
  readonly txId: string | null;
}

/**
 * The change feed shows a transaction's writes together: consecutive in `seq`, each marked with the transaction
 * id its event has in the history. Rows the histories do not know are the feed check's business (checkFeed).
 */
export function checkFeedTransactions(
  feed: readonly FeedRow[],
  histories: ReadonlyMap<string, readonly AccountEvent[]>,
): Violation[] {
  const out: Violation[] = [];
  const txOf = new Map<string, string | null>();
  for (const [account, events] of histories)
    for (const e of events) txOf.set(`${account}@${e.version}`, e.txId);
  const rows = [...feed].sort((a, b) => a.seq - b.seq);
  const positions = new Map<string, number[]>();
  for (const [i, r] of rows.entries()) {
    const logged = txOf.get(`${r.doc}@${r.version}`);
    if (logged !== undefined && logged !== r.txId) {
      out.push({
        check: "bank-feed",
        doc: r.doc,
        detail: `the feed has version ${r.version} (seq ${r.seq}) with transaction ${r.txId ?? "none"}; the history says ${logged ?? "none"}`,
      });
    }
    if (r.txId !== null) positions.set(r.txId, [...(positions.get(r.txId) ?? []), i]);
  }
  for (const [txId, at] of positions) {
    const first = at[0] ?? 0;
    if (at.some((p, k) => p !== first + k)) {
      const where = at.map((p) => `${rows[p]?.doc} v${rows[p]?.version} seq ${rows[p]?.seq}`).join(", ");
      out.push({
        check: "bank-feed",
        doc: rows[first]?.doc ?? "",
        detail: `transaction ${txId}'s writes are apart in the feed: ${where}`,
      });
    }
  }
  return out;
}

/** An event the projector holds back (D1 `held_events`). */
export interface HeldRow {
  readonly collection: string;
  readonly doc: string;
  readonly version: number;
  readonly txId: string | null;
  readonly txSize: number | null;
  readonly txBefore: number | null;
}

/**
 * The held events that wait for nothing (keyed `collection/doc@version`): a transaction whose writes are all
 * held and each of whose bases (`txBefore`) the feed has, or an event outside a transaction whose basis it has.
 * `inFeed` says whether the change feed has a collection's document at a version. A projector applies such
 * events with the batch that completes them; the harness reports them when they stay held (see run.ts).
 */
export function heldReady(
  held: readonly HeldRow[],
  inFeed: (collection: string, doc: string, version: number) => boolean,
): Map<string, string> {
  const ready = new Map<string, string>();
  const based = (h: HeldRow) => h.txBefore === null || inFeed(h.collection, h.doc, h.txBefore);
  const key = (h: HeldRow) => `${h.collection}/${h.doc}@${h.version}`;
  const byTx = new Map<string, HeldRow[]>();
  for (const h of held) {
    if (h.txId === null || (h.txSize ?? 1) <= 1) {
      if (based(h)) ready.set(key(h), `${key(h)} waits for ${h.doc}@${h.txBefore}, which the feed has`);
      continue;
    }
    byTx.set(h.txId, [...(byTx.get(h.txId) ?? []), h]);
  }
  for (const [txId, parts] of byTx) {
    const size = parts[0]?.txSize ?? 0;
    if (parts.length < size || !parts.every(based)) continue;
    const what = parts
      .map((p) => `${key(p)}${p.txBefore === null ? "" : ` (after v${p.txBefore})`}`)
      .join(", ");
    for (const p of parts) {
      ready.set(
        key(p),
        `transaction ${txId}: all ${size} writes are held (${what}), and the feed has what each builds on`,
      );
    }
  }
  return ready;
}
