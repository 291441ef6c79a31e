/** CPU time of the workerd processes that serve our ports, from /proc: what a request costs, and whether all is quiet. */
import { readdirSync, readFileSync } from "node:fs";

const MS_PER_TICK = 10; // USER_HZ = 100

/** CPU ms used so far by the workerd process serving `port`. */
export function workerdCpuMs(port: number): number {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`entry=127.0.0.1:${port}`)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no workerd serves port ${port}`);
}

/**
 * Waits until every one of the workerd processes on `ports` has used under 1% of a core for `quietMs` (a system's
 * leftover work, such as outbox alarms or projection, must not run during another's measurement), or `limitMs`.
 * Returns how long it waited, and whether the processes did go quiet.
 */
export async function waitQuiet(
  ports: readonly number[],
  quietMs: number,
  limitMs = 120_000,
): Promise<{ waitedMs: number; quiet: boolean }> {
  const started = Date.now();
  let last = ports.map(workerdCpuMs);
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() - started < limitMs) {
    await new Promise((r) => setTimeout(r, 500));
    const now = ports.map(workerdCpuMs);
    if (now.some((ms, i) => ms - (last[i] ?? 0) > 5)) quietSince = Date.now();
    last = now;
  }
  return { waitedMs: Date.now() - started, quiet: Date.now() - quietSince >= quietMs };
}
