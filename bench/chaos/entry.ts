/**
 * The chaos harness's Worker entry, never the production one: it wraps Tessera's Worker and document object with
 * fault injection. `npm run bundle` proves the production bundle holds none of it (scripts/assert-no-chaos.mjs).
 * Faults are set per run by CHAOS_* bindings: probabilities from 0 to 1.
 */
import type { WriteResult } from "../../domain/commands";
import type { EventMessage } from "../../domain/event-message";
import type { WriteRequest } from "../../domain/write-request";
import { QUEUES } from "../../platform/queue";
import worker, { DocumentObject as ProductionDocumentObject } from "../../workers/index";
import { seededRandom } from "./random";

// Every other Durable Object class the config names, as production exports it (the local DocumentObject below
// takes the place of production's: a module's own export wins over one `export *` brings in).
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
  /** A delivered event is sent to the queue again: a duplicate, arriving out of order. */
  CHAOS_DUPLICATE?: string;
}

type ChaosEnv = Env & ChaosVars;

let random: (() => number) | null = null;
function chance(env: ChaosVars, name: keyof ChaosVars): boolean {
  random ??= seededRandom(Number(env.CHAOS_SEED ?? "1") || 1);
  return random() < Number(env[name] ?? "0");
}

export class DocumentObject extends ProductionDocumentObject {
  constructor(ctx: DurableObjectState, env: ChaosEnv) {
    super(ctx, env);
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
}

export default {
  fetch: worker.fetch,
  async queue(batch, env, ctx) {
    if (batch.queue === QUEUES.events && chance(env, "CHAOS_PROJECTOR_FAIL")) {
      throw new Error("chaos: projector batch failed");
    }
    if (batch.queue === QUEUES.events) {
      const again = batch.messages
        .filter(() => chance(env, "CHAOS_DUPLICATE"))
        .map((m) => ({ body: m.body }));
      if (again.length > 0) await env.EVENTS.sendBatch(again, { delaySeconds: 1 });
    }
    return worker.queue(batch, env, ctx);
  },
} satisfies ExportedHandler<ChaosEnv, EventMessage>;
