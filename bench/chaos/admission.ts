/**
 * Admission control, shown (`npx tsx bench/admission.ts`, or `npx tsx bench/chaos/run.ts --admission`): Tessera
 * under a slow projector (CHAOS_PROJECTOR_DELAY_MS in ./entry: every batch of the events queue waits, one at a
 * time) and a low MAX_PROJECTION_LAG_MS, with a burst of writes to the `alerts` collection (shedWhenBehind in
 * domain/collections.ts) from closed-loop clients that wait out Retry-After on a 503. Every answer's
 * Projection-Lag is sampled. Then the burst stops and one client writes a few times a second, to show when writes
 * are taken again as the lag drains.
 *
 * It prints a timeline (each second: writes taken, 503s, the lag the answers carried) and a summary: the highest
 * lag, how long it was above the bound, and how long after the burst writes were taken again. It fails (exit 1)
 * when no write was shed (the burst never pushed the lag past the bound: it shows nothing), when the lag ran away
 * (above twice the bound), or when writes were not taken again within the drain.
 *
 * `--delay-ms=N` (1000) the projector's delay per batch, `--bound-ms=N` (5000) MAX_PROJECTION_LAG_MS,
 * `--clients=N` (8), `--burst=S` (25) seconds of burst, `--drain=S` (60) seconds at most after it.
 */
import { resolve } from "node:path";
import { AUTH_BINDINGS, authFetch } from "../lib/credential";
import { bundle, start } from "../lib/server";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const clock = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  /** Seconds since the burst began. */
  readonly at: number;
  readonly status: number;
  /** The Projection-Lag header (null: none). */
  readonly lag: number | null;
  /** The Retry-After header of a 503, in seconds. */
  readonly retryAfter: number | null;
  readonly phase: "burst" | "after";
}

/** The lag each write really had: from its commit to its projection (the feed's committed_at, projected_at). */
interface Projected {
  /** Seconds since the burst began, when the write committed. */
  readonly at: number;
  readonly lagMs: number;
}

