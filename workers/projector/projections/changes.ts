/** The change feed: each (document, version) recorded once, its sequence assigned when first seen. */
import { objectName } from "../../../domain/keys";
import { columnsOf, jsonChunks, type Projection, storedData } from "./types";

/**
 * Rows go in in the batch's order (`ORDER BY key`: the array index), which is the order seq numbers them. Rows the
 * feed holds already are filtered out before the insert, not left to the conflict clause: SQLite hands an
 * AUTOINCREMENT number to every row it tries, so each redelivered event would leave a gap in the sequence (and
 * max(seq), which /v1/_stats reports as the events projected, would count it again).
 */
const INSERT = `INSERT INTO changes
  (tenant, collection, id, version, type, event_id, data, data_ref, committed_at, tx_id, projected_at)
  SELECT ${columnsOf(10)}, ?2 FROM json_each(?1) AS row
  WHERE NOT EXISTS (SELECT 1 FROM changes AS c WHERE c.tenant = row.value ->> '$[0]'
    AND c.collection = row.value ->> '$[1]' AND c.id = row.value ->> '$[2]' AND c.version = row.value ->> '$[3]')
  ORDER BY key
  ON CONFLICT (tenant, collection, id, version) DO NOTHING`;

export const changesProjection: Projection = {
  name: "changes",
  handles: ["put", "patch", "delete"],
  statements(db, events, projectedAt) {
    // An event delivered twice in one batch goes in once (the filter above sees only rows stored before).
    const seen = new Set<string>();
    const unique = events.filter((e) => {
      const key = `${objectName(e)}@${e.version}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const rows = unique.map((event) => {
      const { data, dataRef } = storedData(event);
      const { tenant, collection, id, version, type, eventId, committedAt } = event;
      return [tenant, collection, id, version, type, eventId, data, dataRef, committedAt, event.txId ?? null];
    });
    return jsonChunks(rows).map((json) => db.prepare(INSERT).bind(json, projectedAt));
  },
};
