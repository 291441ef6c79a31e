/**
 * Rebuilding the read model from the R2 archive, on Cloudflare Workflows (durable: a crash resumes it at the step
 * it was in). The current generation keeps serving reads, queries and the feed until the new one takes over:
 *
 * 1. waiting: the rebuild is recorded; every projector sees it within REBUILD_CACHE_MS and from then on mirrors
 *    what it projects into the new generation (project-events.ts). The scan starts only after that.
 * 2. scanning: the archive's objects of the scope are folded into the new generation, a page of objects per step:
 *    documents by version (a row only moves forward), the change feed by (document, version), restoring what it
 *    lacks within the retention window. An event archived after the scan began was mirrored, so nothing is
 *    missed; one seen twice changes nothing.
 * 3. taking-over: in place (`shadow`), one D1 transaction replaces the scope's live documents with the rebuilt
 *    ones; a move (`move`) reassigns the tenant to the database it was built in, bumping its feed epoch.
 * 4. draining (a move): isolates still routing the tenant to its old database (for at most the assignment cache
 *    time) keep it whole; then the old copy is dropped.
 */

import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import { indexSignature } from "../../domain/collections";
import type { EventMessage } from "../../domain/event-message";
import { isEventMessage } from "../../domain/event-message";
import { objectName } from "../../domain/keys";
import { allDatabases, assignmentCacheMs, database, dbFor, forgetAssignment } from "../../platform/databases";
import { errorText, log } from "../../platform/log";
import { configOf } from "../config";
import { documentStub } from "../documents-client";
import { projectInto } from "../projector/project-events";
import { changesProjection } from "../projector/projections/changes";
import { documentsProjection, shadowStatements } from "../projector/projections/documents";
import { reindex } from "../projector/reindex";
import {
  ACTIVE_STATUSES,
  covers,
  discardGeneration,
  dropTenant,
  REBUILD_CACHE_MS,
  type RebuildRow,
  rebuildById,
  setStatus,
} from "./rebuilds";

export interface RebuildParams {
  readonly id: string;
}

/** Long enough for every projector isolate to have read the list of active rebuilds since it changed. */
const SETTLE_MS = 2 * REBUILD_CACHE_MS + 1_000;
/** Archive objects folded per step (each holds one projected batch of a tenant: at most 100 events). */
const FOLD_OBJECTS = 50;
/** Keys counted per step, for the progress total. */
const COUNT_PAGE = 1_000;
/** A failed step is tried again soon: a fold or a takeover is safe to repeat. */
const RETRIES = {
  retries: { limit: 8, delay: "1 second", backoff: "exponential" },
  timeout: "5 minutes",
} as const;
/** A feed entry is restored only if committed this long after the retention window's edge. */
const WINDOW_MARGIN_MS = 3_600_000;

/** A part of the archive to scan: a prefix, and the depth of the keys under it that belong to the rebuild. */
interface Source {
  readonly prefix: string;
  /** 7 parts: `events/{tenant}/YYYY/MM/DD/HH/{batch}`; 6: the layout before tenants had prefixes. */
  readonly parts: 6 | 7;
}

interface FoldResult {
  readonly cursor: string | null;
  readonly objects: number;
  readonly events: number;
  readonly stopped: boolean;
}

/** Parses one archive line back into the event it records; its index values are computed again. */
export function parseArchiveLine(line: string): EventMessage | null {
  if (line.trim() === "") return null;
  // The state is spliced in last, as the object stored it (archive.ts): keep its text as it is.
  const at = line.indexOf(',"data":');
  if (at < 0) return null;
  try {
    const { ix: _ix, ...header } = JSON.parse(`${line.slice(0, at)}}`) as Record<string, unknown>;
    const raw = line.slice(at + 8, -1);
    const event = { ...header, data: raw === "null" ? null : raw, index: [] };
    return isEventMessage(event) ? event : null;
  } catch {
    return null;
  }
}

export class RebuildWorkflow extends WorkflowEntrypoint<Env, RebuildParams> {
  override async run(event: WorkflowEvent<RebuildParams>, step: WorkflowStep): Promise<string> {
    const { id } = event.payload;
    const rebuild = await step.do("load", async () => {
      const row = await rebuildById(this.env, id);
      if (row === null) throw new NonRetryableError(`rebuild ${id} is not recorded`);
      return row;
    });
    if (!ACTIVE_STATUSES.includes(rebuild.status)) return rebuild.status;
    try {
      return await this.steps(rebuild, step);
    } catch (error) {
      await step.do("record the failure", async () => {
        log.error("rebuild failed", { id, error: errorText(error) });
        // Before the takeover the new generation is discarded; a move that has happened stays (only the old
        // copy's drop failed, and the cron sweep retries it).
        const before = await setStatus(this.env, id, "failed", ["waiting", "scanning", "taking-over"], {
          error: errorText(error),
        });
        if (before) await discardGeneration(this.env, rebuild);
        else await setStatus(this.env, id, "failed", ["draining"], { error: errorText(error) });
        return true;
      });
      throw error;
    }
  }

