/**
 * Change-feed retention. D1 keeps each tenant's feed for FEED_RETENTION_HOURS (and at most FEED_RETENTION_ROWS
 * changes, when set); what falls out of that window is first written to R2 as feed segments, then deleted from D1
 * together with moving the tenant's horizon, in one transaction. A cursor behind the horizon is served from the
 * segments: the same changes, in the same order, with the same seq, as D1 served them. The segments are NDJSON
 * lines exactly as the feed renders a change (states inline), under `feed/{tenant}/{epoch}/{last seq}.ndjson`, so
 * a listing from a cursor finds the segment that continues it.
 */
import { epochOf } from "../../platform/databases";
import { errorText, log } from "../../platform/log";
import { configOf } from "../config";
import type { ChangeRow } from "../read-model/d1";
import { changeJson } from "../read-model/feed-and-stats";
import { PAGE_CHARS, StateMissing } from "../read-model/states";

/** Changes per segment (one R2 object, one D1 delete). */
export const SEGMENT_ROWS = 1_000;

const pad = (seq: number) => String(seq).padStart(16, "0");

export function segmentPrefix(tenant: string, epoch: number): string {
  return `feed/${tenant}/${epoch}/`;
}

/** A segment's key: by its last seq, so that listing after a cursor's key finds the segment that follows it. */
export function segmentKey(tenant: string, epoch: number, lastSeq: number): string {
  return `${segmentPrefix(tenant, epoch)}${pad(lastSeq)}.ndjson`;
}

interface Horizon {
  pruned_seq: number;
  pruned_committed_at: number;
}

/** A change as the feed renders it; a large state R2 no longer has is rendered as null, and logged. */
async function segmentLine(archive: R2Bucket, row: ChangeRow): Promise<string> {
  try {
    return await changeJson(archive, row);
  } catch (error) {
    if (!(error instanceof StateMissing)) throw error;
    log.warn("feed segment: a state is missing", {
      tenant: row.tenant,
      seq: row.seq,
      error: errorText(error),
    });
    return changeJson(archive, { ...row, data_ref: null });
  }
}

/**
 * Moves the tenant's changes that fell out of the window to R2, a segment at a time, up to `budget` changes;
 * returns how many it moved.
 */
export async function pruneTenantFeed(
  env: Env,
  db: D1Database,
  tenant: string,
  now: number,
  budget: number,
): Promise<number> {
  const { feedRetentionMs, feedRetentionRows } = configOf(env);
  const cutoff = now - feedRetentionMs;
  const capSeq =
    feedRetentionRows === null
      ? 0
      : ((await db
          .prepare(
            "SELECT seq FROM changes INDEXED BY changes_by_tenant WHERE tenant = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
          )
          .bind(tenant, feedRetentionRows)
          .first<number>("seq")) ?? 0);
  const epoch = await epochOf(env, tenant);
  let moved = 0;
  while (moved < budget) {
    const horizon = await db
      .prepare("SELECT pruned_seq, pruned_committed_at FROM feed_horizons WHERE tenant = ?")
      .bind(tenant)
      .first<Horizon>();
    const after = horizon?.pruned_seq ?? 0;
    const { results } = await db
      .prepare(
        "SELECT * FROM changes INDEXED BY changes_by_tenant WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?",
      )
      .bind(tenant, after, SEGMENT_ROWS)
      .all<ChangeRow>();
    // Only a prefix of the feed leaves: the segments and D1 together always hold it whole, in order.
    const out: ChangeRow[] = [];
    for (const row of results) {
      if (row.seq > capSeq && row.projected_at >= cutoff) break;
      out.push(row);
    }
    const last = out.at(-1);
    if (last === undefined) break;
    const lines = await Promise.all(out.map((row) => segmentLine(env.ARCHIVE, row)));
    await env.ARCHIVE.put(segmentKey(tenant, epoch, last.seq), `${lines.join("\n")}\n`, {
      httpMetadata: { contentType: "application/x-ndjson" },
      customMetadata: { after: String(after), last: String(last.seq) },
    });
    const committed = Math.max(horizon?.pruned_committed_at ?? 0, ...out.map((row) => row.committed_at));
    await db.batch([
      db
        .prepare("DELETE FROM changes WHERE tenant = ? AND seq > ? AND seq <= ?")
        .bind(tenant, after, last.seq),
      db
        .prepare(
          `INSERT INTO feed_horizons (tenant, pruned_seq, pruned_committed_at, pruned_at) VALUES (?1, ?2, ?3, ?4)
           ON CONFLICT (tenant) DO UPDATE SET pruned_seq = excluded.pruned_seq,
             pruned_committed_at = excluded.pruned_committed_at, pruned_at = excluded.pruned_at`,
        )
        .bind(tenant, last.seq, committed, now),
    ]);
    moved += out.length;
    if (out.length < results.length || results.length < SEGMENT_ROWS) break;
  }
  return moved;
}

/** One pass of retention over every tenant of `db`, up to `budget` changes moved in all. */
export async function pruneFeeds(env: Env, db: D1Database, now: number, budget: number): Promise<number> {
  const { results } = await db
    .prepare("SELECT DISTINCT tenant FROM collection_stats")
    .all<{ tenant: string }>();
  let moved = 0;
  for (const { tenant } of results) {
    if (moved >= budget) break;
    try {
      moved += await pruneTenantFeed(env, db, tenant, now, budget - moved);
    } catch (error) {
      log.warn("feed retention failed for a tenant; next pass retries", { tenant, error: errorText(error) });
    }
  }
  return moved;
}

/** What a cursor behind the horizon gets: changes from a segment, or nothing if no segment continues it. */
export type SegmentPage = { readonly changes: string[]; readonly last: number } | "expired";

/** The changes after `after` from the segment that holds them (one segment per page). */
export async function readSegment(
  archive: R2Bucket,
  options: {
    tenant: string;
    epoch: number;
    after: number;
    limit: number;
    collections: readonly string[] | null;
  },
): Promise<SegmentPage> {
  const { tenant, epoch, after, limit, collections } = options;
  const prefix = segmentPrefix(tenant, epoch);
  // `include` is in the runtime's R2 API, not in the type package this project builds against.
  const listing = await archive.list({
    prefix,
    startAfter: `${prefix}${pad(after)}.ndjson`,
    limit: 1,
    include: ["customMetadata"],
  } as R2ListOptions);
  const found = listing.objects[0];
  // The segment must begin at or before the cursor: if it begins after, the ones between are gone.
  if (found === undefined || !(Number(found.customMetadata?.after) <= after)) return "expired";
  const object = await archive.get(found.key);
  if (object === null) return "expired";
  const changes: string[] = [];
  let last = after;
  let chars = 0;
  for (const line of (await object.text()).split("\n")) {
    if (line === "") continue;
    const change = JSON.parse(line) as { seq: number; collection: string };
    if (change.seq <= after) continue;
    if (changes.length >= limit || (changes.length > 0 && chars + line.length > PAGE_CHARS)) break;
    last = change.seq;
    if (collections !== null && !collections.includes(change.collection)) continue;
    changes.push(line);
    chars += line.length;
  }
  return { changes, last };
}
