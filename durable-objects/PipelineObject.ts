/**
 * The pipeline monitor: how far behind the read side is, measured rather than guessed, and the recovery after a
 * fault. While anyone asks for the lag (every isolate does, in the background, while it serves writes), its
 * alarm sends a probe through the events queue every PROBE_EVERY_MS and reads from D1 when the projector saw the
 * earlier ones: the lag is the age of the oldest probe not yet seen, else the last one's transit time. Once the
 * pipeline takes probes again, it wakes the documents that reported a backed-off outbox, so that they send now
 * instead of when their backoff ends (minutes after a long fault). It keeps going, asked or not, while the read
 * side is behind or a document reports a backlog; the minute cron (the audit) starts it when a backlog is reported.
 */
import { DurableObject } from "cloudflare:workers";
import { errorText, log } from "../platform/log";
import { publishProbe } from "../platform/queue";
import { withTimeout } from "../platform/timeout";

export const PROBE_EVERY_MS = 2_000;
/** With nobody asking for this long, the monitor stops probing (an idle deployment costs nothing). */
const IDLE_AFTER_MS = 60_000;
/** Probes older than this are forgotten. */
const KEEP_PROBES_MS = 10 * 60_000;
/** The pipeline counts as taking events again once a probe went through within this long. */
const HEALTHY_TRANSIT_MS = 10_000;
/** At most this many backed-off documents are woken per round. */
const NUDGES_PER_ROUND = 100;

export interface PipelineLag {
  /** How far behind the read side is, in milliseconds. */
  readonly lagMs: number;
  /** When it was measured (epoch ms); 0 before the first measure. */
  readonly measuredAt: number;
}

interface ProbeRow {
  id: string;
  sent_at: number;
  projected_at: number | null;
}

export class PipelineObject extends DurableObject<Env> {
  private lagMs = 0;
  private measuredAt = 0;
  private askedAt = 0;
  private armed = false;

  /** The latest measure; asking keeps the probes going. */
  async lag(): Promise<PipelineLag> {
    this.askedAt = Date.now();
    if (!this.armed) {
      this.armed = true;
      await this.ctx.storage.setAlarm(Date.now());
    }
    return { lagMs: this.lagMs, measuredAt: this.measuredAt };
  }

  /** The latest measure, without asking for more (the audit's look: it must not keep the probes going). */
  peek(): PipelineLag {
    return { lagMs: this.lagMs, measuredAt: this.measuredAt };
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    let pending = false;
    try {
      await this.measure(now);
      await this.probe(now);
      if (this.measuredAt === now && this.lagMs < HEALTHY_TRANSIT_MS) await this.nudge(now);
      pending = await this.backlogReported();
    } catch (error) {
      log.warn("pipeline monitor round failed", { error: errorText(error) });
      pending = true; // a round that failed says nothing about the pipeline: look again
    }
    // Kept going while anyone asks, and also while the read side is behind or an outbox reports a backlog: a
    // drain after a fault or a restart has no writes to ask, and it is when the recovery matters.
    const behind = this.lagMs > PROBE_EVERY_MS;
    if (Date.now() - this.askedAt < IDLE_AFTER_MS || behind || pending) {
      await this.ctx.storage.setAlarm(now + PROBE_EVERY_MS);
    } else this.armed = false;
  }

  /** Whether any document reports events its outbox has not got into the change feed. */
  private async backlogReported(): Promise<boolean> {
    return (await this.env.DB.prepare("SELECT 1 FROM outbox_backlog LIMIT 1").first()) !== null;
  }

  private async measure(now: number): Promise<void> {
    const { results } = await this.env.DB.prepare(
      "SELECT id, sent_at, projected_at FROM pipeline_probes WHERE sent_at > ? ORDER BY sent_at",
    )
      .bind(now - KEEP_PROBES_MS)
      .all<ProbeRow>();
    // A probe the queue lost is never seen: once a later one went through, it says nothing any more.
    const seen = results.filter((p) => p.projected_at !== null).at(-1);
    const waiting = results.find(
      (p) =>
        p.projected_at === null &&
        now - p.sent_at > PROBE_EVERY_MS &&
        (seen === undefined || p.sent_at > seen.sent_at),
    );
    if (waiting !== undefined) this.lagMs = now - waiting.sent_at;
    else if (seen !== undefined) this.lagMs = Math.max(0, (seen.projected_at ?? now) - seen.sent_at);
    // Nothing sent yet, or every probe younger than a round: nothing says the read side is behind.
    else this.lagMs = 0;
    this.measuredAt = now;
  }

  private async probe(now: number): Promise<void> {
    const id = `p${now.toString(36)}${crypto.randomUUID().slice(0, 8)}`;
    await this.env.DB.batch([
      this.env.DB.prepare("INSERT OR IGNORE INTO pipeline_probes (id, sent_at) VALUES (?, ?)").bind(id, now),
      this.env.DB.prepare("DELETE FROM pipeline_probes WHERE sent_at < ?").bind(now - KEEP_PROBES_MS),
    ]);
    // A send that fails leaves the probe unseen: the lag it then shows grows, as the pipeline's does.
    await withTimeout(publishProbe(this.env.EVENTS, { probe: id, sentAt: now }), 5_000, "the queue");
  }

  /** Wakes documents whose outbox backed off: the pipeline takes events again. */
  private async nudge(now: number): Promise<void> {
    const { results } = await this.env.DB.prepare(
      `SELECT tenant, collection, id FROM outbox_backlog
       WHERE (retry_at IS NOT NULL AND retry_at > ?1) OR reported_at < ?2 ORDER BY reported_at LIMIT ?3`,
    )
      // Also reports older than five minutes: a document that restarted since may not know it reported.
      .bind(now + PROBE_EVERY_MS, now - 5 * 60_000, NUDGES_PER_ROUND)
      .all<{ tenant: string; collection: string; id: string }>();
    await Promise.allSettled(
      results.map((key) => {
        const stub = this.env.DOCUMENTS.get(
          this.env.DOCUMENTS.idFromName(`${key.tenant}/${key.collection}/${key.id}`),
        );
        return withTimeout(stub.nudge(key), 5_000, "a document");
      }),
    );
  }
}
