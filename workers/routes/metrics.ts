/**
 * GET /metrics, in Prometheus's text format: request metrics the isolates counted (added up by MetricsObject),
 * and the pipeline's state read from D1: projection lag, events projected, the change feed's head, the outbox
 * backlog, dead letters, redrives, held transaction events, documents and bytes. A tenant's admin sees its own
 * tenant's series; the operator sees every tenant's.
 */
import { z } from "@hono/zod-openapi";
import { NAME } from "../../domain/keys";
import type { Series } from "../../durable-objects/MetricsObject";
import { allDatabases, dbFor } from "../../platform/databases";
import { parseWith } from "../http/validate";
import { type Family, render, type Sample } from "../metrics/exposition";
import { LATENCY_BUCKETS_MS } from "../metrics/registry";
import { orUnavailable } from "../read-model/d1";
import { needs } from "../security/principal";
import { operationsTenant } from "../security/tenancy";
import { problems } from "./openapi";
import { type Route, route } from "./table";

const Query = z.object({
  tenant: z
    .string()
    .regex(NAME)
    .optional()
    .openapi({ description: "for the operator: one tenant (all when absent)" }),
});

const HELP: Record<string, { help: string; type: Family["type"] }> = {
  tessera_http_requests_total: {
    help: "Requests answered, by route, method, status class and tenant.",
    type: "counter",
  },
  tessera_http_request_duration_ms: {
    help: "Request latency in milliseconds, by route and tenant.",
    type: "histogram",
  },
  tessera_http_errors_total: { help: "Problem answers, by problem code and tenant.", type: "counter" },
  tessera_transactions_total: { help: "Transactions, by outcome and tenant.", type: "counter" },
  tessera_sagas_total: { help: "Sagas finished, by outcome and tenant.", type: "counter" },
};

/** Request metrics from the aggregator, as families (histogram parts folded under their base name). */
function requestFamilies(series: readonly Series[]): Family[] {
  const families = new Map<string, Sample[]>();
  for (const s of series) {
    const base = s.name.replace(/_(bucket|sum|count)$/, "");
    const family = HELP[base] !== undefined ? base : s.name;
    families.set(family, [
      ...(families.get(family) ?? []),
      { name: s.name, labels: s.labels, value: s.value },
    ]);
  }
  return [...families].map(([name, samples]) => ({
    name,
    help: HELP[name]?.help ?? name,
    type: HELP[name]?.type ?? "counter",
    samples,
  }));
}

interface PipelineRows {
  stats: Array<{ tenant: string; collection: string; documents: number; bytes: number; events: number }>;
  lags: Array<{ tenant: string; lag: number }>;
  head: Array<{ tenant: string; head: number }>;
  backlog: Array<{ tenant: string; events: number; objects: number }>;
  dead: Array<{ tenant: string | null; pending: number; total: number; redriven: number }>;
  held: Array<{ tenant: string; held: number }>;
}

const scoped = (tenant: string | null, column = "tenant") => (tenant === null ? "" : `WHERE ${column} = ?1`);

/** The pipeline's state: each read-model database's share (`dbs`), and the primary's (dead letters, backlog). */
async function pipeline(
  dbs: readonly D1Database[],
  primary: D1Database,
  tenant: string | null,
): Promise<PipelineRows> {
  const bind = (db: D1Database, sql: string) =>
    tenant === null ? db.prepare(sql) : db.prepare(sql).bind(tenant);
  const perDb = await Promise.all(
    dbs.map((db) =>
      db.batch<Record<string, number | string | null>>([
        bind(
          db,
          `SELECT tenant, collection, documents, bytes, events FROM collection_stats ${scoped(tenant)}`,
        ),
        // The lag of each tenant's most recent 1,000 projected changes (the window /v1/_stats reports too).
        bind(
          db,
          `SELECT tenant, projected_at - committed_at AS lag FROM (SELECT tenant, projected_at, committed_at
           FROM changes ${scoped(tenant)} ORDER BY seq DESC LIMIT 1000)`,
        ),
        bind(db, `SELECT tenant, max(seq) AS head FROM changes ${scoped(tenant)} GROUP BY tenant`),
        bind(db, `SELECT tenant, count(*) AS held FROM held_events ${scoped(tenant)} GROUP BY tenant`),
      ]),
    ),
  );
  const fromPrimary = await primary.batch<Record<string, number | string | null>>([
    bind(
      primary,
      `SELECT tenant, sum(events) AS events, count(*) AS objects FROM outbox_backlog ${scoped(tenant)} GROUP BY tenant`,
    ),
    bind(
      primary,
      `SELECT tenant, sum(redriven_at IS NULL) AS pending, count(*) AS total, sum(redriven_at IS NOT NULL) AS redriven
       FROM dead_letters ${scoped(tenant)} GROUP BY tenant`,
    ),
  ]);
  const rows = <T>(i: number) => perDb.flatMap((r) => (r[i]?.results ?? []) as T[]);
  const primaryRows = <T>(i: number) => (fromPrimary[i]?.results ?? []) as T[];
  return {
    stats: rows(0),
    lags: rows(1),
    head: rows(2),
    held: rows(3),
    backlog: primaryRows(0),
    dead: primaryRows(1),
  };
}

