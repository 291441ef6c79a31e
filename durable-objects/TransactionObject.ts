/**
 * One coordinator per multi-document transaction: two-phase commit across document objects. It records the
 * transaction, prepares each participant in canonical order (each decides its operation and holds its document),
 * records the decision durably before any participant commits, then commits or aborts every participant. Its
 * alarm finishes a commit or abort that was interrupted at any point; a participant whose hold outlives its lease
 * asks `outcome()`, and a transaction with no recorded decision is aborted then (presumed abort). The record and
 * its outcome are kept for a day, to answer late participants and retried clients, then deleted.
 */
import { DurableObject } from "cloudflare:workers";
import type { DocumentRpc, FinishResult, PrepareResult, Remote } from "../domain/commands";
import { readConfig } from "../domain/config";
import { type DocumentKey, objectName } from "../domain/keys";
import { canonicalOrder } from "../domain/transaction";
import {
  type TransactionOutcome,
  type TransactionResult,
  type TransactionRpc,
  type TransactionSpec,
  transactionProblem,
} from "../domain/transaction-outcome";
import { errorText, log, setLogLevel } from "../platform/log";
import { withTimeout } from "../platform/timeout";

/** How long one participant's prepare may take (it waits at most a second for another transaction's hold). */
const PREPARE_TIMEOUT_MS = 5_000;
/** How long the client waits for the participants' commits before it is answered (the alarm finishes the rest). */
const COMMIT_WAIT_MS = 3_000;
const FINISH_TIMEOUT_MS = 2_000;
/** When the alarm checks on a transaction still running: it finishes or aborts what a crash left behind. */
const RECOVERY_MS = 5_000;
const RETRY_MS = 2_000;

type State = "preparing" | "committing" | "aborting" | "committed" | "aborted";

interface TxRow extends Record<string, SqlStorageValue> {
  id: string;
  coordinator: string;
  fingerprint: string;
  state: State;
  size: number;
  expires_at: number;
  outcome: string | null;
}

