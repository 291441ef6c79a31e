/**
 * Load generators: autocannon for closed-loop throughput; an open-loop, constant-arrival-rate one for latency.
 * Every request carries the credential the harness holds for the server (./credential), if any.
 */
import autocannon from "autocannon";
import { authHeaders } from "./credential";

export interface Measurement {
  /** Completed requests per second. */
  throughput: number;
  p50: number;
  p99: number;
  max: number;
  /** Requests that failed or answered other than 2xx. */
  errors: number;
  requests: number;
  /** Writes (PUT, POST, PATCH) that answered 2xx: each committed an event, which the harness waits to see projected. */
  writes: number;
  /**
   * Writes started, at least `writes`: those in flight when a closed-loop run stops go unanswered, and each may or
   * may not have committed.
   */
  writesStarted: number;
  /** What the errors were: `status 503`, `connection errors`, `timeouts`, with their counts. */
  errorKinds?: Record<string, number>;
}

export interface RequestSpec {
  method: "GET" | "PUT" | "POST" | "PATCH";
  /** Called for every request: vary ids per request here. */
  path: () => string;
  headers?: Record<string, string>;
  body?: () => string;
  /** Events a successful write commits (a transaction's writes: one per document); 1 when absent. */
  events?: number;
}

/** Closed loop: `connections` clients, each sending its next request when the last one answered. */
export async function closedLoop(
  url: string,
  mix: ReadonlyArray<{ weight: number; spec: RequestSpec }>,
  options: { connections: number; seconds: number },
): Promise<Measurement> {
  const total = mix.reduce((sum, m) => sum + m.weight, 0);
  const pick = (): RequestSpec => {
    let r = Math.random() * total;
    for (const m of mix) {
      r -= m.weight;
      if (r <= 0) return m.spec;
    }
    return (mix.at(-1) as { spec: RequestSpec }).spec;
  };
  let writes = 0;
  let writesStarted = 0;
  const base = { "content-type": "application/json", ...authHeaders(url) };
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    timeout: 10,
    requests: [
      {
        // A connection has one request in flight, so its context says what the answer is to.
        setupRequest: (request, context) => {
          const spec = pick();
          context.write = spec.method !== "GET";
          context.events = spec.events ?? 1;
          if (context.write) writesStarted += spec.events ?? 1;
          return {
            ...request,
            method: spec.method,
            path: spec.path(),
            headers: { ...base, ...spec.headers },
            ...(spec.body === undefined ? {} : { body: spec.body() }),
          };
        },
        onResponse: (status, _body, context) => {
          if (context.write === true && status >= 200 && status < 300) writes += Number(context.events ?? 1);
        },
      },
    ],
  });
  const completed = result["2xx"] + result.non2xx;
  const errorKinds: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    if (!code.startsWith("2")) errorKinds[`status ${code}`] = count;
  }
  if (result.errors - result.timeouts > 0) errorKinds["connection errors"] = result.errors - result.timeouts;
  if (result.timeouts > 0) errorKinds.timeouts = result.timeouts;
  return {
    errorKinds,
    throughput: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: completed,
    writes,
    writesStarted,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * Open loop at a constant arrival rate: request i is due at start + i / rate whether or not earlier ones have
 * answered, and its latency is measured from when it was due, so a stall shows up in every request it delays
 * (no coordinated omission).
 */
export async function openLoop(
  url: string,
  spec: RequestSpec,
  options: { rate: number; seconds: number },
): Promise<Measurement> {
  const count = Math.round(options.rate * options.seconds);
  const start = performance.now() + 50;
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const headers = { "content-type": "application/json", ...authHeaders(url), ...spec.headers };
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inflight.push(
      fetch(url + spec.path(), {
        method: spec.method,
        headers,
        ...(spec.body === undefined ? {} : { body: spec.body() }),
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (!res.ok) errors += 1;
        })
        .catch(() => {
          errors += 1;
        })
        .finally(() => latencies.push(performance.now() - due)),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    throughput: count / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
    errors,
    requests: count,
    writes: spec.method === "GET" ? 0 : (count - errors) * (spec.events ?? 1),
    writesStarted: spec.method === "GET" ? 0 : count * (spec.events ?? 1),
  };
}
