/**
 * Readiness: whether each dependency answers (a D1 read, an R2 head, a queue send, a document object's round
 * trip), each within CHECK_TIMEOUT_MS, the answer cached for CACHE_MS per isolate so that probes cannot load them.
 */

import { allDatabases } from "../platform/databases";
import { errorText } from "../platform/log";
import { publishProbe } from "../platform/queue";
import { withTimeout } from "../platform/timeout";

const CHECK_TIMEOUT_MS = 1_000;
export const READINESS_CACHE_MS = 5_000;

export type Checks = Record<"d1" | "r2" | "queue" | "objects", string>;

let cached: { at: number; checks: Promise<Checks> } | null = null;

async function check(what: string, run: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(run(), CHECK_TIMEOUT_MS, what);
    return "ok";
  } catch (error) {
    return `failed: ${errorText(error)}`;
  }
}

async function runChecks(env: Env, now: number): Promise<Checks> {
  const key = { tenant: "_health", collection: "_health", id: "_health" };
  const [d1, r2, queue, objects] = await Promise.all([
    check("D1", () => Promise.all(allDatabases(env).map(({ db }) => db.prepare("SELECT 1").first()))),
    check("R2", () => env.ARCHIVE.head("health/ready")),
    // A probe: the projector records it like the pipeline monitor's, and it goes nowhere else.
    check("the queue", () => publishProbe(env.EVENTS, { probe: `ready-${now.toString(36)}`, sentAt: now })),
    // A read of a document that never exists: a round trip that stores nothing.
    check("a document object", () =>
      env.DOCUMENTS.get(env.DOCUMENTS.idFromName("_health/_health/_health")).read(key),
    ),
  ]);
  return { d1, r2, queue, objects };
}

/** The dependencies' state, from this isolate's cache when it is younger than READINESS_CACHE_MS. */
export function readiness(env: Env, now = Date.now()): Promise<Checks> {
  if (cached === null || now - cached.at >= READINESS_CACHE_MS)
    cached = { at: now, checks: runChecks(env, now) };
  return cached.checks;
}
