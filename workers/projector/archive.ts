/**
 * The R2 event archive: NDJSON objects under `events/{tenant}/YYYY/MM/DD/HH/` by tenant and commit hour (UTC),
 * one object per projected batch, tenant and hour. At least once (a redelivered batch is archived again); readers
 * dedupe by eventId. A rebuild of one tenant lists its prefix only.
 * Large states stay where the outbox put them (`states/...`, referenced by `dataRef`).
 */
import type { EventMessage } from "../../domain/event-message";

export function archiveKey(tenant: string, committedAt: number, batchId: string): string {
  const iso = new Date(committedAt).toISOString();
  const [date = "", time = ""] = iso.split("T");
  const [year, month, day] = date.split("-");
  return `events/${tenant}/${year}/${month}/${day}/${time.slice(0, 2)}/${batchId}.ndjson`;
}

/**
 * One NDJSON line: the event with its state inline as a JSON value (spliced in as the object stored it, not
 * re-serialized), or `data: null` and the `dataRef` of a large state. The slot values stay out: they are derived.
 */
export function archiveLine(event: EventMessage): string {
  const { data, index: _index, ...header } = event;
  const head = JSON.stringify(header);
  return `${head.slice(0, -1)},"data":${data ?? "null"}}`;
}

/** Writes the events, grouped by commit hour; resolves once every object is stored. */
export async function archiveEvents(
  bucket: R2Bucket,
  events: readonly EventMessage[],
  batchId: string,
): Promise<void> {
  const byKey = new Map<string, string[]>();
  for (const event of events) {
    const key = archiveKey(event.tenant, event.committedAt, batchId);
    const line = archiveLine(event);
    byKey.set(key, [...(byKey.get(key) ?? []), line]);
  }
  await Promise.all(
    [...byKey].map(([key, lines]) =>
      bucket.put(key, `${lines.join("\n")}\n`, { httpMetadata: { contentType: "application/x-ndjson" } }),
    ),
  );
}
