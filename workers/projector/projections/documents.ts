/** Current documents: a row is replaced only by a newer version, so duplicates and late events are no-ops. */
import { sql } from "drizzle-orm";
import { documents } from "../../read-model/schema";
import { type Projection, storedData } from "./types";

export const documentsProjection: Projection = {
  name: "documents",
  handles: ["put", "patch", "delete"],
  statements(db, event, projectedAt) {
    const { data, dataRef } = storedData(event);
    const [k0 = null, k1 = null, k2 = null, k3 = null] = event.index;
    const row = {
      tenant: event.tenant,
      collection: event.collection,
      id: event.id,
      version: event.version,
      // A delete leaves the row, marked, with its version: a late older put cannot resurrect it.
      deleted: event.type === "delete" ? 1 : 0,
      data,
      dataRef,
      createdAt: event.createdAt,
      updatedAt: event.committedAt,
      projectedAt,
      k0,
      k1,
      k2,
      k3,
    };
    return [
      db
        .insert(documents)
        .values(row)
        .onConflictDoUpdate({
          target: [documents.tenant, documents.collection, documents.id],
          set: {
            version: sql`excluded.version`,
            deleted: sql`excluded.deleted`,
            data: sql`excluded.data`,
            dataRef: sql`excluded.data_ref`,
            createdAt: sql`excluded.created_at`,
            updatedAt: sql`excluded.updated_at`,
            projectedAt: sql`excluded.projected_at`,
            k0: sql`excluded.k0`,
            k1: sql`excluded.k1`,
            k2: sql`excluded.k2`,
            k3: sql`excluded.k3`,
          },
          setWhere: sql`excluded.version > ${documents.version}`,
        }),
    ];
  },
};
