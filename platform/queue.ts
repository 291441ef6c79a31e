/** The one typed way onto the events queue; the projector is typed by the same EventMessage. */
import type { EventMessage, ProbeMessage } from "../domain/event-message";

/** Sends one batch (at most 100 messages, 256 KB: see planBatches). Awaited: a failed send must be known. */
export async function publish(queue: Queue, messages: readonly EventMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await queue.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
}

/** Sends a pipeline probe (see ProbeMessage) on the events queue. */
export async function publishProbe(queue: Queue, probe: ProbeMessage): Promise<void> {
  await queue.send(probe, { contentType: "json" });
}

/**
 * The queues' names, as wrangler.toml declares them (a test checks that the two agree): the consumer tells the
 * batches apart by them. Rename both together.
 */
export const QUEUES = { events: "tessera-events", deadLetters: "tessera-events-dlq" } as const;
