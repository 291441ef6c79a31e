/**
 * Index backfill: when a collection's index declaration changes while it holds documents, the read model's own
 * rows are reindexed, page by page, on Cloudflare Workflows (durable: a crash resumes it). Until it finishes, a
 * query on the collection's indexes answers 503 index-not-ready with its progress; then the collection is ready.
 * Removing an index is the same: the slot it held is cleared by the reindex.
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { indexSignature, indexValues } from "../../domain/collections";
import type { JsonObject } from "../../domain/json";
import { dbFor } from "../../platform/databases";
import { stateJson } from "../read-model/states";
import type { BackfillParams } from "./start";

/** Rows reindexed per workflow step (one D1 batch of updates). */
const PAGE = 200;

interface StaleRow {
  id: string;
  data: string | null;
  data_ref: string | null;
}

export class BackfillWorkflow extends WorkflowEntrypoint<Env, BackfillParams> {
  override async run(event: WorkflowEvent<BackfillParams>, step: WorkflowStep): Promise<number> {
    const { tenant, collection, signature } = event.payload;
    // A deploy may have changed the declaration again meanwhile: the newer one's backfill does the work.
    if (indexSignature(collection) !== signature) return 0;
    await step.do("count", async () => {
      const db = await dbFor(this.env, tenant);
      const adopted = await this.adopted(db, tenant, collection);
      const total = await db
        .prepare(
          `SELECT count(*) AS n FROM documents INDEXED BY documents_by_id
           WHERE tenant = ?1 AND collection = ?2 AND deleted = 0 AND coalesce(ix, ?3) != ?4`,
        )
        .bind(tenant, collection, adopted, signature)
        .first<{ n: number }>();
      await db
        .prepare(
          "UPDATE index_states SET backfill_total = ?3, backfill_done = 0 WHERE tenant = ?1 AND collection = ?2",
        )
        .bind(tenant, collection, total?.n ?? 0)
        .run();
      return total?.n ?? 0;
    });
    let done = 0;
    for (let page = 0; ; page++) {
      const n = await step.do(`page ${page}`, () => this.page(tenant, collection, signature));
      done += n;
      if (n < PAGE) break;
    }
    await step.do("ready", async () => {
      const db = await dbFor(this.env, tenant);
      await db
        .prepare(
          "UPDATE index_states SET signature = ?3, ready = 1, checked_at = ?4 WHERE tenant = ?1 AND collection = ?2",
        )
        .bind(tenant, collection, signature, Date.now())
        .run();
      return true;
    });
    return done;
  }

  private async adopted(db: D1Database, tenant: string, collection: string): Promise<string> {
    const row = await db
      .prepare("SELECT adopted FROM index_states WHERE tenant = ? AND collection = ?")
      .bind(tenant, collection)
      .first<{ adopted: string }>();
    return row?.adopted ?? indexSignature(collection);
  }

  /** Reindexes one page of stale rows; returns how many it took. */
  private async page(tenant: string, collection: string, signature: string): Promise<number> {
    const db = await dbFor(this.env, tenant);
    const adopted = await this.adopted(db, tenant, collection);
    const { results } = await db
      .prepare(
        `SELECT id, data, data_ref FROM documents INDEXED BY documents_by_id
         WHERE tenant = ?1 AND collection = ?2 AND deleted = 0 AND coalesce(ix, ?3) != ?4 LIMIT ?5`,
      )
      .bind(tenant, collection, adopted, signature, PAGE)
      .all<StaleRow>();
    if (results.length === 0) return 0;
    const updates = await Promise.all(
      results.map(async (row) => {
        const json = await stateJson(this.env.ARCHIVE, row);
        const [k0 = null, k1 = null, k2 = null, k3 = null] = indexValues(
          collection,
          json === null ? null : (JSON.parse(json) as JsonObject),
        );
        // A row a live projection rewrote meanwhile carries the signature already, and is left alone.
        return db
          .prepare(
            `UPDATE documents SET k0 = ?4, k1 = ?5, k2 = ?6, k3 = ?7, ix = ?8
             WHERE tenant = ?1 AND collection = ?2 AND id = ?3 AND coalesce(ix, ?9) != ?8`,
          )
          .bind(tenant, collection, row.id, k0, k1, k2, k3, signature, adopted);
      }),
    );
    await db.batch([
      ...updates,
      db
        .prepare(
          "UPDATE index_states SET backfill_done = coalesce(backfill_done, 0) + ?3 WHERE tenant = ?1 AND collection = ?2",
        )
        .bind(tenant, collection, results.length),
    ]);
    return results.length;
  }
}
