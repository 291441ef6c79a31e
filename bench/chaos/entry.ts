/**
 * The chaos harness's Worker entry, never the production one: it wraps Tessera's Worker, document object and
 * transaction coordinator with fault injection. `npm run bundle` proves the production bundle holds none of it
 * (scripts/assert-no-chaos.mjs). Faults are set per run by CHAOS_* bindings: probabilities from 0 to 1.
 */
import type {
  DocumentRpc,
  FinishResult,
  PrepareRequest,
  PrepareResult,
  Remote,
  WriteResult,
} from "../../domain/commands";
import type { EventMessage } from "../../domain/event-message";
import type { DocumentKey } from "../../domain/keys";
import type { WriteRequest } from "../../domain/write-request";
import { type Hold, Participant } from "../../durable-objects/participant";
import { QUEUES } from "../../platform/queue";
import worker, {
  DocumentObject as ProductionDocumentObject,
  TransactionObject as ProductionTransactionObject,
} from "../../workers/index";
import { seededRandom } from "./random";

// Every other Durable Object class the config names, as production exports it (the local classes below take the
// place of production's: a module's own export wins over one `export *` brings in).
export * from "../../workers/index";

interface ChaosVars {
  CHAOS_SEED?: string;
  /** An outbox send to the queue fails. */
  CHAOS_SEND_FAIL?: string;
  /** The object resets (ctx.abort) before applying a write, or after committing it but before answering. */
  CHAOS_ABORT_BEFORE?: string;
  CHAOS_ABORT_AFTER?: string;
  /** A projector batch fails as a whole (the queue redelivers it). */
  CHAOS_PROJECTOR_FAIL?: string;
  /**
   * Not a probability: a slow projector. Every batch of the events queue waits this many milliseconds before it
   * is projected, one batch at a time, so that the read side takes at most a batch per delay (bench/admission.ts).
   */
  CHAOS_PROJECTOR_DELAY_MS?: string;
  /** A delivered event is sent to the queue again: a duplicate, arriving out of order. */
  CHAOS_DUPLICATE?: string;
  /** A transaction's participant resets right after it prepared (held the document), before it answers. */
  CHAOS_PREPARED_RESET?: string;
  /** A participant resets when told to commit, before the commit applies. */
  CHAOS_COMMIT_RESET?: string;
  /** The coordinator resets once its commit decision is durable, before any participant is told. */
  CHAOS_DECIDED_RESET?: string;
  /** The coordinator resets mid-commit: one participant was told and answered, the others were not told. */
  CHAOS_MID_COMMIT_RESET?: string;
  /**
   * Not a fault: the coordinator's recovery alarm (20 s after a transaction starts, in production) comes after at
   * most this many milliseconds, so that what a reset leaves held is finished within a short run.
   */
  CHAOS_RECOVERY_MS?: string;
  /**
   * Not a fault: a participant's lease (30 s in production) lasts at most this many milliseconds, so that a
   * document prepared by a coordinator that died before it knew (the process restart) is released within a run.
   */
  CHAOS_LEASE_MS?: string;
}

type ChaosEnv = Env & ChaosVars;

let random: (() => number) | null = null;
function chance(env: ChaosVars, name: keyof ChaosVars): boolean {
  random ??= seededRandom(Number(env.CHAOS_SEED ?? "1") || 1);
  return random() < Number(env[name] ?? "0");
}

/** CHAOS_LEASE_MS, once a document object has read it (0: the production lease). */
let leaseCapMs = 0;
const take = Participant.prototype.take;
Participant.prototype.take = function (this: Participant, hold: Hold): void {
  const expiresAt = leaseCapMs > 0 ? Math.min(hold.expiresAt, Date.now() + leaseCapMs) : hold.expiresAt;
  take.call(this, { ...hold, expiresAt });
};