  private async steps(rebuild: RebuildRow, step: WorkflowStep): Promise<string> {
    const { id } = rebuild;
    if (rebuild.mode === "move" && rebuild.tenant !== null) {
      const tenant = rebuild.tenant;
      await step.do("clear the target", async () => {
        const target = database(this.env, rebuild.target);
        await target.batch(dropTenant(target, tenant));
        return true;
      });
    }
    await step.sleep("let every projector see the rebuild", SETTLE_MS);
    if (!(await step.do("scan", () => setStatus(this.env, id, "scanning", ["waiting"])))) return "cancelled";

    const sources = await step.do("list the archive's prefixes", () => this.sources(rebuild.tenant));
    let total = 0;
    for (const [i, source] of sources.entries()) {
      let cursor: string | null = null;
      for (let page = 0; ; page++) {
        const counted: { n: number; cursor: string | null } = await step.do(
          `count ${i}.${page}`,
          RETRIES,
          () => this.count(source, cursor),
        );
        total += counted.n;
        cursor = counted.cursor;
        if (cursor === null) break;
      }
    }
    if (total === 0) {
      // An archive with nothing for a scope that has documents is the wrong bucket, or a lost one: taking over
      // from it would empty the read model. Stop, and leave the read model as it is.
      const live = await step.do("check an empty archive", () => this.hasDocuments(rebuild));
      if (live) {
        await step.do("refuse", () =>
          setStatus(this.env, id, "failed", ["scanning"], {
            error:
              "the archive holds no events for this scope, but the read model has documents: nothing was changed",
          }),
        );
        return "failed";
      }
    }
    await step.do("record the total", async () => {
      await this.env.DB.prepare("UPDATE rebuilds SET objects_total = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(id, total, Date.now())
        .run();
      return total;
    });

    const done = { objects: 0, events: 0 };
    for (const [i, source] of sources.entries()) {
      let cursor: string | null = null;
      for (let page = 0; ; page++) {
        const before = { ...done };
        const folded: FoldResult = await step.do(`fold ${i}.${page}`, RETRIES, () =>
          this.fold(rebuild, source, cursor, before),
        );
        if (folded.stopped) return "cancelled";
        done.objects += folded.objects;
        done.events += folded.events;
        cursor = folded.cursor;
        if (cursor === null) break;
      }
    }

    if (!(await step.do("begin the takeover", () => setStatus(this.env, id, "taking-over", ["scanning"])))) {
      return "cancelled";
    }
    if (rebuild.mode === "shadow") {
      await step.do("take over", RETRIES, () => this.takeOver(rebuild));
      await step.do("finish", () => setStatus(this.env, id, "done", ["taking-over"]));
      await step.sleep("let every projector stop mirroring", SETTLE_MS);
      await step.do("clean up", async () => {
        await discardGeneration(this.env, rebuild);
        return true;
      });
      return "done";
    }
    await step.do("move", RETRIES, () => this.move(rebuild));
    await step.sleep("drain the old database", assignmentCacheMs(this.env) + SETTLE_MS);
    await step.do("drop the old copy", RETRIES, () => this.dropSource(rebuild));
    await step.do("finish", () => setStatus(this.env, id, "done", ["draining"]));
    return "done";
  }

  /** Whether the rebuild's scope has any document in the read model now. */
  private async hasDocuments(rebuild: RebuildRow): Promise<boolean> {
    const databases =
      rebuild.tenant === null
        ? allDatabases(this.env).map((d) => d.db)
        : [await dbFor(this.env, rebuild.tenant)];
    for (const db of databases) {
      const found = await db
        .prepare(
          `SELECT 1 FROM documents WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR collection = ?2) LIMIT 1`,
        )
        .bind(rebuild.tenant, rebuild.collection)
        .first();
      if (found !== null) return true;
    }
    return false;
  }

  /** The prefixes of the archive the rebuild scans: its tenant's (or every tenant's), and the old layout's. */
  private async sources(tenant: string | null): Promise<Source[]> {
    const tops: string[] = [];
    let cursor: string | undefined;
    do {
      const listing = await this.env.ARCHIVE.list({ prefix: "events/", delimiter: "/", cursor });
      tops.push(...listing.delimitedPrefixes);
      cursor = listing.truncated ? listing.cursor : undefined;
    } while (cursor !== undefined);
    const sources: Source[] = [];
    for (const top of tops) {
      const name = top.slice("events/".length, -1);
      if (/^[0-9]{4}$/.test(name)) sources.push({ prefix: top, parts: 6 });
      if (tenant === null || name === tenant) sources.push({ prefix: top, parts: 7 });
    }
    return sources;
  }

  private async count(source: Source, cursor: string | null): Promise<{ n: number; cursor: string | null }> {
    const listing = await this.env.ARCHIVE.list({
      prefix: source.prefix,
      limit: COUNT_PAGE,
      ...(cursor === null ? {} : { cursor }),
    });
    const n = listing.objects.filter((o) => o.key.split("/").length === source.parts).length;
    return { n, cursor: listing.truncated ? listing.cursor : null };
  }

  /** Folds one page of archive objects into the new generation; records progress. */
  private async fold(
    rebuild: RebuildRow,
    source: Source,
    cursor: string | null,
    before: { objects: number; events: number },
  ): Promise<FoldResult> {
    const current = await rebuildById(this.env, rebuild.id);
    if (current === null || current.status !== "scanning")
      return { cursor: null, objects: 0, events: 0, stopped: true };
    const listing = await this.env.ARCHIVE.list({
      prefix: source.prefix,
      limit: FOLD_OBJECTS,
      ...(cursor === null ? {} : { cursor }),
    });
    const keys = listing.objects.map((o) => o.key).filter((key) => key.split("/").length === source.parts);
    const texts = await Promise.all(keys.map(async (key) => (await this.env.ARCHIVE.get(key))?.text() ?? ""));
    const seen = new Set<string>();
    const events: EventMessage[] = [];
    for (const line of texts.flatMap((text) => text.split("\n"))) {
      const event = parseArchiveLine(line);
      if (event === null || !covers(rebuild, event.tenant, event.collection)) continue;
      const key = `${objectName(event)}@${event.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      events.push(event);
    }
    const resolved = await Promise.all(events.map((e) => this.resolve(e)));
    const projectedAt = Date.now();
    const byDb = new Map<D1Database, EventMessage[]>();
    for (const event of resolved) {
      const db =
        rebuild.mode === "move" ? database(this.env, rebuild.target) : await dbFor(this.env, event.tenant);
      byDb.set(db, [...(byDb.get(db) ?? []), event]);
    }
    for (const [db, group] of byDb) {
      const documents =
        rebuild.mode === "move"
          ? documentsProjection.statements(db, group, projectedAt)
          : shadowStatements(db, rebuild.id, group, projectedAt);
      const feed = await this.feedStatements(db, group, projectedAt);
      const [first, ...rest] = [...documents, ...feed];
      if (first !== undefined) await db.batch([first, ...rest]);
    }
    const objects = before.objects + keys.length;
    await this.env.DB.prepare(
      "UPDATE rebuilds SET objects_read = ?2, events_read = ?3, updated_at = ?4 WHERE id = ?1",
    )
      .bind(rebuild.id, objects, before.events + events.length, Date.now())
      .run();
    return {
      cursor: listing.truncated ? listing.cursor : null,
      objects: keys.length,
      events: events.length,
      stopped: false,
    };
  }

  /**
   * The change feed's share of a fold: entries it lacks, restored (new ones get a new seq; those it holds keep
   * theirs), for changes committed within the retention window and after anything retention already pruned (a
   * pruned change lives on in its R2 segment, and must not come back under another seq).
   */
  private async feedStatements(
    db: D1Database,
    events: readonly EventMessage[],
    projectedAt: number,
  ): Promise<D1PreparedStatement[]> {
    const windowStart = Date.now() - configOf(this.env).feedRetentionMs + WINDOW_MARGIN_MS;
    const tenants = [...new Set(events.map((e) => e.tenant))];
    const horizons = new Map<string, number>();
    for (const tenant of tenants) {
      const pruned = await db
        .prepare("SELECT pruned_committed_at FROM feed_horizons WHERE tenant = ?")
        .bind(tenant)
        .first<number>("pruned_committed_at");
      horizons.set(tenant, Math.max(windowStart, (pruned ?? Number.NEGATIVE_INFINITY) + 1));
    }
    const restorable = events.filter((e) => e.committedAt >= (horizons.get(e.tenant) ?? windowStart));
    return restorable.length === 0 ? [] : changesProjection.statements(db, restorable, projectedAt);
  }

  /**
   * The event with its index values computed under the current declaration. A large state missing from R2 (swept,
   * or lost) is restored from the document's own log when it still has that version; otherwise the event's slots
   * stay empty, which only matters if it is the newest (and then the document has moved on, and its newer event
   * sets them).
   */
  private async resolve(event: EventMessage): Promise<EventMessage> {
    try {
      return await reindex(event, this.env.ARCHIVE);
    } catch (error) {
      if (event.dataRef === undefined) throw error;
      const key = { tenant: event.tenant, collection: event.collection, id: event.id };
      const found = await documentStub(this.env.DOCUMENTS, key).read(key, event.version);
      if (found.kind !== "found") return { ...event, index: [], ix: indexSignature(event.collection) };
      // The object answers with the document's envelope; R2 holds the bare state.
      const { data } = JSON.parse(found.body) as { data: unknown };
      await this.env.ARCHIVE.put(event.dataRef, JSON.stringify(data));
      return reindex(event, this.env.ARCHIVE);
    }
  }

  /** Replaces the scope's live documents with the rebuilt ones, in each database, once (a retry is a no-op). */
  private async takeOver(rebuild: RebuildRow): Promise<boolean> {
    const databases =
      rebuild.tenant === null
        ? allDatabases(this.env).map((d) => d.db)
        : [await dbFor(this.env, rebuild.tenant)];
    const now = Date.now();
    const guard = "NOT EXISTS (SELECT 1 FROM rebuild_takeovers WHERE rebuild_id = ?1)";
    const scope: string[] = [];
    const scopeArgs: string[] = [];
    if (rebuild.tenant !== null) {
      scope.push("tenant = ?2");
      scopeArgs.push(rebuild.tenant);
      if (rebuild.collection !== null) {
        scope.push("collection = ?3");
        scopeArgs.push(rebuild.collection);
      }
    }
    const columns =
      "tenant, collection, id, version, deleted, data, data_ref, created_at, updated_at, projected_at, k0, k1, k2, k3, ix";
    for (const db of databases) {
      await db.batch([
        db
          .prepare(`DELETE FROM documents WHERE ${[guard, ...scope].join(" AND ")}`)
          .bind(rebuild.id, ...scopeArgs),
        db
          .prepare(
            `INSERT INTO documents (${columns}) SELECT ${columns} FROM rebuild_documents
             WHERE rebuild_id = ?1 AND ${guard}`,
          )
          .bind(rebuild.id),
        db
          .prepare("INSERT OR IGNORE INTO rebuild_takeovers (rebuild_id, at) VALUES (?1, ?2)")
          .bind(rebuild.id, now),
        db.prepare("DELETE FROM rebuild_documents WHERE rebuild_id = ?1").bind(rebuild.id),
      ]);
    }
    return true;
  }

  /** Reassigns the tenant to the database it was rebuilt in; its feed epoch moves on (old cursors get 410). */
  private async move(rebuild: RebuildRow): Promise<boolean> {
    const tenant = rebuild.tenant ?? "";
    await this.env.DB.batch([
      this.env.DB.prepare(
        "UPDATE tenant_databases SET binding = ?2, epoch = epoch + 1 WHERE tenant = ?1 AND binding = ?3",
      ).bind(tenant, rebuild.target, rebuild.source),
      this.env.DB.prepare(
        "UPDATE rebuilds SET status = 'draining', updated_at = ?2 WHERE id = ?1 AND status = 'taking-over'",
      ).bind(rebuild.id, Date.now()),
    ]);
    forgetAssignment(tenant);
    return true;
  }

  /**
   * Drops the tenant's copy in the database it left. Events held there for a transaction that is not yet whole
   * go to the new database first, where they wait for the rest as before.
   */
  private async dropSource(rebuild: RebuildRow): Promise<boolean> {
    const tenant = rebuild.tenant ?? "";
    const source = database(this.env, rebuild.source ?? "DB");
    const target = database(this.env, rebuild.target);
    const { results } = await source
      .prepare("SELECT body FROM held_events WHERE tenant = ?")
      .bind(tenant)
      .all<{ body: string }>();
    const held = results.map((r) => JSON.parse(r.body) as unknown).filter(isEventMessage);
    if (held.length > 0) await projectInto(target, held, Date.now());
    await source.batch(dropTenant(source, tenant));
    return true;
  }
}
