/**
 * A document's part in transactions (two-phase commit): at most one transaction holds the document at a time,
 * from its prepare until its outcome. The hold (`tx_lock`) stores the decided write, so a commit applies exactly
 * what was prepared, and a lease: when it runs out with no outcome, the object asks the coordinator (see
 * DocumentObject.alarm), which answers abort when it never decided (presumed abort). Transactions that ended
 * here are remembered for a day (`tx_done`), so that a late, duplicate prepare or commit changes nothing.
 */
import type { Decision, DocumentState } from "../domain/document";
import type { JsonObject } from "../domain/json";

/** How long a prepared document waits for its outcome before it asks the coordinator. */
export const LEASE_MS = 30_000;
/** How long a transaction's end is remembered here, to refuse its late duplicates. */
const DONE_TTL_MS = 24 * 60 * 60 * 1000;

export type Commit = Extract<Decision, { kind: "commit" }>;

export interface Hold {
  readonly txId: string;
  readonly coordinator: string;
  /** The write to apply at commit; null for a check. */
  readonly decision: Commit | null;
  readonly expiresAt: number;
}

interface HoldRow extends Record<string, SqlStorageValue> {
  tx_id: string;
  coordinator: string;
  decision: string | null;
  expires_at: number;
}

interface StoredDecision {
  type: Commit["type"];
  serialized: string | null;
  created: boolean;
  version: number;
  createdAt: number;
  updatedAt: number;
}

function encode(decision: Commit | null): string | null {
  if (decision === null) return null;
  const { state } = decision;
  const stored: StoredDecision = {
    type: decision.type,
    serialized: decision.serialized,
    created: decision.created,
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
  return JSON.stringify(stored);
}

function decode(text: string | null): Commit | null {
  if (text === null) return null;
  const d = JSON.parse(text) as StoredDecision;
  const state: DocumentState = {
    version: d.version,
    data: d.serialized === null ? null : (JSON.parse(d.serialized) as JsonObject),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  return { kind: "commit", type: d.type, state, serialized: d.serialized, created: d.created };
}

export class Participant {
  private hold: Hold | null = null;
  /** Callers waiting for the document to be released, woken when it is. */
  private waiters: Array<() => void> = [];
  /** Whether storage may hold records of ended transactions (the alarm prunes them). */
  private hasDone = false;

  constructor(private readonly sql: () => SqlStorage) {}

  /** Reads the hold and whether any ended transactions are remembered (an object with a schema only). */
  load(): void {
    const row = this.sql().exec<HoldRow>("SELECT * FROM tx_lock").toArray()[0];
    this.hold =
      row === undefined
        ? null
        : {
            txId: row.tx_id,
            coordinator: row.coordinator,
            decision: decode(row.decision),
            expiresAt: row.expires_at,
          };
    this.hasDone = this.sql().exec("SELECT 1 FROM tx_done LIMIT 1").toArray().length > 0;
  }

  get current(): Hold | null {
    return this.hold;
  }

  held(): boolean {
    return this.hold !== null;
  }

  /** Resolves true once the document is free, false if it is still held after `ms`. */
  waitUntilFree(ms: number): Promise<boolean> {
    if (this.hold === null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(this.hold === null);
      }, ms);
      this.waiters.push(wake);
    });
  }

  /** How a transaction ended here, if it did and is still remembered. */
  ended(txId: string): "committed" | "aborted" | null {
    if (!this.hasDone) return null;
    const row = this.sql()
      .exec<{ outcome: string }>("SELECT outcome FROM tx_done WHERE tx_id = ?", txId)
      .toArray()[0];
    return row === undefined ? null : (row.outcome as "committed" | "aborted");
  }

  /** Holds the document for `hold.txId` (inside the caller's transaction). */
  take(hold: Hold): void {
    this.sql().exec(
      "INSERT INTO tx_lock (singleton, tx_id, coordinator, decision, expires_at) VALUES (1, ?, ?, ?, ?)",
      hold.txId,
      hold.coordinator,
      encode(hold.decision),
      hold.expiresAt,
    );
    this.hold = hold;
  }

  /** Releases the document and remembers how the transaction ended (inside the caller's transaction). */
  release(txId: string, outcome: "committed" | "aborted", now: number): void {
    if (this.hold?.txId !== txId) throw new Error("a transaction released a hold that is not its own");
    this.sql().exec("DELETE FROM tx_lock");
    this.remember(txId, outcome, now);
    this.hold = null;
  }

  /** Remembers how a transaction ended here, so that its late duplicates change nothing. */
  remember(txId: string, outcome: "committed" | "aborted", now: number): void {
    this.sql().exec(
      "INSERT OR REPLACE INTO tx_done (tx_id, outcome, expires_at) VALUES (?, ?, ?)",
      txId,
      outcome,
      now + DONE_TTL_MS,
    );
    this.hasDone = true;
  }

  /** After the release committed: wakes whoever waited for the document. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The alarm's part: forgets ended transactions past their time; returns when the next one expires. */
  expire(now: number): number | null {
    if (!this.hasDone) return null;
    this.sql().exec("DELETE FROM tx_done WHERE expires_at <= ?", now);
    const next = this.sql().exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM tx_done").one().t;
    this.hasDone = next !== null;
    return next;
  }
}
