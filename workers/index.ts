/** The Worker's entry: HTTP, the two queue consumers, and the Durable Object classes wrangler.toml names. */
import type { EventMessage } from "../domain/event-message";
import { database, dbFor } from "../platform/databases";
import { log } from "../platform/log";
import { QUEUES } from "../platform/queue";
import { createApp } from "./app";
import { runAudit } from "./audit";
import { configOf } from "./config";
import { HOUSEKEEPING_CRON, runHousekeeping } from "./maintenance/housekeeping";
import { activeRebuilds } from "./maintenance/rebuilds";
import { storeDeadLetters } from "./projector/dead-letters";
import { projectBatch } from "./projector/project-events";

export { DocumentObject } from "../durable-objects/DocumentObject";
export { MetricsObject } from "../durable-objects/MetricsObject";
export { PipelineObject } from "../durable-objects/PipelineObject";
export { TransactionObject } from "../durable-objects/TransactionObject";
export { BackfillWorkflow } from "./maintenance/backfill";
export { RebuildWorkflow } from "./maintenance/rebuild";
export { SagaWorkflow } from "./sagas/workflow";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    configOf(env);
    if (batch.queue === QUEUES.deadLetters) return storeDeadLetters(batch, env);
    if (batch.queue === QUEUES.events) {
      return projectBatch(batch, {
        db: env.DB,
        archive: env.ARCHIVE,
        dbOf: (tenant) => dbFor(env, tenant),
        rebuilds: () => activeRebuilds(env),
        databaseOf: (binding) => database(env, binding),
      });
    }
    log.error("batch from an unknown queue; retrying", { queue: batch.queue });
    batch.retryAll({ delaySeconds: 60 });
  },
  async scheduled(controller, env, _ctx) {
    configOf(env);
    if (controller.cron === HOUSEKEEPING_CRON) {
      await runHousekeeping(env, controller.scheduledTime);
      return;
    }
    await runAudit(env, { now: controller.scheduledTime });
  },
} satisfies ExportedHandler<Env, EventMessage>;
