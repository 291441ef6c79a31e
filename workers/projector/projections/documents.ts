/** Current documents: a row is replaced only by a newer version, so duplicates and late events are no-ops. */
import { indexSignature } from "../../../domain/collections";
import type { EventMessage } from "../../../domain/event-message";
import { objectName } from "../../../domain/keys";
import { columnsOf, jsonChunks, type Projection, storedData } from "./types";

const UPSERT = `INSERT INTO documents
  (tenant, collection, id, version, deleted, data, data_ref, created_at, updated_at, k0, k1, k2, k3, ix,
   projected_at)
  SELECT ${columnsOf(14)}, ?2 FROM json_each(?1) WHERE true
  ON CONFLICT (tenant, collection, id) DO UPDATE SET
    version = excluded.version, deleted = excluded.deleted, data = excluded.data, data_ref = excluded.data_ref,
    created_at = excluded.created_at, updated_at = excluded.updated_at, projected_at = excluded.projected_at,
    k0 = excluded.k0, k1 = excluded.k1, k2 = excluded.k2, k3 = excluded.k3, ix = excluded.ix
  WHERE excluded.version > documents.version`;

/** Only each document's newest version in the batch can change its row: a hot document's burst is one upsert. */
function newestPerDocument(events: readonly EventMessage[]): EventMessage[] {
  const newest = new Map<string, EventMessage>();
  for (const event of events) {
    const key = objectName(event);
    const seen = newest.get(key);
    if (seen === undefined || seen.version < event.version) newest.set(key, event);
  }
  return [...newest.values()];
}

/**
 * A rebuild's generation, built beside the live rows (workers/maintenance/rebuild.ts): the same upsert into
 * rebuild_documents, under the rebuild's id.
 */
const SHADOW_UPSERT = `INSERT INTO rebuild_documents
  (rebuild_id, tenant, collection, id, version, deleted, data, data_ref, created_at, updated_at, k0, k1, k2, k3,
   ix, projected_at)
  SELECT ?3, ${columnsOf(14)}, ?2 FROM json_each(?1) WHERE true
  ON CONFLICT (rebuild_id, tenant, collection, id) DO UPDATE SET
    version = excluded.version, deleted = excluded.deleted, data = excluded.data, data_ref = excluded.data_ref,
    created_at = excluded.created_at, updated_at = excluded.updated_at, projected_at = excluded.projected_at,
    k0 = excluded.k0, k1 = excluded.k1, k2 = excluded.k2, k3 = excluded.k3, ix = excluded.ix
  WHERE excluded.version > rebuild_documents.version`;

/** The statements that fold `events` into rebuild `rebuildId`'s generation of documents. */
export function shadowStatements(
  db: D1Database,
  rebuildId: string,
  events: readonly EventMessage[],
  projectedAt: number,
): D1PreparedStatement[] {
  return jsonChunks(documentRows(events)).map((json) =>
    db.prepare(SHADOW_UPSERT).bind(json, projectedAt, rebuildId),
  );
}

/** Each document's newest event as a row of the upsert's JSON parameter. */
function documentRows(events: readonly EventMessage[]): unknown[][] {
  return newestPerDocument(events).map((event) => {
    const { data, dataRef } = storedData(event);
    const [k0 = null, k1 = null, k2 = null, k3 = null] = event.index;
    // A delete leaves the row, marked, with its version: a late older put cannot resurrect it.
    const deleted = event.type === "delete" ? 1 : 0;
    const { tenant, collection, id, version, createdAt, committedAt } = event;
    return [
      tenant,
      collection,
      id,
      version,
      deleted,
      data,
      dataRef,
      createdAt,
      committedAt,
      k0,
      k1,
      k2,
      k3,
      // The projector reindexed any event computed under another declaration (see reindex.ts).
      indexSignature(collection),
    ];
  });
}

export const documentsProjection: Projection = {
  name: "documents",
  handles: ["put", "patch", "delete"],
  statements(db, events, projectedAt) {
    return jsonChunks(documentRows(events)).map((json) => db.prepare(UPSERT).bind(json, projectedAt));
  },
};
