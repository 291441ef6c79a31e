/**
 * The projector: applies a batch of events to the read model (documents, change feed) in one D1 batch of a few
 * set-based statements, and archives them to R2. Idempotent and order-independent. States arrive as JSON text and
 * index values computed at commit, so nothing here parses a document, and a large state is never loaded (its R2
 * reference is stored). Acks and retries per message: if the whole batch fails, each message is applied alone so
 * that one poison event cannot hold the others back.
 */
import {
  type EventMessage,
  isEventMessage,
  isProbeMessage,
  type ProbeMessage,
} from "../../domain/event-message";
import { objectName } from "../../domain/keys";
import { errorText, log } from "../../platform/log";
import { covers, type RebuildRow } from "../maintenance/rebuilds";
import { archiveEvents } from "./archive";
import { needsOrdering, settle } from "./held";
import { changesProjection } from "./projections/changes";
import { documentsProjection, shadowStatements } from "./projections/documents";
import type { Projection } from "./projections/types";
import { reindex } from "./reindex";

export const PROJECTIONS: readonly Projection[] = [documentsProjection, changesProjection];

/** Delay before a failed message is delivered again: exponential in its attempts, capped at five minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts - 1));
}

export interface ProjectorDeps {
  /** The primary database: pipeline probes. */
  readonly db: D1Database;
  readonly archive: R2Bucket;
  readonly now?: () => number;
  /** The database of a tenant's read model (the primary when there is one database). */
  readonly dbOf?: (tenant: string) => Promise<D1Database>;
  /**
   * The rebuilds under way (workers/maintenance/rebuilds.ts): what this batch projects goes into their generations
   * too. Asked after the batch is archived, so that a rebuild's scan of the archive, which starts once every
   * projector sees it, misses no event that is projected without it.
   */
  readonly rebuilds?: () => Promise<RebuildRow[]>;
  /** A read-model database by binding name (the target of a move). */
  readonly databaseOf?: (binding: string) => D1Database;
}

/** What a batch's rebuilds ask of it: shadow generations beside the live rows, and moves into another database. */
interface Mirrors {
  readonly shadows: readonly RebuildRow[];
  readonly moves: ReadonlyArray<{ rebuild: RebuildRow; db: D1Database }>;
}

const NO_MIRRORS: Mirrors = { shadows: [], moves: [] };

function fail(message: Message, reason: string, detail: unknown): void {
  log.warn("projection failed; retrying message", {
    reason,
    messageId: message.id,
    attempts: message.attempts,
    error: errorText(detail),
  });
  message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
}

function statements(db: D1Database, events: readonly EventMessage[], projectedAt: number) {
  return PROJECTIONS.flatMap((p) => {
    const handled = events.filter((e) => p.handles.includes(e.type));
    return handled.length === 0 ? [] : p.statements(db, handled, projectedAt);
  });
}

export async function projectBatch(batch: MessageBatch<unknown>, deps: ProjectorDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const valid: Array<{ message: Message; event: EventMessage }> = [];

  const probes: Array<{ message: Message; probe: ProbeMessage }> = [];
  for (const message of batch.messages) {
    if (isEventMessage(message.body)) valid.push({ message, event: message.body });
    else if (isProbeMessage(message.body)) probes.push({ message, probe: message.body });
    else fail(message, "malformed", "not an EventMessage");
  }
  if (probes.length > 0) await recordProbes(deps.db, probes, now());
  const ready = (
    await Promise.all(
      valid.map(async ({ message, event }) => {
        try {
          return [{ message, event: await reindex(event, deps.archive) }];
        } catch (error) {
          fail(message, "reindex-failed", error);
          return [];
        }
      }),
    )
  ).flat();
  if (ready.length === 0) return;

  try {
    await archiveEvents(
      deps.archive,
      ready.map((r) => r.event),
      `${now()}-${crypto.randomUUID()}`,
    );
  } catch (error) {
    for (const { message } of ready) fail(message, "archive-failed", error);
    return;
  }

  let mirrors = NO_MIRRORS;
  try {
    const rebuilds = (await deps.rebuilds?.()) ?? [];
    if (rebuilds.length > 0) {
      const databaseOf = deps.databaseOf ?? (() => deps.db);
      mirrors = {
        shadows: rebuilds.filter((r) => r.mode === "shadow"),
        moves: rebuilds
          .filter((r) => r.mode === "move")
          .map((rebuild) => ({ rebuild, db: databaseOf(rebuild.target) })),
      };
    }
  } catch (error) {
    // Projecting without knowing would leave a rebuild's generation short of these events.
    for (const { message } of ready) fail(message, "rebuilds-unknown", error);
    return;
  }

  const projectedAt = now();
  // Each tenant's events go to its own database: one D1 batch per database, so one's failure holds no other back.
  const dbOf = deps.dbOf ?? (async () => deps.db);
  const byDb = new Map<D1Database, Array<{ message: Message; event: EventMessage }>>();
  try {
    for (const r of ready) {
      const db = await dbOf(r.event.tenant);
      byDb.set(db, [...(byDb.get(db) ?? []), r]);
    }
  } catch (error) {
    for (const { message } of ready) fail(message, "database-unknown", error);
    return;
  }
  await Promise.all([...byDb].map(([db, group]) => applyGroup(db, group, projectedAt, mirrors)));
}

