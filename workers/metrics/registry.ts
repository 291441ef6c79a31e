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

/** A label set's identity for the memo: the metric and the label names and values, in the caller's order. */
function memoKey(name: string, labels: Labels): string {
  let text = name;
  for (const k in labels) text += `\u0000${k}\u0001${labels[k]}`;
  return text;
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let text = "{";
  for (const [i, k] of keys.entries())
    text += `${i === 0 ? "" : ","}${JSON.stringify(k)}:${JSON.stringify(labels[k])}`;
  return `${text}}`;
}

/** A series as the registry keys it: its id in the pending map, and its labels as canonical JSON. */
interface Series {
  readonly id: string;
  readonly labels: string;
}

/** A histogram's series for one label set: a bucket per bound (and +Inf), its sum and its count. */
interface HistogramSeries {
  readonly buckets: readonly Series[];
  readonly sum: Series;
  readonly count: Series;
}

/** Past this many remembered label sets the memo starts afresh (labels come from routes and tenants). */
const MEMO_LIMIT = 10_000;

export class Registry {
  private pending = new Map<string, Delta>();
  private lastFlush: number;
  /**
   * Series by metric name and label values, so that a request's fifteen or so increments build their canonical
   * label JSON once per label set, not once per increment.
   */
  private series = new Map<string, Series>();
  private histograms = new Map<string, HistogramSeries>();

  constructor(now = Date.now()) {
    this.lastFlush = now;
  }

  inc(name: string, labels: Labels, by = 1): void {
    this.add(name, this.seriesOf(name, labels), by);
  }

  /** A histogram observation: its bucket counters (cumulative, as Prometheus wants them), sum and count. */
  observe(name: string, labels: Labels, value: number): void {
    const h = this.histogramOf(name, labels);
    const bucket = `${name}_bucket`;
    for (const [i, le] of LATENCY_BUCKETS_MS.entries()) {
      const series = h.buckets[i];
      if (value <= le && series !== undefined) this.add(bucket, series, 1);
    }
    const inf = h.buckets[LATENCY_BUCKETS_MS.length];
    if (inf !== undefined) this.add(bucket, inf, 1);
    this.add(`${name}_sum`, h.sum, value);
    this.add(`${name}_count`, h.count, 1);
  }

  private add(name: string, series: Series, by: number): void {
    const seen = this.pending.get(series.id);
    this.pending.set(series.id, { name, labels: series.labels, value: (seen?.value ?? 0) + by });
  }

  private seriesOf(name: string, labels: Labels): Series {
    const memo = memoKey(name, labels);
    let series = this.series.get(memo);
    if (series === undefined) {
      if (this.series.size >= MEMO_LIMIT) this.series.clear();
      const key = labelKey(labels);
      series = { id: `${name}\n${key}`, labels: key };
      this.series.set(memo, series);
    }
    return series;
  }

  private histogramOf(name: string, labels: Labels): HistogramSeries {
    const memo = memoKey(name, labels);
    let h = this.histograms.get(memo);
    if (h === undefined) {
      if (this.histograms.size >= MEMO_LIMIT) this.histograms.clear();
      const one = (metric: string, l: Labels): Series => {
        const key = labelKey(l);
        return { id: `${metric}\n${key}`, labels: key };
      };
      h = {
        buckets: [...LATENCY_BUCKETS_MS.map(String), "+Inf"].map((le) =>
          one(`${name}_bucket`, { ...labels, le }),
        ),
        sum: one(`${name}_sum`, labels),
        count: one(`${name}_count`, labels),
      };
      this.histograms.set(memo, h);
    }
    return h;
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