export class DocumentObject extends ProductionDocumentObject {
  constructor(ctx: DurableObjectState, env: ChaosEnv) {
    super(ctx, env);
    leaseCapMs = Number(env.CHAOS_LEASE_MS ?? "0") || 0;
    const send = this.deps.publish;
    this.deps.publish = async (batch) => {
      if (chance(env, "CHAOS_SEND_FAIL")) throw new Error("chaos: queue send failed");
      await send(batch);
    };
  }

  override async write(request: WriteRequest): Promise<WriteResult> {
    const env = this.env as ChaosEnv;
    if (chance(env, "CHAOS_ABORT_BEFORE")) this.ctx.abort("chaos: reset before the write");
    const result = await super.write(request);
    if (chance(env, "CHAOS_ABORT_AFTER")) this.ctx.abort("chaos: reset after the commit, before the answer");
    return result;
  }

  override async prepare(request: PrepareRequest): Promise<PrepareResult> {
    const result = await super.prepare(request);
    if (result.kind === "prepared" && leaseCapMs > 0) {
      // The object asks for its alarm at the production lease's end: bring it forward to the shortened one.
      const due = Date.now() + leaseCapMs;
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > due) await this.ctx.storage.setAlarm(due);
    }
    if (result.kind === "prepared" && chance(this.env as ChaosEnv, "CHAOS_PREPARED_RESET")) {
      this.ctx.abort("chaos: participant reset after it prepared, before it answered");
    }
    return result;
  }

  override commitPrepared(key: DocumentKey, txId: string, size: number): FinishResult {
    if (this.participantHolds(txId) && chance(this.env as ChaosEnv, "CHAOS_COMMIT_RESET")) {
      this.ctx.abort("chaos: participant reset before the commit applied");
    }
    return super.commitPrepared(key, txId, size);
  }

  /** Whether `txId` holds this document: a reset before its commit leaves something to finish. */
  private participantHolds(txId: string): boolean {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'tx_lock'").toArray().length === 0) return false;
    return sql.exec("SELECT 1 FROM tx_lock WHERE tx_id = ?", txId).toArray().length > 0;
  }
}

/**
 * The coordinator's view of the document objects, through which a mid-commit reset is injected: the first commit
 * of a run goes through, the coordinator resets when it answers, and the commits sent alongside it never leave.
 */