/** A family with one sample per row: its labels and value from `sample`. */
function family<Row>(
  name: string,
  type: Family["type"],
  help: string,
  rows: readonly Row[],
  sample: (row: Row) => [Sample["labels"], number],
): Family {
  return {
    name,
    help,
    type,
    samples: rows.map((row) => {
      const [labels, value] = sample(row);
      return { name, labels, value };
    }),
  };
}

function pipelineFamilies(p: PipelineRows): Family[] {
  const lagSamples: Sample[] = [];
  const byTenant = new Map<string, number[]>();
  for (const { tenant, lag } of p.lags) byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), lag]);
  for (const [tenant, lags] of byTenant) {
    for (const le of [...LATENCY_BUCKETS_MS.map(String), "+Inf"]) {
      const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
      lagSamples.push({
        name: "tessera_projection_lag_ms_bucket",
        labels: { tenant, le },
        value: lags.filter((l) => l <= bound).length,
      });
    }
    lagSamples.push({
      name: "tessera_projection_lag_ms_sum",
      labels: { tenant },
      value: lags.reduce((a, b) => a + b, 0),
    });
    lagSamples.push({ name: "tessera_projection_lag_ms_count", labels: { tenant }, value: lags.length });
  }
  const dead = (tenant: string | null) => tenant ?? "-";
  return [
    {
      name: "tessera_projection_lag_ms",
      help: "Commit-to-read-model lag of each tenant's most recent 1,000 projected changes, in milliseconds.",
      type: "histogram",
      samples: lagSamples,
    },
    family(
      "tessera_events_projected_total",
      "counter",
      "Events in the change feed, by tenant and collection (exact).",
      p.stats,
      (s) => [{ tenant: s.tenant, collection: s.collection }, s.events],
    ),
    family(
      "tessera_change_feed_head",
      "gauge",
      "The newest change-feed sequence number, by tenant.",
      p.head,
      (h) => [{ tenant: h.tenant }, h.head],
    ),
    family(
      "tessera_outbox_backlog_events",
      "gauge",
      "Events committed and not yet in the change feed, summed over the documents that reported any.",
      p.backlog,
      (b) => [{ tenant: b.tenant }, b.events],
    ),
    family(
      "tessera_outbox_backlog_documents",
      "gauge",
      "Documents whose outbox holds events the change feed lacks.",
      p.backlog,
      (b) => [{ tenant: b.tenant }, b.objects],
    ),
    family("tessera_dead_letters_pending", "gauge", "Dead letters waiting for a redrive.", p.dead, (d) => [
      { tenant: dead(d.tenant) },
      d.pending,
    ]),
    family(
      "tessera_dead_letters_total",
      "counter",
      "Dead letters ever stored (each event once).",
      p.dead,
      (d) => [{ tenant: dead(d.tenant) }, d.total],
    ),
    family("tessera_redrives_total", "counter", "Dead letters redriven.", p.dead, (d) => [
      { tenant: dead(d.tenant) },
      d.redriven,
    ]),
    family(
      "tessera_held_events",
      "gauge",
      "Events the projector holds until their transaction is whole.",
      p.held,
      (h) => [{ tenant: h.tenant }, h.held],
    ),
    family(
      "tessera_documents",
      "gauge",
      "Live documents in the read model, by tenant and collection.",
      p.stats,
      (s) => [{ tenant: s.tenant, collection: s.collection }, s.documents],
    ),
    family(
      "tessera_document_bytes",
      "gauge",
      "Characters of the live documents' inline states, by tenant and collection (states over 64 KB are in R2).",
      p.stats,
      (s) => [{ tenant: s.tenant, collection: s.collection }, s.bytes],
    ),
  ];
}

export const metricsRoutes: Route[] = [
  route(
    {
      operationId: "getMetrics",
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics: requests, latency, errors, transactions, sagas, and the pipeline's state",
      request: { query: Query },
      responses: {
        200: {
          description: "the Prometheus text exposition format",
          content: { "text/plain": { schema: z.string() } },
        },
        ...problems(400, 503),
      },
    },
    needs("admin", { operator: true }),
    async (c) => {
      const { tenant: named } = parseWith(Query, c.req.query(), "query parameter");
      const tenant = operationsTenant(c, named);
      const [series, rows] = await orUnavailable("metrics", async () => {
        const dbs = tenant === null ? allDatabases(c.env).map((d) => d.db) : [await dbFor(c.env, tenant)];
        return Promise.all([
          c.env.METRICS.get(c.env.METRICS.idFromName("global")).totals(tenant),
          pipeline(dbs, c.env.DB, tenant),
        ]);
      });
      const text = render([...requestFamilies(series), ...pipelineFamilies(rows)]);
      return new Response(text, { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
    },
  ),
];
