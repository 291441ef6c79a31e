/**
 * Hourly housekeeping (the `17 * * * *` cron): feed retention in every read-model database, the sweep of large
 * states no longer referenced, and what stopped rebuilds left behind. Each part has a budget per run and goes on
 * from where it stopped the next hour; a failure of one part does not keep the others from running.
 */
import { allDatabases, database, dbFor } from "../../platform/databases";
import { errorText, log } from "../../platform/log";
import { instanceId, recordKey, SagaRecordStore } from "../sagas/record";
import { activeRebuilds, discardGeneration, dropTenant, type RebuildRow, setStatus } from "./rebuilds";
import { pruneFeeds } from "./retention";

export const HOUSEKEEPING_CRON = "17 * * * *";

/**
 * A large state younger than this is never swept, referenced or not: its event may still wait in an outbox or
 * the queue (an outbox retries for as long as it takes), and a redriven dead letter may still need it.
 */
export const STATES_GRACE_MS = 30 * 24 * 3_600_000;
/** Changes moved to feed segments per database per run. */
const FEED_BUDGET = 50_000;
/** Keys of `states/` looked at per listing, and listings per run. */
const STATES_PAGE = 500;
const STATES_PAGES = 20;

export interface HousekeepingResult {
  feedChangesArchived: number;
  statesDeleted: number;
  rebuildsTidied: number;
  sagasEnded: number;
}

/** A saga still `running` with no workflow this long after its last change never started (see endUnstarted). */
const UNSTARTED_AFTER_MS = 15 * 60_000;

export async function runHousekeeping(env: Env, now = Date.now()): Promise<HousekeepingResult> {
  const result: HousekeepingResult = {
    feedChangesArchived: 0,
    statesDeleted: 0,
    rebuildsTidied: 0,
    sagasEnded: 0,
  };
  for (const { binding, db } of allDatabases(env)) {
    await pruneFeeds(env, db, now, FEED_BUDGET).then(
      (n) => {
        result.feedChangesArchived += n;
      },
      (error) => log.warn("feed retention failed", { binding, error: errorText(error) }),
    );
  }
  await sweepStates(env, now).then(
    (n) => {
      result.statesDeleted = n;
    },
    (error) => log.warn("states sweep failed", { error: errorText(error) }),
  );
  await tidyRebuilds(env, now).then(
    (n) => {
      result.rebuildsTidied = n;
    },
    (error) => log.warn("rebuild tidying failed", { error: errorText(error) }),
  );
  await endUnstarted(env, now).then(
    (n) => {
      result.sagasEnded = n;
    },
    (error) => log.warn("saga sweep failed", { error: errorText(error) }),
  );
  log.info("housekeeping", { ...result });
  return result;
}

async function readCursor(env: Env, name: string): Promise<string | undefined> {
  const value = await env.DB.prepare("SELECT value FROM maintenance_cursors WHERE name = ?")
    .bind(name)
    .first<string>("value");
  return value ?? undefined;
}

