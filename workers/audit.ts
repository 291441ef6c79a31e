/**
 * The continuous audit (a cron trigger, every minute): samples documents, compares each object's version with
 * the read model's, counts the mismatches that are older than the pipeline's lag can explain, and repairs them by
 * having the object send its events again (the projector applies what the read model lacks and ignores the
 * rest). Its cost per run and read-model database: a D1 batch of one query per sample and another to read
 * the sampled rows, and one object call per sampled document (two for one it repairs).
 */

import { allDatabases } from "../platform/databases";
import { errorText, log } from "../platform/log";
import { withTimeout } from "../platform/timeout";

/** Documents sampled per run. */
export const AUDIT_SAMPLES = 20;
/** A mismatch counts once the object's write is this much older than the pipeline's current lag. */
const GRACE_MS = 30_000;
/** Versions sent again per repaired document, at most (the newest ones). */
const REPAIR_VERSIONS = 100;

export interface AuditReport {
  readonly sampled: number;
  readonly mismatches: number;
  readonly repaired: number;
}

interface Sampled {
  tenant: string;
  collection: string;
  id: string;
}

/** Random documents of the change feed (all of them when it holds few). */
async function sample(db: D1Database, n: number): Promise<Sampled[]> {
  const range = await db
    .prepare("SELECT min(seq) AS lo, max(seq) AS hi FROM changes")
    .first<{ lo: number | null; hi: number | null }>();
  if (range?.lo === null || range?.hi === null || range === null) return [];
  const { lo, hi } = range as { lo: number; hi: number };
  const statements =
    hi - lo + 1 <= n * 2
      ? [db.prepare("SELECT DISTINCT tenant, collection, id FROM changes")]
      : Array.from({ length: n }, () =>
          db
            .prepare("SELECT tenant, collection, id FROM changes WHERE seq >= ? ORDER BY seq LIMIT 1")
            .bind(lo + Math.floor(Math.random() * (hi - lo + 1))),
        );
  const results = await db.batch<Sampled>(statements);
  const seen = new Map<string, Sampled>();
  for (const row of results.flatMap((r) => r.results))
    seen.set(`${row.tenant}/${row.collection}/${row.id}`, row);
  return [...seen.values()].filter((d) => !d.tenant.startsWith("_"));
}

export async function runAudit(
  env: Env,
  options: { now?: number; samples?: number } = {},
): Promise<AuditReport> {
  const now = options.now ?? Date.now();
  // Each read-model database is sampled on its own: its documents and its rows.
  const sampled = await Promise.all(
    allDatabases(env).map(async ({ db }) => {
      const found = await sample(db, options.samples ?? AUDIT_SAMPLES);
      if (found.length === 0) return [];
      const rows = await db.batch<{ version: number }>(
        found.map((d) =>
          db
            .prepare("SELECT version FROM documents WHERE tenant = ? AND collection = ? AND id = ?")
            .bind(d.tenant, d.collection, d.id),
        ),
      );
      return found.map((doc, i) => ({ doc, projected: rows[i]?.results[0]?.version ?? 0 }));
    }),
  );
  const docs = sampled.flat();
  if (docs.length === 0) return { sampled: 0, mismatches: 0, repaired: 0 };
  // The monitor's last measure, without asking for more: the audit must not keep the probes going on its own,
  // except while documents report a backlog, when the monitor's rounds are what wakes them (after a restart, no
  // write may come to start it).
  const monitor = env.PIPELINE.get(env.PIPELINE.idFromName("pipeline"));
  const backlog = await env.DB.prepare("SELECT 1 FROM outbox_backlog LIMIT 1")
    .first()
    .catch(() => null);
  const lag = await (backlog === null ? monitor.peek() : monitor.lag()).then((l) => l.lagMs).catch(() => 0);
  let mismatches = 0;
  let repaired = 0;
  const byTenant = new Map<string, number>();
  await Promise.all(
    docs.map(async ({ doc, projected }) => {
      const stub = env.DOCUMENTS.get(env.DOCUMENTS.idFromName(`${doc.tenant}/${doc.collection}/${doc.id}`));
      try {
        const head = await withTimeout(stub.head(doc), 5_000, "a document");
        if (head === null) return;
        if (projected >= head.version || head.committedAt > now - lag - GRACE_MS) return;
        mismatches += 1;
        byTenant.set(doc.tenant, (byTenant.get(doc.tenant) ?? 0) + 1);
        const from = Math.max(projected + 1, head.version - REPAIR_VERSIONS + 1);
        await withTimeout(stub.resend(doc, from, head.version), 10_000, "a document");
        repaired += 1;
      } catch (error) {
        log.warn("audit could not check a document", { error: errorText(error) });
      }
    }),
  );
  const metrics = env.METRICS.get(env.METRICS.idFromName("global"));
  await metrics
    .add([
      { name: "tessera_audit_samples_total", labels: "{}", value: docs.length },
      ...[...byTenant].map(([tenant, n]) => ({
        name: "tessera_audit_mismatches_total",
        labels: JSON.stringify({ tenant }),
        value: n,
      })),
    ])
    .catch((error: unknown) => log.warn("audit metrics not recorded", { error: errorText(error) }));
  if (mismatches > 0) log.warn("audit found the read model behind its objects", { mismatches, repaired });
  return { sampled: docs.length, mismatches, repaired };
}
