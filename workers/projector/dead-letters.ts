/**
 * The dead-letter consumer: events that exhausted their retries are stored in D1 for operators to inspect
 * (GET /v1/_admin/dead-letters) and redrive. If D1 cannot take them either, the last attempt writes them to R2
 * under `dead-letters/`: nothing in the DLQ is dropped silently.
 */
import { drizzle } from "drizzle-orm/d1";
import { deadLetters } from "../read-model/schema";

/** The DLQ consumer's max_retries in wrangler.toml: the attempt that falls back to R2. */
export const DLQ_MAX_ATTEMPTS = 10;

export async function storeDeadLetters(
  batch: MessageBatch<unknown>,
  env: Env,
  now = Date.now(),
): Promise<void> {
  const db = drizzle(env.DB);
  const rows = batch.messages.map((m) => ({
    messageId: m.id,
    body: JSON.stringify(m.body),
    attempts: m.attempts,
    receivedAt: now,
  }));
  const [first, ...rest] = rows.map((row) => db.insert(deadLetters).values(row).onConflictDoNothing());
  try {
    if (first !== undefined) await db.batch([first, ...rest]);
    batch.ackAll();
    console.error(JSON.stringify({ level: "error", msg: "events dead-lettered", count: rows.length }));
  } catch (error) {
    for (const message of batch.messages) {
      if (message.attempts >= DLQ_MAX_ATTEMPTS) {
        await env.ARCHIVE.put(`dead-letters/${message.id}.json`, JSON.stringify(message.body));
        message.ack();
      } else {
        message.retry({ delaySeconds: 5 * message.attempts });
      }
    }
    console.error(
      JSON.stringify({ level: "error", msg: "dead letters not stored in D1", error: String(error) }),
    );
  }
}