interface PartRow extends Record<string, SqlStorageValue> {
  position: number;
  op_index: number;
  key: string;
  body: string | null;
  preconditions: string;
  prepared: number;
  version: number | null;
  done: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS tx (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1), id TEXT NOT NULL, coordinator TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL, size INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    outcome TEXT);
  CREATE TABLE IF NOT EXISTS parts (
    position INTEGER PRIMARY KEY, op_index INTEGER NOT NULL, key TEXT NOT NULL, body TEXT, preconditions TEXT NOT NULL,
    prepared INTEGER NOT NULL DEFAULT 0, version INTEGER, done INTEGER NOT NULL DEFAULT 0);`;

export class TransactionObject extends DurableObject<Env> implements TransactionRpc {
  /** The run in progress in this incarnation, which a retried client with the same request joins. */
  private running: Promise<TransactionOutcome> | null = null;
  private readonly retentionMs: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = readConfig(env);
    setLogLevel(config.logLevel);
    this.retentionMs = config.idempotencyTtlMs;
    ctx.storage.sql.exec(SCHEMA);
  }

  /** Runs the transaction, or answers as its first run did (a retry with the same Idempotency-Key). */
  async run(spec: TransactionSpec): Promise<TransactionResult> {
    const row = this.row();
    if (row !== undefined) {
      if (row.fingerprint !== spec.fingerprint) return { kind: "fingerprint-mismatch" };
      const outcome =
        row.outcome !== null ? (JSON.parse(row.outcome) as TransactionOutcome) : await this.settle();
      return { ...outcome, replayed: true };
    }
    const now = Date.now();
    const writers = spec.operations.filter((op) => op.body !== null).length;
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec(
        `INSERT INTO tx (singleton, id, coordinator, fingerprint, state, size, created_at, expires_at)
         VALUES (1, ?, ?, ?, 'preparing', ?, ?, ?)`,
        spec.txId,
        spec.coordinator,
        spec.fingerprint,
        writers,
        now,
        now + this.retentionMs,
      );
      for (const [position, op] of canonicalOrder(spec.operations).entries()) {
        this.ctx.storage.sql.exec(
          "INSERT INTO parts (position, op_index, key, body, preconditions) VALUES (?, ?, ?, ?, ?)",
          position,
          op.index,
          JSON.stringify(op.key),
          op.body === null ? null : JSON.stringify(op.body),
          JSON.stringify(op.preconditions),
        );
      }
    });
    await this.ctx.storage.setAlarm(now + RECOVERY_MS);
    this.running = this.drive();
    try {
      return { ...(await this.running), replayed: false };
    } finally {
      this.running = null;
    }
  }

  /**
   * How the transaction ended, for a participant whose hold outlived its lease. With no decision recorded, the
   * answer is abort, and it is recorded first, so that the run can never commit afterwards (presumed abort).
   */
  async outcome(txId: string): Promise<{ kind: "commit"; size: number } | { kind: "abort" }> {
    const row = this.row();
    if (row === undefined || row.id !== txId) return { kind: "abort" };
    if (row.state === "preparing") {
      this.decideAbort({
        kind: "aborted",
        code: "transaction-interrupted",
        detail: "the transaction took too long",
      });
      void this.abortAll();
    }
    const state = this.row()?.state;
    return state === "committing" || state === "committed"
      ? { kind: "commit", size: row.size }
      : { kind: "abort" };
  }

  override async alarm(): Promise<void> {
    const row = this.row();
    if (row === undefined) return;
    const now = Date.now();
    if (row.state === "committed" || row.state === "aborted") {
      if (now >= row.expires_at) await this.ctx.storage.deleteAll();
      else await this.ctx.storage.setAlarm(row.expires_at);
      return;
    }
    // Still running in this incarnation: its own steps finish it; look again later.
    if (this.running !== null) {
      await this.ctx.storage.setAlarm(now + RETRY_MS);
      return;
    }
    await this.settle();
    const after = this.row();
    const finished = after?.state === "committed" || after?.state === "aborted";
    await this.ctx.storage.setAlarm(finished ? (after?.expires_at ?? now) : now + RETRY_MS);
  }

  /** Finishes what an earlier incarnation left: commits a decided commit, aborts anything else. */
  private async settle(): Promise<TransactionOutcome> {
    const row = this.row();
    if (row === undefined) return abortedOutcome("transaction-interrupted", "the transaction is unknown");
    if (row.state === "preparing") {
      this.decideAbort({
        kind: "aborted",
        code: "transaction-interrupted",
        detail: "the transaction was interrupted before it decided; nothing was applied",
      });
    }
    const state = this.row()?.state;
    if (state === "committing") await this.commitAll(row.id, row.size, Number.POSITIVE_INFINITY);
    else if (state === "aborting") await this.abortAll();
    const outcome = this.row()?.outcome;
    return outcome === null || outcome === undefined
      ? abortedOutcome("transaction-interrupted", "the transaction was interrupted")
      : (JSON.parse(outcome) as TransactionOutcome);
  }

  /** Phase one, then the decision, then phase two. */
  private async drive(): Promise<TransactionOutcome> {
    const tx = this.row();
    if (tx === undefined) throw new Error("a transaction ran without its record");
    for (const part of this.parts()) {
      if (this.row()?.state !== "preparing") break; // a participant's lease ran out and abort was decided
      // Marked before it is sent: if this run dies while the prepare is on its way, recovery still aborts there.
      this.markSent(part);
      let result: PrepareResult;
      try {
        result = await withTimeout(
          this.participant(part).prepare({
            txId: tx.id,
            coordinator: this.coordinator(),
            key: keyOf(part),
            body: part.body === null ? null : JSON.parse(part.body),
            preconditions: JSON.parse(part.preconditions),
          }),
          PREPARE_TIMEOUT_MS,
          "a participant's prepare",
        );
      } catch (error) {
        log.warn("transaction prepare failed", { txId: tx.id, error: errorText(error) });
        return this.abort(
          abortedOutcome(
            "transaction-unavailable",
            "a document of the transaction did not answer; nothing was applied. Retry, with a new Idempotency-Key if " +
              "you sent one (this key now stands for this outcome)",
            part.op_index,
          ),
        );
      }
      if (result.kind === "prepared") {
        this.ctx.storage.sql.exec(
          "UPDATE parts SET prepared = 2, version = ? WHERE position = ?",
          result.version,
          part.position,
        );
        continue;
      }
      if (result.kind === "locked") {
        return this.abort(
          abortedOutcome(
            "transaction-conflict",
            "another transaction holds a document of this one; nothing was applied. Retry, with a new " +
              "Idempotency-Key if you sent one (this key now stands for this outcome)",
            part.op_index,
          ),
        );
      }
      if (result.kind === "finished") {
        return this.abort(
          abortedOutcome("transaction-interrupted", "the transaction already ended", part.op_index),
        );
      }
      return this.abort(transactionProblem(result.rejection, part.op_index));
    }
    if (this.row()?.state !== "preparing") return this.settle();
    // The decision, durable before any participant hears it.
    const results = this.parts().map((p) => ({ index: p.op_index, ...keyOf(p), version: p.version }));
    const committed: TransactionOutcome = { kind: "committed", txId: tx.id, results };
    this.ctx.storage.sql.exec("UPDATE tx SET state = 'committing', outcome = ?", JSON.stringify(committed));
    await this.ctx.storage.sync();
    await this.decided();
    await this.commitAll(tx.id, tx.size, Date.now() + COMMIT_WAIT_MS);
    return committed;
  }

  /** Called once the commit decision is durable, before any participant hears it: the fault harness's seam. */
  protected decided(): void | Promise<void> {}

  /** Records the decision to abort (once: a commit decision stands) with the outcome a client will be told. */
  private decideAbort(outcome: TransactionOutcome): void {
    this.ctx.storage.sql.exec(
      "UPDATE tx SET state = 'aborting', outcome = ? WHERE state = 'preparing'",
      JSON.stringify(outcome),
    );
  }

  private async abort(outcome: TransactionOutcome): Promise<TransactionOutcome> {
    this.decideAbort(outcome);
    await this.abortAll();
    const stored = this.row()?.outcome;
    return stored === null || stored === undefined ? outcome : (JSON.parse(stored) as TransactionOutcome);
  }

  /** Tells every participant that was sent a prepare to let go; those not reached resolve by their lease. */
  private async abortAll(): Promise<void> {
    const row = this.row();
    if (row === undefined) return;
    const pending = this.parts().filter((p) => p.prepared > 0 && p.done === 0);
    const answers = await Promise.allSettled(
      pending.map((p) =>
        withTimeout(this.participant(p).abortPrepared(keyOf(p), row.id), FINISH_TIMEOUT_MS, "an abort"),
      ),
    );
    this.finished(pending, answers, "aborted");
  }

  /** Tells every participant to commit, until `deadline`; the alarm retries whoever did not answer. */
  private async commitAll(txId: string, size: number, deadline: number): Promise<void> {
    for (;;) {
      const pending = this.parts().filter((p) => p.done === 0);
      if (pending.length === 0) break;
      const answers = await Promise.allSettled(
        pending.map((p) =>
          withTimeout(
            this.participant(p).commitPrepared(keyOf(p), txId, size),
            FINISH_TIMEOUT_MS,
            "a commit",
          ),
        ),
      );
      for (const [i, answer] of answers.entries()) {
        if (answer.status === "fulfilled" && answer.value.kind !== "committed") {
          // A participant that lost its hold without committing contradicts the decision: say so loudly.
          log.error("a participant did not commit a decided transaction", {
            txId,
            answer: answer.value.kind,
            part: pending[i]?.key,
          });
        }
      }
      this.finished(pending, answers, "committed");
      if (Date.now() >= deadline || answers.every((a) => a.status === "fulfilled")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private finished(parts: PartRow[], answers: PromiseSettledResult<FinishResult>[], state: State): void {
    for (const [i, answer] of answers.entries()) {
      const part = parts[i];
      if (part !== undefined && answer.status === "fulfilled") {
        this.ctx.storage.sql.exec("UPDATE parts SET done = 1 WHERE position = ?", part.position);
      }
    }
    if (this.parts().every((p) => p.done === 1 || p.prepared === 0)) {
      this.ctx.storage.sql.exec("UPDATE tx SET state = ?", state);
    }
  }

  /** A prepare was sent (it may have landed even if it timed out): an abort must reach this participant. */
  private markSent(part: PartRow): void {
    this.ctx.storage.sql.exec(
      "UPDATE parts SET prepared = max(prepared, 1) WHERE position = ?",
      part.position,
    );
  }

  private coordinator(): string {
    return this.row()?.coordinator ?? "";
  }

  private participant(part: PartRow): Remote<DocumentRpc> {
    const name = objectName(keyOf(part));
    const stub: unknown = this.env.DOCUMENTS.get(this.env.DOCUMENTS.idFromName(name));
    return stub as Remote<DocumentRpc>;
  }

  private row(): TxRow | undefined {
    return this.ctx.storage.sql.exec<TxRow>("SELECT * FROM tx").toArray()[0];
  }

  private parts(): PartRow[] {
    return this.ctx.storage.sql.exec<PartRow>("SELECT * FROM parts ORDER BY position").toArray();
  }
}

function keyOf(part: PartRow): DocumentKey {
  return JSON.parse(part.key) as DocumentKey;
}

function abortedOutcome(code: string, detail: string, index?: number): TransactionOutcome {
  return { kind: "aborted", code, detail, ...(index === undefined ? {} : { index }) };
}
