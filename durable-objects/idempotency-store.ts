/**
 * A document object's idempotency records: the outcome of each write sent with an Idempotency-Key, stored in the
 * write's own transaction, replayed to a retry, and forgotten after the configured time to live.
 */
import type { WriteOutcome } from "../domain/commands";

/** The part of an outcome kept with an idempotency key; a committed envelope is rebuilt from the event log. */
export type StoredOutcome =
  | Exclude<WriteOutcome, { kind: "committed" }>
  | { kind: "committed"; version: number; created: boolean };

/** An Idempotency-Key and the digest of the request it was used with. */
export interface Claim {
  readonly key: string;
  readonly fingerprint: string;
}

export type Lookup = { kind: "replay"; outcome: StoredOutcome } | { kind: "reused" } | null;

/** The write path forgets expired keys at most once an hour (the alarm does it whenever one is due). */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export class IdempotencyStore {
  /** Whether storage may hold records: without any, neither the alarm nor the write path looks. */
  hasKeys = false;
  private nextPruneAt = Date.now() + PRUNE_INTERVAL_MS;

  constructor(
    private readonly sql: SqlStorage,
    private readonly ttlMs: number,
  ) {}

  /** The outcome stored for this key, if the key was used before: for this request, or for another one. */
  find(claim: Claim, now: number): Lookup {
    if (!this.hasKeys) return null;
    const prior = this.sql
      .exec<{ fingerprint: string; outcome: string }>(
        "SELECT fingerprint, outcome FROM idempotency WHERE key = ? AND expires_at > ?",
        claim.key,
        now,
      )
      .toArray()[0];
    if (prior === undefined) return null;
    if (prior.fingerprint !== claim.fingerprint) return { kind: "reused" };
    return { kind: "replay", outcome: JSON.parse(prior.outcome) as StoredOutcome };
  }

  /** The outcome stored for a key, whatever request it came with (null: none, or expired). */
  outcomeOf(key: string, now: number): StoredOutcome | null {
    if (!this.hasKeys) return null;
    const row = this.sql
      .exec<{ outcome: string }>("SELECT outcome FROM idempotency WHERE key = ? AND expires_at > ?", key, now)
      .toArray()[0];
    return row === undefined ? null : (JSON.parse(row.outcome) as StoredOutcome);
  }

  record(claim: Claim, outcome: WriteOutcome, now: number): void {
    const stored: StoredOutcome =
      outcome.kind === "committed"
        ? { kind: "committed", version: outcome.version, created: outcome.created }
        : outcome;
    this.hasKeys = true;
    this.sql.exec(
      "INSERT OR REPLACE INTO idempotency (key, fingerprint, outcome, expires_at) VALUES (?, ?, ?, ?)",
      claim.key,
      claim.fingerprint,
      JSON.stringify(stored),
      now + this.ttlMs,
    );
  }

  /** Whether the write path would prune now: such a write stores more than its event row. */
  pruneDue(now: number): boolean {
    return this.hasKeys && now >= this.nextPruneAt;
  }

  /** Forgets expired keys: at most once an hour from the write path, and from the alarm when due. */
  prune(now: number, force = false): void {
    if (!this.hasKeys || (!force && now < this.nextPruneAt)) return;
    this.sql.exec("DELETE FROM idempotency WHERE expires_at <= ?", now);
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
  }

  /**
   * The alarm's part: forgets expired keys, and returns when the next one left expires (null: none). An object
   * that never saw a key (most) does nothing here.
   */
  expire(now: number): number | null {
    if (!this.hasKeys) return null;
    const soonest = () =>
      this.sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM idempotency").one().t;
    const first = soonest();
    if (first === null || first > now) {
      this.hasKeys = first !== null;
      return first;
    }
    this.prune(now, true);
    const next = soonest();
    this.hasKeys = next !== null;
    return next;
  }
}
