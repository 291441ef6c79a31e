/**
 * The chaos run's bank workload: accounts opened at a fixed balance, clients moving money between random pairs
 * (and often between two hot accounts) with transactions of two bounded increments, and a sampler that checks,
 * while they run, that every query of all accounts on the read model adds up to the total and that no strong read
 * of an account is negative. After the drain, ./bank-checker holds the transfers against the histories.
 *
 * A transfer attempt has its own Idempotency-Key: after a timeout, a lost connection or a 503 that is not the
 * transaction's own outcome, the client asks again with the same key (the coordinator answers what happened);
 * after a conflict or an outcome of transaction-unavailable, nothing was applied, and it tries again with a new
 * key. The key names the transaction (`k` + the SHA-256 of tenant and key), so the checker knows the transaction
 * id of every attempt, answered or not.
 */
import { createHash } from "node:crypto";
import { authFetch, HARNESS_TENANT } from "../lib/credential";
import {
  type AccountEvent,
  type BankSpec,
  checkPage,
  type PageItem,
  type Transfer,
  totalOf,
} from "./bank-checker";
import type { Violation } from "./checker";
import { seededRandom } from "./random";

export const BANK_COLLECTION = "accounts";

export interface BankSettings {
  readonly accounts: number;
  readonly initial: number;
  readonly seed: number;
}

const clock = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The most a transfer moves: enough that a sender runs dry now and then (an abort by the bound). */
const MAX_AMOUNT = 400;
/** The share of transfers between the two hot accounts. */
const HOT_SHARE = 0.3;
/** Attempts of one transfer (a new key each) after conflicts and unavailability. */
const ATTEMPTS = 3;

interface ProblemBody {
  code?: string;
  reason?: string;
  txId?: string;
  results?: Array<{ id: string; version: number | null }>;
}

/** The transaction id an Idempotency-Key names (workers/routes/transactions.ts). */
export function txIdOf(key: string): string {
  return `k${createHash("sha256").update(`${HARNESS_TENANT}\n${key}`).digest("hex").slice(0, 32)}`;
}

export class Bank {
  readonly spec: BankSpec;
  readonly transfers: Transfer[] = [];
  readonly violations: Violation[] = [];
  readonly sampled = { queries: 0, full: 0, strong: 0, locked: 0 };
  /** Whether a query has shown every account: from then on, each must. */
  private complete = false;
  private readonly started = clock();

  constructor(
    private readonly settings: BankSettings,
    /** The service's URL (the same across restarts) and a hook called whenever it answers. */
    private readonly base: () => string,
    private readonly answered: () => void,
  ) {
    this.spec = {
      accounts: Array.from({ length: settings.accounts }, (_, i) => `acct-${i}`),
      initial: settings.initial,
    };
  }

  private url(path: string): string {
    return `${this.base()}/v1/${BANK_COLLECTION}${path}`;
  }

  private at(): string {
    return `at ${((clock() - this.started) / 1000).toFixed(2)} s`;
  }

  /** Opens every account at the initial balance (faults are on: retried with its key until it is answered). */
  async open(deadlineMs = 30_000): Promise<void> {
    const deadline = clock() + deadlineMs;
    await Promise.all(
      this.spec.accounts.map(async (account) => {
        for (;;) {
          try {
            const res = await authFetch(this.url(`/${account}`), {
              method: "PUT",
              headers: { "content-type": "application/json", "idempotency-key": `open-${account}` },
              body: JSON.stringify({ balance: this.spec.initial }),
              signal: AbortSignal.timeout(10_000),
            });
            const text = await res.text();
            if (res.ok) return;
            if (res.status < 500 && res.status !== 409) {
              throw new Error(`opening ${account}: ${res.status} ${text.slice(0, 300)}`);
            }
          } catch (error) {
            if (error instanceof Error && error.message.startsWith("opening")) throw error;
          }
          if (clock() > deadline) throw new Error(`opening ${account}: no answer within ${deadlineMs} ms`);
          await sleep(100);
        }
      }),
    );
  }

  /**
   * Waits, `ms` at most, until a query of the read model shows every account (their first events may wait out a
   * failed send's backoff, or a projector's retries): from then on, every query must.
   */
  async visible(ms: number): Promise<void> {
    const deadline = clock() + ms;
    while (!this.complete && clock() < deadline) {
      await this.sample();
      if (!this.complete) await sleep(100);
    }
  }

  /** One query of all accounts, checked; no answer is no check. */
  async sample(): Promise<void> {
    try {
      await this.query();
    } catch {
      // no answer: nothing to check
    }
  }

