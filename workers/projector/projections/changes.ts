/** The change feed: each (document, version) recorded once, its sequence assigned when first seen. */
import { columnsOf, jsonChunks, type Projection, storedData } from "./types";

/** Rows go in in the batch's order (`ORDER BY key`: the array index), which is the order seq numbers them. */
const INSERT = `INSERT INTO changes
  (tenant, collection, id, version, type, event_id, data, data_ref, committed_at, projected_at)
  SELECT ${columnsOf(9)}, ?2 FROM json_each(?1) WHERE true ORDER BY key
  ON CONFLICT (tenant, collection, id, version) DO NOTHING`;

export const changesProjection: Projection = {
  name: "changes",
  handles: ["put", "patch", "delete"],
  statements(db, events, projectedAt) {
    const rows = events.map((event) => {
      const { data, dataRef } = storedData(event);
      const { tenant, collection, id, version, type, eventId, committedAt } = event;
      return [tenant, collection, id, version, type, eventId, data, dataRef, committedAt];
    });
    return jsonChunks(rows).map((json) => db.prepare(INSERT).bind(json, projectedAt));
  },
};