function documentsWithMidCommitReset(ctx: DurableObjectState, env: ChaosEnv): ChaosEnv {
  const documents = env.DOCUMENTS;
  let cut = false;
  const stubOf = (id: DurableObjectId): Remote<DocumentRpc> => {
    const stub = documents.get(id) as unknown as Remote<DocumentRpc>;
    return {
      prepare: (request) => stub.prepare(request),
      abortPrepared: (key, txId) => stub.abortPrepared(key, txId),
      commitPrepared: async (key, txId, size) => {
        if (cut) return new Promise<never>(() => {});
        if (!chance(env, "CHAOS_MID_COMMIT_RESET")) return stub.commitPrepared(key, txId, size);
        cut = true;
        try {
          await stub.commitPrepared(key, txId, size);
        } finally {
          ctx.abort("chaos: coordinator reset mid-commit, after one participant was told");
        }
        return new Promise<never>(() => {});
      },
    } as Remote<DocumentRpc>;
  };
  const namespace = new Proxy(documents, {
    get: (target, name) => {
      if (name === "get") return stubOf;
      const value: unknown = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return new Proxy(env, {
    get: (target, name) => (name === "DOCUMENTS" ? namespace : Reflect.get(target, name)),
  });
}

/** Recovery alarms (those due within RECOVERY_WINDOW_MS) brought forward to CHAOS_RECOVERY_MS at most. */
const RECOVERY_WINDOW_MS = 60_000;
function compressRecovery(ctx: DurableObjectState, env: ChaosEnv): void {
  const cap = Number(env.CHAOS_RECOVERY_MS ?? "0");
  if (!(cap > 0)) return;
  const storage = ctx.storage;
  const setAlarm = storage.setAlarm.bind(storage);
  storage.setAlarm = (when, options) => {
    const at = typeof when === "number" ? when : when.getTime();
    const now = Date.now();
    return setAlarm(at - now <= RECOVERY_WINDOW_MS ? Math.min(at, now + cap) : at, options);
  };
}

export class TransactionObject extends ProductionTransactionObject {
  constructor(ctx: DurableObjectState, env: ChaosEnv) {
    compressRecovery(ctx, env);
    super(ctx, documentsWithMidCommitReset(ctx, env));
  }

  protected override decided(): void {
    if (chance(this.env as ChaosEnv, "CHAOS_DECIDED_RESET")) {
      this.ctx.abort("chaos: coordinator reset after the commit decision, before any participant was told");
    }
  }
}

/** The slow projector's turn: batches wait for the one before them, then for the delay. */
let projectorTurn: Promise<unknown> = Promise.resolve();
function slowly<T>(env: ChaosVars, project: () => Promise<T>): Promise<T> {
  const delay = Number(env.CHAOS_PROJECTOR_DELAY_MS ?? "0");
  if (!(delay > 0)) return project();
  const turn = projectorTurn.then(async () => {
    await new Promise((r) => setTimeout(r, delay));
    return project();
  });
  projectorTurn = turn.catch(() => {});
  return turn;
}

/**
 * The harness's look at saga workflows, on this entry only: `POST /_chaos/sagas` with the operator secret and
 * {"ids": [instance ids], "wake": boolean} answers each instance's status, how many of its steps returned and
 * the last one's result, and its error (null: there is no instance). With `wake`, an instance not ended is sent
 * an event no saga waits for: the local engine (Miniflare's) then loads it and replays it from its persisted
 * steps. Cloudflare's engine resumes an instance whose process stopped by itself; the local one does not, so after
 * each restart the harness asks for this (bench/chaos/sagas.ts).
 */
async function sagaInstances(request: Request, env: ChaosEnv): Promise<Response> {
  if (request.headers.get("authorization") !== `Bearer ${env.TESSERA_ADMIN_SECRET}`) {
    return new Response("chaos: the operator secret is needed", { status: 401 });
  }
  const { ids, wake } = (await request.json()) as { ids: string[]; wake: boolean };
  const statuses: Record<string, { status: string; steps: number; last: string; error?: string } | null> = {};
  // One at a time: the local runtime has crashed (a segfault) while many engines loaded at once after a restart.
  for (const id of ids) {
    let instance: WorkflowInstance;
    try {
      instance = await env.SAGAS.get(id);
    } catch {
      statuses[id] = null;
      continue;
    }
    const found = (await instance.status()) as InstanceStatus & { __LOCAL_DEV_STEP_OUTPUTS?: unknown[] };
    const { status } = found;
    const outputs = found.__LOCAL_DEV_STEP_OUTPUTS ?? [];
    statuses[id] = {
      status,
      steps: outputs.length,
      last: JSON.stringify(outputs.at(-1) ?? null).slice(0, 300),
      ...(found.error === undefined ? {} : { error: JSON.stringify(found.error).slice(0, 300) }),
    };
    if (wake && !["complete", "errored", "terminated"].includes(status)) {
      await instance.sendEvent({ type: "chaos-wake", payload: {} });
    }
  }
  return Response.json(statuses);
}

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/_chaos/sagas" && request.method === "POST") {
      return sagaInstances(request, env);
    }
    return worker.fetch(request, env, ctx);
  },
  async queue(batch, env, ctx) {
    if (batch.queue !== QUEUES.events) return worker.queue(batch, env, ctx);
    return slowly(env, async () => {
      if (chance(env, "CHAOS_PROJECTOR_FAIL")) throw new Error("chaos: projector batch failed");
      const again = batch.messages
        .filter(() => chance(env, "CHAOS_DUPLICATE"))
        .map((m) => ({ body: m.body }));
      if (again.length > 0) await env.EVENTS.sendBatch(again, { delaySeconds: 1 });
      return worker.queue(batch, env, ctx);
    });
  },
} satisfies ExportedHandler<ChaosEnv, EventMessage>;