  /** A client: transfers until `until`. */
  async client(id: number, until: number): Promise<void> {
    const random = seededRandom(this.settings.seed * 7919 + 1000 + id);
    const pick = () => Math.floor(random() * this.spec.accounts.length);
    const accounts = this.spec.accounts;
    for (let n = 1; clock() < until; n++) {
      let from: number;
      let to: number;
      if (random() < HOT_SHARE) [from, to] = random() < 0.5 ? [0, 1] : [1, 0];
      else {
        from = pick();
        to = (from + 1 + Math.floor(random() * (accounts.length - 1))) % accounts.length;
      }
      const amount = 1 + Math.floor(random() * MAX_AMOUNT);
      for (let attempt = 0; attempt < ATTEMPTS && clock() < until; attempt++) {
        const t = await this.transfer(
          `c${id}`,
          `${n}.${attempt}`,
          accounts[from] ?? "",
          accounts[to] ?? "",
          amount,
          until,
        );
        if (t.outcome !== "conflict" && t.outcome !== "unavailable") break;
        await sleep(50 + random() * 150);
      }
    }
  }

  private async transfer(
    client: string,
    name: string,
    from: string,
    to: string,
    amount: number,
    until: number,
  ): Promise<Transfer> {
    const key = `bank-${this.settings.seed}-${client}-${name}`;
    const t: Transfer = {
      key,
      txId: txIdOf(key),
      client,
      from,
      to,
      amount,
      outcome: "unanswered",
      call: clock() - this.started,
      ret: null,
    };
    this.transfers.push(t);
    const body = JSON.stringify({
      operations: [
        {
          op: "patch",
          collection: BANK_COLLECTION,
          id: from,
          patch: [{ op: "increment", path: "/balance", value: -amount, min: 0 }],
        },
        {
          op: "patch",
          collection: BANK_COLLECTION,
          id: to,
          patch: [{ op: "increment", path: "/balance", value: amount }],
        },
      ],
    });
    while (clock() < until) {
      let status: number;
      let answer: ProblemBody;
      let text: string;
      try {
        const res = await authFetch(`${this.base()}/v1/_transactions`, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": key },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        text = await res.text();
        this.answered();
        try {
          answer = JSON.parse(text) as ProblemBody;
        } catch {
          answer = {};
        }
      } catch {
        // No answer (a timeout, the process restart): ask again with the same key.
        await sleep(200);
        continue;
      }
      if (status === 200) {
        const versionOf = (id: string) => answer.results?.find((r) => r.id === id)?.version;
        const vFrom = versionOf(from);
        const vTo = versionOf(to);
        t.outcome = "committed";
        t.ret = clock() - this.started;
        if (typeof vFrom === "number" && typeof vTo === "number") t.versions = { from: vFrom, to: vTo };
        if (answer.txId !== t.txId || t.versions === undefined) {
          this.violations.push({
            check: "history",
            doc: from,
            detail: `transfer ${key} was answered 200 ${text.slice(0, 300)}; expected transaction ${t.txId} and both versions (the harness derives transaction ids from keys)`,
          });
        }
        return t;
      }
      if (
        status === 409 &&
        answer.code === "transaction-aborted" &&
        answer.reason === "patch-bound-exceeded"
      ) {
        t.outcome = "bound";
        t.ret = clock() - this.started;
        return t;
      }
      if (status === 409 && answer.code === "transaction-conflict") {
        t.outcome = "conflict";
        t.ret = clock() - this.started;
        return t;
      }
      if (
        status === 503 &&
        (answer.code === "transaction-unavailable" || answer.code === "transaction-interrupted")
      ) {
        t.outcome = "unavailable";
        t.ret = clock() - this.started;
        return t;
      }
      if (status >= 500 && status !== 503) {
        // A 500 says nothing about the outcome, and should not be: a violation, then the same key again.
        this.violations.push({
          check: "bank-error",
          doc: from,
          detail: `${this.at()}: transfer ${key} of ${amount} from ${from} to ${to} was answered ${status} ${text.slice(0, 300)}`,
        });
      }
      if (status >= 500 || status === 429) {
        // Not the transaction's outcome (its coordinator did not answer in time): the same key again.
        await sleep(200);
        continue;
      }
      // A refusal the workload never provokes: a bug, here or in the harness.
      this.violations.push({
        check: "bank-unexpected",
        doc: from,
        detail: `${this.at()}: transfer ${key} of ${amount} from ${from} to ${to} was answered ${status} ${text.slice(0, 300)}`,
      });
      return t;
    }
    return t;
  }

  /** Samples the accounts while `going()`: queries on the read model, and strong reads. */
  async sampler(going: () => boolean): Promise<void> {
    const random = seededRandom(this.settings.seed * 31 + 7);
    while (going()) {
      try {
        if (random() < 0.5) await this.query();
        else
          await this.strongRead(this.spec.accounts[Math.floor(random() * this.spec.accounts.length)] ?? "");
        await sleep(10);
      } catch {
        await sleep(100); // the process restart: no answer
      }
    }
  }

  /** One query of all accounts on the read model (no Consistency-Token): it adds up to the total. */
  private async query(): Promise<void> {
    const res = await authFetch(this.url("?limit=200"), { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    this.answered();
    if (res.status === 503) return; // the read model may refuse: nothing to check
    if (res.status !== 200) {
      this.violations.push({
        check: res.status >= 500 ? "bank-error" : "bank-unexpected",
        doc: "*",
        detail: `${this.at()}: GET /v1/${BANK_COLLECTION}?limit=200 answered ${res.status} ${text.slice(0, 300)}`,
      });
      return;
    }
    const page = JSON.parse(text) as { items: PageItem[] };
    this.sampled.queries++;
    const { violation, full } = checkPage(this.spec, page.items, this.complete, this.at());
    if (full) {
      this.complete = true;
      this.sampled.full++;
    }
    if (violation !== null) this.violations.push(violation);
  }

  /** One strong read: never negative, never more than the bank holds. A held account (503) is skipped. */
  private async strongRead(account: string): Promise<void> {
    const res = await authFetch(this.url(`/${account}`), {
      headers: { consistency: "strong" },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    this.answered();
    if (res.status === 503) {
      if (text.includes("document-locked")) this.sampled.locked++;
      return;
    }
    if (res.status !== 200) {
      this.violations.push({
        check: res.status >= 500 ? "bank-error" : "bank-unexpected",
        doc: account,
        detail: `${this.at()}: a strong read answered ${res.status} ${text.slice(0, 300)}`,
      });
      return;
    }
    this.sampled.strong++;
    const doc = JSON.parse(text) as { version: number; data: { balance?: unknown } };
    const balance = doc.data.balance;
    if (typeof balance !== "number" || balance < 0 || balance > totalOf(this.spec)) {
      this.violations.push({
        check: "bank-negative",
        doc: account,
        detail: `${this.at()}: a strong read has v${doc.version} balance ${JSON.stringify(balance)}`,
      });
    }
  }

  /**
   * After the clients stopped: strong reads of every account, again until none is held by a transaction. One
   * still held after `deadlineMs` is a transaction left held (a violation); it is missing from the result.
   */
  async settle(deadlineMs: number): Promise<Map<string, { version: number; balance: number }>> {
    const deadline = clock() + deadlineMs;
    const result = new Map<string, { version: number; balance: number }>();
    let held: string[] = [...this.spec.accounts];
    while (held.length > 0) {
      const still: string[] = [];
      await Promise.all(
        held.map(async (account) => {
          const res = await authFetch(this.url(`/${account}`), {
            headers: { consistency: "strong" },
            signal: AbortSignal.timeout(10_000),
          }).catch(() => null);
          const text = res === null ? "" : await res.text();
          if (res?.status === 200) {
            const doc = JSON.parse(text) as { version: number; data: { balance?: unknown } };
            const balance = doc.data.balance;
            result.set(account, {
              version: doc.version,
              balance: typeof balance === "number" ? balance : Number.NaN,
            });
          } else if (res === null || res.status === 503) {
            still.push(account);
          } else {
            throw new Error(`the final read of ${account}: ${res.status} ${text.slice(0, 300)}`);
          }
        }),
      );
      held = still;
      if (held.length === 0) break;
      if (clock() > deadline) {
        for (const account of held) {
          this.violations.push({
            check: "bank-held",
            doc: account,
            detail: `still held by a transaction (strong reads answer 503 document-locked) ${(deadlineMs / 1000).toFixed(0)} s into the drain`,
          });
        }
        break;
      }
      await sleep(500);
    }
    return result;
  }

  /** Every account's history (read after settle: nothing is held any more). */
  async histories(): Promise<Map<string, AccountEvent[]>> {
    const result = new Map<string, AccountEvent[]>();
    for (const account of this.spec.accounts) {
      const events: AccountEvent[] = [];
      let after = 0;
      for (;;) {
        const res = await authFetch(this.url(`/${account}/_history?after=${after}&limit=1000`));
        if (res.status === 404) {
          await res.arrayBuffer();
          break;
        }
        if (!res.ok) throw new Error(`reading ${account}'s history: ${res.status} ${await res.text()}`);
        const page = (await res.json()) as {
          items: Array<{ version: number; txId?: string; data: { balance?: unknown } | null }>;
          next: number | null;
        };
        for (const e of page.items) {
          const balance = e.data?.balance;
          events.push({
            version: e.version,
            balance: typeof balance === "number" ? balance : null,
            txId: e.txId ?? null,
          });
        }
        if (page.next === null) break;
        after = page.next;
      }
      result.set(account, events);
    }
    return result;
  }

  /** The run's figures: how the transfer attempts ended. */
  counts(): Record<Transfer["outcome"], number> {
    const counts = { committed: 0, bound: 0, conflict: 0, unavailable: 0, unanswered: 0 };
    for (const t of this.transfers) counts[t.outcome]++;
    return counts;
  }
}