/**
 * Applies one database's share of a batch in one D1 batch; if it fails, each message alone (find the poison). A
 * message is acked once its events are in every generation under way too.
 */
async function applyGroup(
  db: D1Database,
  group: ReadonlyArray<{ message: Message; event: EventMessage }>,
  projectedAt: number,
  mirrors: Mirrors,
): Promise<void> {
  try {
    await applyEvents(
      db,
      group.map((r) => r.event),
      projectedAt,
      mirrors,
    );
    for (const { message } of group) message.ack();
    return;
  } catch {
    // Find the poison: apply each message in its own transaction.
  }
  for (const { message, event } of group) {
    try {
      await applyEvents(db, [event], projectedAt, mirrors);
      message.ack();
    } catch (error) {
      fail(message, "d1-failed", error);
    }
  }
}

async function applyEvents(
  db: D1Database,
  events: readonly EventMessage[],
  projectedAt: number,
  mirrors: Mirrors,
): Promise<void> {
  // A shadow generation lives beside the live rows: its upserts join the live batch (one transaction).
  const shadow = (applied: readonly EventMessage[]) =>
    mirrors.shadows.flatMap((r) => {
      const covered = applied.filter((e) => covers(r, e.tenant, e.collection));
      return covered.length === 0 ? [] : shadowStatements(db, r.id, covered, projectedAt);
    });
  await db.batch(await plan(db, events, projectedAt, shadow));
  // A move builds in another database: the same events go there too, as its own projection.
  for (const { rebuild, db: target } of mirrors.moves) {
    if (target === db) continue;
    const covered = events.filter((e) => covers(rebuild, e.tenant, e.collection));
    if (covered.length > 0) await projectInto(target, covered, projectedAt);
  }
}

/** Projects `events` into `db` as the projector does (held transactions and all), in one D1 batch. */
export async function projectInto(
  db: D1Database,
  events: readonly EventMessage[],
  projectedAt: number,
): Promise<void> {
  await db.batch(await plan(db, events, projectedAt));
}

/** A probe's arrival, recorded (the monitor measures the pipeline by it); a failure only delays the measure. */
async function recordProbes(
  db: D1Database,
  probes: ReadonlyArray<{ message: Message; probe: ProbeMessage }>,
  at: number,
): Promise<void> {
  try {
    await db.batch(
      probes.map(({ probe }) =>
        db
          .prepare(
            `INSERT INTO pipeline_probes (id, sent_at, projected_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET projected_at = coalesce(projected_at, excluded.projected_at)`,
          )
          .bind(probe.probe, probe.sentAt, at),
      ),
    );
    for (const { message } of probes) message.ack();
  } catch (error) {
    for (const { message } of probes) fail(message, "probe-not-recorded", error);
  }
}

/**
 * The D1 statements that project `events`: those that need no ordering at once, the others as the transaction
 * rules allow (see held.ts): applied now, or held until what they wait for arrives. One batch, one D1 transaction.
 */
async function plan(
  db: D1Database,
  events: readonly EventMessage[],
  projectedAt: number,
  shadow: (applied: readonly EventMessage[]) => D1PreparedStatement[] = () => [],
): Promise<[D1PreparedStatement, ...D1PreparedStatement[]]> {
  const free = events.filter((e) => !needsOrdering(e));
  const ordered = events.filter(needsOrdering);
  let apply = free;
  const extra: D1PreparedStatement[] = [];
  if (ordered.length > 0) {
    const settlement = await settle(
      db,
      ordered,
      new Set(free.map((e) => `${objectName(e)}@${e.version}`)),
      projectedAt,
    );
    apply = [...free, ...settlement.apply];
    extra.push(...settlement.statements);
  }
  const all = [...statements(db, apply, projectedAt), ...extra, ...shadow(apply)];
  // A batch with nothing to apply (every event held, or duplicates) still runs one harmless statement.
  const [first = db.prepare("SELECT 1"), ...rest] = all;
  return [first, ...rest];
}
