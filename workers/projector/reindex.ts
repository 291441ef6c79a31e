/**
 * Events whose index values were computed under another index declaration than the projector's (an index added
 * or changed by a deploy while they waited in an outbox or the queue, or events from before signatures existed)
 * get their values computed again from their state, so that every row the projector writes matches the current
 * declaration. The common case, a matching signature, costs a string comparison: no document is parsed.
 */
import { indexSignature, indexValues } from "../../domain/collections";
import type { EventMessage } from "../../domain/event-message";
import type { JsonObject } from "../../domain/json";

export async function reindex(event: EventMessage, archive: R2Bucket): Promise<EventMessage> {
  const signature = indexSignature(event.collection);
  if (event.ix === signature) return event;
  const json = event.data ?? (event.dataRef === undefined ? null : await stateText(archive, event.dataRef));
  const data = json === null ? null : (JSON.parse(json) as JsonObject);
  const values = indexValues(event.collection, data);
  return { ...event, index: values.every((v) => v === null) ? [] : values, ix: signature };
}

async function stateText(archive: R2Bucket, ref: string): Promise<string> {
  const object = await archive.get(ref);
  if (object === null) throw new Error(`state ${ref} is missing from R2`);
  return object.text();
}
