/**
 * The saga orchestrator, on Cloudflare Workflows: each step's action is a durable `step.do` (retried with
 * backoff while it fails for a passing reason, then counted as failed for good), and when one fails for good,
 * or the saga is cancelled, the completed steps' compensations run in reverse order. A compensation that keeps
 * failing leaves the saga `failed`, waiting (`step.waitForEvent`) until an admin resumes it. Workflows persists
 * every step's result, so after a crash the saga resumes where it was and a replayed step returns its recorded
 * result; the code between steps runs again on resume and only ever decides from those results.
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import {
  COMPENSATION_ATTEMPTS,
  type PhaseStatus,
  phaseKey,
  type SagaOperation,
  type SagaStatus,
  type SagaStep,
} from "../../domain/saga";
import { errorText } from "../../platform/log";
import { perform, tookEffect } from "./perform";
import { type PatchOp, recordKey, SagaRecordStore } from "./record";

export interface SagaParams {
  readonly sagaId: string;
  readonly tenant: string;
  readonly name: string;
  readonly steps: SagaStep[];
}

/**
 * A step's outcome as the workflow records it (a failure for good is a value, not a thrown error); `inDoubt`
 * when every attempt failed for a passing reason, so the effect may have happened all the same.
 */
type Outcome = { ok: true; detail: string } | { ok: false; error: string; inDoubt?: boolean };

const STEP_TIMEOUT = "2 minutes";
const RESUME_WAIT = "365 days";

const now = () => new Date().toISOString();

function phaseOps(
  step: number,
  phase: "action" | "compensation",
  status: PhaseStatus,
  error: string | null,
): PatchOp[] {
  const at = `/steps/${step}/${phase}`;
  return [
    { op: "replace", path: `${at}/status`, value: status },
    { op: "replace", path: `${at}/error`, value: error },
    { op: "replace", path: `${at}/finishedAt`, value: now() },
  ];
}

function statusOps(status: SagaStatus, reason?: string | null): PatchOp[] {
  const terminal = status === "completed" || status === "compensated" || status === "cancelled";
  return [
    { op: "replace", path: "/status", value: status },
    ...(reason === undefined ? [] : [{ op: "replace" as const, path: "/reason", value: reason }]),
    ...(terminal ? [{ op: "replace" as const, path: "/finishedAt", value: now() }] : []),
  ];
}

export class SagaWorkflow extends WorkflowEntrypoint<Env, SagaParams> {
  override async run(event: WorkflowEvent<SagaParams>, step: WorkflowStep): Promise<SagaStatus> {
    const { sagaId, tenant, steps } = event.payload;
    const record = new SagaRecordStore(this.env, recordKey(tenant, sagaId));
    const done: number[] = [];
    let reason: string | null = null;
    let cancelled = false;

    for (const [i, s] of steps.entries()) {
      if (
        await step.do(
          `cancel requested before ${i}`,
          async () => (await record.read())?.cancelRequested === true,
        )
      ) {
        cancelled = true;
        reason = "cancelled";
        break;
      }
      const outcome = await this.attempt(step, `action ${i} ${s.name}`, s.attempts, () =>
        this.phase(record, tenant, i, "action", s.action, [phaseKey(sagaId, i, "action")]),
      );
      if (outcome.ok) {
        done.push(i);
        await step.do(`record action ${i} done`, () =>
          record.transition(`a${i}-done`, phaseOps(i, "action", "done", null), now()),
        );
        continue;
      }
      reason = `${s.name}: ${outcome.error}`;
      // Given up on, its effect may have happened all the same (answers lost): if it did, it is undone too.
      if (outcome.inDoubt === true) {
        const key = phaseKey(sagaId, i, "action");
        if (await step.do(`settle action ${i}`, () => tookEffect(this.env, tenant, s.action, [key])))
          done.push(i);
      }
      await step.do(`record action ${i} failed`, () =>
        record.transition(
          `a${i}-failed`,
          [...phaseOps(i, "action", "failed", outcome.error), ...skipped(steps, i)],
          now(),
        ),
      );
      break;
    }
    if (reason === null) {
      await step.do("record completed", () => record.transition("completed", statusOps("completed"), now()));
      await this.count(step, tenant, "completed");
      return "completed";
    }
    await step.do("record compensating", () =>
      record.transition(
        "compensating",
        [...statusOps("compensating", reason), ...(cancelled ? skipped(steps, done.length - 1) : [])],
        now(),
      ),
    );
    for (const i of [...done].reverse()) {
      const compensation = steps[i]?.compensation ?? null;
      if (compensation === null) continue;
      await this.compensate(step, record, tenant, sagaId, i, compensation);
    }
    const final: SagaStatus = cancelled ? "cancelled" : "compensated";
    await step.do(`record ${final}`, () => record.transition(final, statusOps(final), now()));
    await this.count(step, tenant, final);
    return final;
  }

