/** The Worker's entry: HTTP, the two queue consumers, and the Durable Object classes wrangler.toml names. */
import type { EventMessage } from "../domain/event-message";
import { createApp } from "./app";
import { storeDeadLetters } from "./projector/dead-letters";
import { projectBatch } from "./projector/project-events";

export { DocumentObject } from "../durable-objects/DocumentObject";

/** Queue names as wrangler.toml declares them; rename both together. */
export const QUEUES = { events: "tessera-events", deadLetters: "tessera-events-dlq" } as const;

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    if (batch.queue === QUEUES.deadLetters) return storeDeadLetters(batch, env);
    if (batch.queue === QUEUES.events) return projectBatch(batch, { db: env.DB, archive: env.ARCHIVE });
    console.error(
      JSON.stringify({ level: "error", msg: "batch from an unknown queue; retrying", queue: batch.queue }),
    );
    batch.retryAll({ delaySeconds: 60 });
  },
} satisfies ExportedHandler<Env, EventMessage>;