export async function admissionDemo(): Promise<void> {
  const settings = {
    delayMs: arg("delay-ms", 1000),
    boundMs: arg("bound-ms", 5000),
    clients: arg("clients", 8),
    burstSeconds: arg("burst", 25),
    drainSeconds: arg("drain", 60),
  };
  const root = resolve(import.meta.dirname, "../..");
  const script = bundle(
    { config: "wrangler.toml", entry: "bench/chaos/entry.ts" },
    resolve(root, "bench/.out/admission"),
  );
  const system = await start(
    {
      config: "wrangler.toml",
      entry: "bench/chaos/entry.ts",
      migrationsDir: "migrations",
      label: "admission",
      bindings: {
        LOG_LEVEL: process.env.CHAOS_LOG ?? "off",
        ...AUTH_BINDINGS,
        CHAOS_PROJECTOR_DELAY_MS: String(settings.delayMs),
        MAX_PROJECTION_LAG_MS: String(settings.boundMs),
      },
    },
    script,
    { port: 9510, persistDir: resolve(root, "bench/.state/admission"), fresh: true },
  );
  console.log(
    `admission: projector delay ${settings.delayMs} ms per batch, MAX_PROJECTION_LAG_MS ${settings.boundMs}, ` +
      `${settings.clients} clients writing alerts for ${settings.burstSeconds} s, then one write every 250 ms`,
  );
  const samples: Sample[] = [];
  const errors: string[] = [];
  let began = clock();
  const write = async (client: string, n: number, phase: Sample["phase"]): Promise<Sample | null> => {
    try {
      const res = await authFetch(`${system.url}/v1/alerts/${client}-${n % 25}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ level: "warning", client, n }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      const header = res.headers.get("projection-lag");
      const retryAfter = res.headers.get("retry-after");
      const sample: Sample = {
        at: (clock() - began) / 1000,
        status: res.status,
        lag: header === null ? null : Number(header),
        retryAfter: retryAfter === null ? null : Number(retryAfter),
        phase,
      };
      samples.push(sample);
      if (!res.ok && !(res.status === 503 && text.includes("projection-behind"))) {
        errors.push(`${res.status} ${text.slice(0, 200)}`);
      }
      return sample;
    } catch (error) {
      errors.push(`no answer: ${(error as Error).message}`);
      return null;
    }
  };
  try {
    // The monitor measures while it is asked: a first write starts it, and its first probes go through.
    await write("warmup", 0, "burst");
    await sleep(3000);
    samples.length = 0;
    began = clock();
    const beganEpoch = Date.now();
    const burstEnds = began + settings.burstSeconds * 1000;
    await Promise.all(
      Array.from({ length: settings.clients }, async (_, c) => {
        for (let n = 0; clock() < burstEnds; n++) {
          const sample = await write(`c${c}`, n, "burst");
          if (sample?.status === 503) {
            // Closed loop: the client waits as long as the answer asks.
            const retryAfter = sample.retryAfter ?? 1;
            await sleep(Math.min(retryAfter * 1000, Math.max(0, burstEnds - clock())));
          } else if (sample === null) await sleep(200);
        }
      }),
    );
    const stopped = (clock() - began) / 1000;
    // After the burst: one write every 250 ms, until writes are taken again and the lag they carry has stayed
    // under half the bound for 2 s.
    const drainEnds = clock() + settings.drainSeconds * 1000;
    let resumed: number | null = null;
    let settled: number | null = null;
    for (let n = 0; clock() < drainEnds; n++) {
      const sample = await write("after", n, "after");
      if (sample !== null && sample.status >= 200 && sample.status < 300) resumed ??= sample.at;
      if (resumed !== null && sample?.lag != null) {
        if (sample.lag >= settings.boundMs / 2) settled = null;
        else if (settled === null) settled = sample.at;
        else if (sample.at - settled >= 2) break;
      }
      await sleep(250);
    }
    // How long each write taken really waited, from the feed, once every one of them is there.
    const db = await system.mf.getD1Database("DB");
    const taken = samples.filter((s) => s.status >= 200 && s.status < 300).length;
    const projectedBy = clock() + 60_000;
    const query = () =>
      db
        .prepare(
          "SELECT committed_at, projected_at FROM changes WHERE collection = 'alerts' AND committed_at >= ?",
        )
        .bind(beganEpoch)
        .all<{ committed_at: number; projected_at: number }>();
    let rows = await query();
    while (rows.results.length < taken && clock() < projectedBy) {
      await sleep(1000);
      rows = await query();
    }
    if (rows.results.length < taken) {
      errors.push(
        `only ${rows.results.length} of the ${taken} writes taken reached the feed within a minute`,
      );
    }
    const projected = rows.results.map((r) => ({
      at: (r.committed_at - beganEpoch) / 1000,
      lagMs: r.projected_at - r.committed_at,
    }));
    report(samples, projected, settings, stopped, resumed, settled, errors);
  } finally {
    await system.stop();
  }
}

function report(
  samples: readonly Sample[],
  projected: readonly Projected[],
  settings: { boundMs: number; burstSeconds: number },
  stopped: number,
  resumed: number | null,
  settled: number | null,
  errors: readonly string[],
): void {
  const ok = (s: Sample) => s.status >= 200 && s.status < 300;
  const last = Math.ceil(samples.at(-1)?.at ?? 0);
  // Per second: the answers, the lag they said (Projection-Lag), and the lag the writes taken in it really had.
  console.log("   t  phase  taken   503   Projection-Lag ms (max)   true lag of its writes ms (max)");
  for (let t = 0; t < last; t++) {
    const bucket = samples.filter((s) => s.at >= t && s.at < t + 1);
    const lags = bucket.flatMap((s) => (s.lag === null ? [] : [s.lag]));
    const real = projected.filter((p) => p.at >= t && p.at < t + 1).map((p) => p.lagMs);
    const phase = bucket[0]?.phase ?? (t < stopped ? "burst" : "after");
    const said = lags.length === 0 ? "-" : String(Math.max(...lags));
    const mark = lags.some((l) => l > settings.boundMs) ? " >" : "  ";
    console.log(
      `${String(t).padStart(4)}  ${phase.padEnd(5)} ${String(bucket.filter(ok).length).padStart(6)} ` +
        `${String(bucket.filter((s) => s.status === 503).length).padStart(5)}   ${said.padStart(22)}${mark} ` +
        `${(real.length === 0 ? "-" : String(Math.max(...real))).padStart(30)}`,
    );
  }
  // Time above the bound: from each answer whose lag was above it to the next answer.
  const ordered = [...samples].filter((s) => s.lag !== null).sort((a, b) => a.at - b.at);
  let above = 0;
  for (const [i, s] of ordered.entries()) {
    const next = ordered[i + 1];
    if (next !== undefined && (s.lag ?? 0) > settings.boundMs) above += next.at - s.at;
  }
  const maxLag = Math.max(0, ...ordered.map((s) => s.lag ?? 0));
  const burst = samples.filter((s) => s.phase === "burst");
  const shed = burst.filter((s) => s.status === 503).length;
  const lagAtStop = [...burst].reverse().find((s) => s.lag !== null)?.lag ?? null;
  const trueMax = Math.max(0, ...projected.map((p) => p.lagMs));
  const trueAbove = projected.filter((p) => p.lagMs > settings.boundMs).length;
  console.log(
    `summary: bound ${settings.boundMs} ms; burst ${settings.burstSeconds} s: ${burst.filter(ok).length} writes taken, ` +
      `${shed} shed (503 projection-behind); max lag ${maxLag} ms (${(maxLag / settings.boundMs).toFixed(2)} x the bound), ` +
      `above the bound for ${above.toFixed(1)} s in all; lag ${lagAtStop ?? "?"} ms when the burst stopped at ${stopped.toFixed(1)} s; ` +
      `true lag of the writes taken: max ${trueMax} ms (${(trueMax / settings.boundMs).toFixed(2)} x the bound), ` +
      `${trueAbove} of ${projected.length} above the bound; ` +
      `writes taken again ${resumed === null ? "NEVER" : `${Math.max(0, resumed - stopped).toFixed(1)} s after it`}, ` +
      `lag under half the bound ${settled === null ? "never" : `${Math.max(0, settled - stopped).toFixed(1)} s after it`}; ` +
      `other errors ${errors.length}${errors.length === 0 ? "" : ` (${errors.slice(0, 3).join("; ")})`}`,
  );
  const failures = [
    ...(shed === 0 ? ["no write was shed: the burst never took the lag past the bound"] : []),
    ...(Math.max(maxLag, trueMax) > 2 * settings.boundMs
      ? [`the lag reached ${Math.max(maxLag, trueMax)} ms, over twice the bound: it does not stay near it`]
      : []),
    ...(resumed === null ? ["writes were not taken again after the burst"] : []),
  ];
  for (const f of failures) console.log(`FAIL: ${f}`);
  console.log(`verdict: ${failures.length === 0 ? "PASS" : "FAIL"}`);
  if (failures.length > 0) process.exitCode = 1;
}
