/**
 * The durable aggregator of request metrics: isolates hand it their counts in the background (see
 * workers/metrics/registry.ts), it adds them up in SQLite, and /metrics reads the totals. One object for the
 * deployment: each isolate calls it at most once every ten seconds.
 */
import { DurableObject } from "cloudflare:workers";
import type { Delta } from "../workers/metrics/registry";

export interface Series {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The most series one call may add: a bound on a hostile or broken caller. */
const MAX_DELTAS = 10_000;

export class MetricsObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS counters (
         name TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (name, labels))`,
    );
  }

  /** Adds an isolate's counts, in one transaction. */
  add(deltas: readonly Delta[]): void {
    if (deltas.length > MAX_DELTAS) throw new Error(`at most ${MAX_DELTAS} series per call`);
    this.ctx.storage.transactionSync(() => {
      for (const d of deltas) {
        this.ctx.storage.sql.exec(
          `INSERT INTO counters (name, labels, value) VALUES (?, ?, ?)
           ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value`,
          d.name,
          d.labels,
          d.value,
        );
      }
    });
  }

  /** Every series, or those whose `tenant` label is `tenant`. */
  totals(tenant: string | null): Series[] {
    const rows = this.ctx.storage.sql
      .exec<{ name: string; labels: string; value: number }>(
        "SELECT name, labels, value FROM counters ORDER BY name, labels",
      )
      .toArray();
    const series = rows.map((r) => ({
      name: r.name,
      labels: JSON.parse(r.labels) as Record<string, string>,
      value: r.value,
    }));
    return tenant === null ? series : series.filter((s) => s.labels.tenant === tenant);
  }
}
