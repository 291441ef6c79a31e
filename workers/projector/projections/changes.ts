/** The change feed: each (document, version) recorded once, its sequence assigned when first seen. */
import { changes } from "../../read-model/schema";
import { type Projection, storedData } from "./types";

export const changesProjection: Projection = {
  name: "changes",
  handles: ["put", "patch", "delete"],
  statements(db, event, projectedAt) {
    const { data, dataRef } = storedData(event);
    return [
      db
        .insert(changes)
        .values({
          tenant: event.tenant,
          collection: event.collection,
          id: event.id,
          version: event.version,
          type: event.type,
          eventId: event.eventId,
          data,
          dataRef,
          committedAt: event.committedAt,
          projectedAt,
        })
        .onConflictDoNothing({ target: [changes.tenant, changes.collection, changes.id, changes.version] }),
    ];
  },
};
