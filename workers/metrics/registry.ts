/**
 * Request metrics as each isolate counts them: counters and latency histograms in memory, keyed by name and
 * labels, handed to the durable aggregator (MetricsObject) in the background now and then. A request never waits
 * for them. What an isolate has not handed over when it dies is lost: at most FLUSH_EVERY_MS of its requests, or
 * FLUSH_AT_PENDING label sets' worth, whichever comes first.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Delta {
  readonly name: string;
  /** The labels, as canonical JSON (sorted keys): the series' identity. */
  readonly labels: string;
  readonly value: number;
}

/** Latency buckets, in milliseconds (the histogram's `le` bounds; +Inf is implied). */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export const FLUSH_EVERY_MS = 10_000;
const FLUSH_AT_PENDING = 2_000;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let text = "{";
  for (const [i, k] of keys.entries())
    text += `${i === 0 ? "" : ","}${JSON.stringify(k)}:${JSON.stringify(labels[k])}`;
  return `${text}}`;
}

export class Registry {
  private pending = new Map<string, Delta>();
  private lastFlush: number;

  constructor(now = Date.now()) {
    this.lastFlush = now;
  }

  inc(name: string, labels: Labels, by = 1): void {
    const key = labelKey(labels);
    const id = `${name}\n${key}`;
    const seen = this.pending.get(id);
    this.pending.set(id, { name, labels: key, value: (seen?.value ?? 0) + by });
  }

  /** A histogram observation: its bucket counters (cumulative, as Prometheus wants them), sum and count. */
  observe(name: string, labels: Labels, value: number): void {
    for (const le of LATENCY_BUCKETS_MS)
      if (value <= le) this.inc(`${name}_bucket`, { ...labels, le: String(le) });
    this.inc(`${name}_bucket`, { ...labels, le: "+Inf" });
    this.inc(`${name}_sum`, labels, value);
    this.inc(`${name}_count`, labels);
  }

  /** Whether it is time to hand the counts over. */
  due(now: number): boolean {
    return (
      this.pending.size > 0 &&
      (now - this.lastFlush >= FLUSH_EVERY_MS || this.pending.size >= FLUSH_AT_PENDING)
    );
  }

  /** Takes what is pending; give it back with `restore` if the hand-over fails. */
  drain(now: number): Delta[] {
    const deltas = [...this.pending.values()];
    this.pending = new Map();
    this.lastFlush = now;
    return deltas;
  }

  restore(deltas: readonly Delta[]): void {
    for (const d of deltas) {
      const id = `${d.name}\n${d.labels}`;
      const seen = this.pending.get(id);
      this.pending.set(id, { ...d, value: (seen?.value ?? 0) + d.value });
    }
  }
}

/** This isolate's registry. */
export const registry = new Registry();
