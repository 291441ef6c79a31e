/**
 * The dead-letter consumer: events that exhausted their retries are stored in D1 for operators to inspect
 * (GET /v1/_admin/dead-letters) and redrive, one row per event however often it dies (the outbox resends an
 * event until the change feed has it). If D1 cannot take them either, the last attempt writes them to R2 under
 * `dead-letters/`; and an event lost even there is still in its object's outbox, which sends it again.
 */
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { isEventMessage } from "../../domain/event-message";
import { errorText, log } from "../../platform/log";
import { deadLetters } from "../read-model/schema";

/** The DLQ consumer's max_retries in wrangler.toml: the attempt that falls back to R2. */
export const DLQ_MAX_ATTEMPTS = 10;

export async function storeDeadLetters(
  batch: MessageBatch<unknown>,
  env: Env,
  now = Date.now(),
): Promise<void> {
  const db = drizzle(env.DB);
  const statements = batch.messages.map((m) => {
    const row = {
      messageId: m.id,
      body: JSON.stringify(m.body),
      attempts: m.attempts,
      receivedAt: now,
      eventId: isEventMessage(m.body) ? m.body.eventId : null,
      tenant: isEventMessage(m.body) ? m.body.tenant : null,
    };
    if (row.eventId === null) return db.insert(deadLetters).values(row).onConflictDoNothing();
    // The same event again: count it, and list it as pending again if it had been redriven.
    return db
      .insert(deadLetters)
      .values(row)
      .onConflictDoUpdate({
        target: deadLetters.eventId,
        set: {
          attempts: row.attempts,
          receivedAt: now,
          redrivenAt: null,
          deaths: sql`${deadLetters.deaths} + 1`,
        },
      });
  });
  const [first, ...rest] = statements;
  try {
    if (first !== undefined) await db.batch([first, ...rest]);
    batch.ackAll();
    log.error("events dead-lettered", { count: statements.length });
  } catch (error) {
    for (const message of batch.messages) {
      if (message.attempts >= DLQ_MAX_ATTEMPTS) {
        await env.ARCHIVE.put(`dead-letters/${message.id}.json`, JSON.stringify(message.body));
        message.ack();
      } else {
        message.retry({ delaySeconds: 5 * message.attempts });
      }
    }
    log.error("dead letters not stored in D1", { error: errorText(error) });
  }
}