  /** Counts the saga's outcome in the deployment's metrics (a step of its own: counted once, replays aside). */
  private async count(step: WorkflowStep, tenant: string, outcome: SagaStatus, round = ""): Promise<void> {
    await step.do(`count ${outcome}${round === "" ? "" : ` ${round}`}`, async () => {
      const metrics = this.env.METRICS.get(this.env.METRICS.idFromName("global"));
      await metrics.add([
        { name: "tessera_sagas_total", labels: JSON.stringify({ outcome, tenant }), value: 1 },
      ]);
      return true;
    });
  }

  /** One compensation, in rounds: a round that fails for good leaves the saga failed until an admin resumes it. */
  private async compensate(
    step: WorkflowStep,
    record: SagaRecordStore,
    tenant: string,
    sagaId: string,
    i: number,
    op: SagaOperation,
  ): Promise<void> {
    for (let round = 0; ; round++) {
      const keys = Array.from({ length: round + 1 }, (_, r) => phaseKey(sagaId, i, "compensation", r));
      const outcome = await this.attempt(
        step,
        `compensation ${i} round ${round}`,
        COMPENSATION_ATTEMPTS,
        () => this.phase(record, tenant, i, "compensation", op, keys),
      );
      if (outcome.ok) {
        await step.do(`record compensation ${i} done`, () =>
          record.transition(`c${i}-done`, phaseOps(i, "compensation", "done", null), now()),
        );
        return;
      }
      await step.do(`record compensation ${i} failed, round ${round}`, () =>
        record.transition(
          `c${i}-failed-${round}`,
          [
            ...phaseOps(i, "compensation", "failed", outcome.error),
            ...statusOps("failed", `compensation of step ${i}: ${outcome.error}`),
          ],
          now(),
        ),
      );
      await this.count(step, tenant, "failed", `${i}-${round}`);
      await step.waitForEvent(`resume ${i} round ${round}`, { type: "resume", timeout: RESUME_WAIT });
      await step.do(`record resumed ${i} round ${round}`, () =>
        record.transition(`resumed-${i}-${round}`, statusOps("compensating"), now()),
      );
    }
  }

  /**
   * A durable step that retries while `run` fails for a passing reason, `attempts` times in all; a failure for
   * good (or running out of attempts) is returned, so the saga decides what follows.
   */
  private async attempt(
    step: WorkflowStep,
    name: string,
    attempts: number,
    run: () => Promise<Outcome>,
  ): Promise<Outcome> {
    try {
      return await step.do(
        name,
        {
          retries: { limit: attempts - 1, delay: "1 second", backoff: "exponential" },
          timeout: STEP_TIMEOUT,
        },
        run,
      );
    } catch (error) {
      return {
        ok: false,
        inDoubt: true,
        error: `gave up after ${attempts} attempts: ${errorText(error).replace(/^Error: /, "")}`,
      };
    }
  }

  /** Counts the attempt in the record, performs the operation, and throws only for a passing failure (retried). */
  private async phase(
    record: SagaRecordStore,
    tenant: string,
    i: number,
    phase: "action" | "compensation",
    op: SagaOperation,
    keys: string[],
  ): Promise<Outcome> {
    await record.attempt(i, phase, now());
    const done = await perform(this.env, tenant, op, keys);
    if (done.ok) return { ok: true, detail: done.detail };
    if (done.permanent) return { ok: false, error: done.error };
    throw new Error(done.error);
  }
}

/** Patch ops marking the actions after step `i` skipped. */
function skipped(steps: readonly SagaStep[], i: number): PatchOp[] {
  return steps
    .slice(i + 1)
    .map((_, k) => ({ op: "replace", path: `/steps/${i + 1 + k}/action/status`, value: "skipped" }));
}