async function writeCursor(env: Env, name: string, value: string | undefined, now: number): Promise<void> {
  await (value === undefined
    ? env.DB.prepare("DELETE FROM maintenance_cursors WHERE name = ?").bind(name)
    : env.DB.prepare(
        `INSERT INTO maintenance_cursors (name, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).bind(name, value, now)
  ).run();
}

/**
 * Deletes large states (`states/{tenant}/...`) older than the grace period that nothing references any more: no
 * document row, feed entry or held event of the tenant's read model, and no dead letter. A tenant whose read model
 * holds no document, or that a rebuild is working on, is left alone (an emptied read model proves nothing).
 */
export async function sweepStates(env: Env, now = Date.now()): Promise<number> {
  const rebuilds = await activeRebuilds(env, now);
  if (rebuilds.some((r) => r.tenant === null)) return 0;
  let cursor = await readCursor(env, "states");
  let deleted = 0;
  for (let page = 0; page < STATES_PAGES; page++) {
    const listing = await env.ARCHIVE.list({ prefix: "states/", limit: STATES_PAGE, cursor });
    const byTenant = new Map<string, string[]>();
    for (const object of listing.objects) {
      if (object.uploaded.getTime() > now - STATES_GRACE_MS) continue;
      const tenant = object.key.split("/")[1] ?? "";
      byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), object.key]);
    }
    for (const [tenant, keys] of byTenant) {
      if (rebuilds.some((r) => r.tenant === tenant)) continue;
      deleted += await sweepTenant(env, tenant, keys);
    }
    cursor = listing.truncated ? listing.cursor : undefined;
    if (cursor === undefined) break;
  }
  await writeCursor(env, "states", cursor, now);
  return deleted;
}

async function sweepTenant(env: Env, tenant: string, keys: readonly string[]): Promise<number> {
  const db = await dbFor(env, tenant);
  if ((await db.prepare("SELECT 1 FROM documents WHERE tenant = ? LIMIT 1").bind(tenant).first()) === null) {
    return 0;
  }
  const { results } = await db
    .prepare(
      `SELECT value AS key FROM json_each(?1)
       WHERE NOT EXISTS (SELECT 1 FROM documents WHERE data_ref = value)
         AND NOT EXISTS (SELECT 1 FROM changes WHERE data_ref = value)
         AND NOT EXISTS (SELECT 1 FROM held_events WHERE tenant = ?2 AND instr(body, value) > 0)`,
    )
    .bind(JSON.stringify(keys), tenant)
    .all<{ key: string }>();
  if (results.length === 0) return 0;
  const { results: unreferenced } = await env.DB.prepare(
    `SELECT value AS key FROM json_each(?1)
     WHERE NOT EXISTS (SELECT 1 FROM dead_letters WHERE tenant = ?2 AND instr(body, value) > 0)`,
  )
    .bind(JSON.stringify(results.map((r) => r.key)), tenant)
    .all<{ key: string }>();
  if (unreferenced.length === 0) return 0;
  await env.ARCHIVE.delete(unreferenced.map((r) => r.key));
  return unreferenced.length;
}

/**
 * Rebuilds that stopped: what a cancelled or failed one built is discarded again (a step in flight when it was
 * cancelled may have written after the first discard), and one whose workflow ended without saying so is marked
 * failed.
 */
export async function tidyRebuilds(env: Env, now = Date.now()): Promise<number> {
  const { results: stopped } = await env.DB.prepare(
    "SELECT * FROM rebuilds WHERE status IN ('cancelled', 'failed') AND finished_at > ?",
  )
    .bind(now - 24 * 3_600_000)
    .all<RebuildRow>();
  for (const rebuild of stopped) {
    // A failed move that had already moved the tenant keeps its new copy; the old one goes (see rebuild.ts).
    const moved =
      rebuild.mode === "move" &&
      rebuild.tenant !== null &&
      (await env.DB.prepare("SELECT 1 FROM tenant_databases WHERE tenant = ? AND binding = ?")
        .bind(rebuild.tenant, rebuild.target)
        .first()) !== null;
    if (moved && rebuild.tenant !== null && rebuild.source !== null) {
      const source = database(env, rebuild.source);
      await source.batch(dropTenant(source, rebuild.tenant));
    } else {
      await discardGeneration(env, rebuild);
    }
  }
  let ended = 0;
  for (const rebuild of await activeRebuilds(env, now)) {
    const instance = await env.REBUILDS.get(rebuild.id).catch(() => null);
    // Not found: it never started (the request that recorded it failed to create it), once a minute has passed.
    const status =
      instance === null
        ? now - rebuild.started_at > 60_000
          ? "missing"
          : "starting"
        : (await instance.status()).status;
    if (!["errored", "terminated", "complete", "missing"].includes(status)) continue;
    if (
      await setStatus(env, rebuild.id, "failed", ["waiting", "scanning"], { error: `the workflow ${status}` })
    ) {
      await discardGeneration(env, rebuild);
      ended += 1;
    }
  }
  return stopped.length + ended;
}

/**
 * Sagas whose record says `running` but whose workflow does not exist: the Worker stopped between writing the record
 * and creating the workflow, and no retry with an Idempotency-Key came to create it. Nothing ran, so each is ended
 * as `cancelled`, visibly, instead of running forever. Only a Workflows answer that the instance is not found
 * counts: a Workflows outage ends nothing.
 */
export async function endUnstarted(env: Env, now = Date.now()): Promise<number> {
  let ended = 0;
  for (const { db } of allDatabases(env)) {
    const { results: tenants } = await db
      .prepare("SELECT tenant FROM collection_stats WHERE collection = '_sagas' AND documents > 0")
      .all<{ tenant: string }>();
    for (const { tenant } of tenants) {
      const { results } = await db
        .prepare(
          `SELECT id FROM documents INDEXED BY documents_k0
           WHERE tenant = ? AND collection = '_sagas' AND deleted = 0 AND k0 = 'running' AND updated_at < ?
           LIMIT 100`,
        )
        .bind(tenant, now - UNSTARTED_AFTER_MS)
        .all<{ id: string }>();
      for (const { id } of results) {
        const missing = await env.SAGAS.get(instanceId(tenant, id)).then(
          () => false,
          (error: unknown) => /not[._ ]?found/i.test(errorText(error)),
        );
        if (!missing) continue;
        const store = new SagaRecordStore(env, recordKey(tenant, id));
        try {
          await store.transition(
            "not-started",
            [
              { op: "test", path: "/status", value: "running" },
              { op: "replace", path: "/status", value: "cancelled" },
              { op: "replace", path: "/reason", value: "the saga could not start; nothing ran" },
            ],
            new Date(now).toISOString(),
          );
          ended += 1;
        } catch (error) {
          // It moved on meanwhile (its workflow was created after all): nothing to end.
          log.info("saga not ended", { tenant, id, error: errorText(error) });
        }
      }
    }
  }
  return ended;
}
