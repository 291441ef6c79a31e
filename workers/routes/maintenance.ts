/** For the operator: rebuilding the read model from the archive (and moving a tenant), with progress and cancel. */
import { z } from "@hono/zod-openapi";
import { NAME } from "../../domain/keys";
import { assignmentOf, readModelBindings } from "../../platform/databases";
import { readJsonBody } from "../http/body";
import { HttpProblem, notFound } from "../http/problem";
import { jsonResponse } from "../http/render";
import { parseWith } from "../http/validate";
import {
  ACTIVE_STATUSES,
  discardGeneration,
  type RebuildRow,
  rebuildById,
  setStatus,
} from "../maintenance/rebuilds";
import { orUnavailable } from "../read-model/d1";
import { auditStatement } from "../security/audit";
import { JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

const MAX_REBUILD_REQUEST_BYTES = 4 * 1024;
const OPERATOR = { kind: "operator" } as const;
const onD1 = <T>(call: () => Promise<T>) => orUnavailable("rebuilds", call);

const RebuildRequest = z
  .strictObject({
    tenant: z
      .string()
      .regex(NAME)
      .optional()
      .openapi({ description: "one tenant; every tenant when absent" }),
    collection: z
      .string()
      .regex(NAME)
      .optional()
      .openapi({ description: "one collection of the tenant; all when absent (needs tenant)" }),
    target: z.string().min(1).max(64).optional().openapi({
      description:
        "the database binding to build into; another than the tenant's moves it there (needs tenant, not collection)",
    }),
  })
  .openapi("RebuildRequest");

const Rebuild = z
  .object({
    id: z.string(),
    tenant: z.string().nullable(),
    collection: z.string().nullable(),
    target: z.string(),
    mode: z.enum(["shadow", "move"]),
    status: z.enum(["waiting", "scanning", "taking-over", "draining", "done", "cancelled", "failed"]),
    progress: z.object({
      objectsTotal: z.number().int().nullable(),
      objectsRead: z.number().int(),
      eventsRead: z.number().int(),
      eventsPerSecond: z.number().nullable(),
      secondsLeft: z.number().nullable().openapi({ description: "estimated, from the rate so far" }),
    }),
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime().nullable(),
    error: z.string().nullable(),
  })
  .openapi("Rebuild");

const RebuildList = z.object({ rebuilds: z.array(Rebuild) }).openapi("RebuildList");

const IdParam = z.object({
  id: z
    .string()
    .regex(/^rb_[0-9a-f]{32}$/)
    .openapi({ param: { name: "id", in: "path" } }),
});

/** A rebuild as the API shows it: its progress, the rate so far and the time left at that rate. */
export function rebuildView(row: RebuildRow, now = Date.now()) {
  const elapsed = Math.max(1, ((row.finished_at ?? now) - row.started_at) / 1000);
  const rate = row.events_read > 0 ? row.events_read / elapsed : null;
  const objectsRate = row.objects_read > 0 ? row.objects_read / elapsed : null;
  const left =
    row.objects_total === null || objectsRate === null || row.finished_at !== null
      ? null
      : Math.max(0, Math.round((row.objects_total - row.objects_read) / objectsRate));
  return {
    id: row.id,
    tenant: row.tenant,
    collection: row.collection,
    target: row.target,
    mode: row.mode,
    status: row.status,
    progress: {
      objectsTotal: row.objects_total,
      objectsRead: row.objects_read,
      eventsRead: row.events_read,
      eventsPerSecond: rate === null ? null : Math.round(rate),
      secondsLeft: left,
    },
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    error: row.error,
  };
}

const conflict = (detail: string, extensions?: Record<string, unknown>) =>
  new HttpProblem(409, "rebuild-conflict", "Conflict", detail, extensions);

export const maintenanceRoutes: Route[] = [
  route(
    {
      operationId: "startRebuild",
      method: "post",
      path: "/v1/_admin/rebuild",
      summary:
        "Rebuild the read model from the R2 archive (one tenant, one collection, or all); or move a tenant",
      description:
        "The current read model keeps serving until the rebuilt one takes over, atomically. Follow it at Location.",
      request: { body: { content: { [JSON_TYPE]: { schema: RebuildRequest } }, required: true } },
      responses: {
        202: { description: "started", content: { [JSON_TYPE]: { schema: Rebuild } } },
        ...problems(400, 409, 413, 415, 503),
      },
    },
    OPERATOR,
    async (c) => {
      const spec = parseWith(
        RebuildRequest,
        await readJsonBody(c.req.raw, MAX_REBUILD_REQUEST_BYTES, [JSON_TYPE]),
        "body",
        "invalid-body",
      );
      const tenant = spec.tenant ?? null;
      if (tenant === null && (spec.collection !== undefined || spec.target !== undefined)) {
        throw new HttpProblem(400, "invalid-body", "Bad Request", "collection and target need a tenant");
      }
      const bindings = readModelBindings(c.env);
      if (spec.target !== undefined && !bindings.includes(spec.target)) {
        throw new HttpProblem(
          400,
          "invalid-body",
          "Bad Request",
          `target must be one of ${bindings.join(", ")}`,
          {
            databases: bindings,
          },
        );
      }
      const home = tenant === null ? null : (await onD1(() => assignmentOf(c.env, tenant))).binding;
      const target = spec.target ?? home ?? bindings[0] ?? "DB";
      const mode = tenant !== null && target !== home ? "move" : "shadow";
      if (mode === "move" && spec.collection !== undefined) {
        throw new HttpProblem(
          400,
          "invalid-body",
          "Bad Request",
          "a move takes the whole tenant: leave out collection",
        );
      }
      const id = `rb_${crypto.randomUUID().replaceAll("-", "")}`;
      const now = Date.now();
      // One rebuild at a time per tenant, and one of everything alone: the insert happens only if none overlaps.
      const active = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");
      const inserted = await onD1(() =>
        c.env.DB.prepare(
          `INSERT INTO rebuilds (id, tenant, collection, target, status, mode, source, started_at, updated_at)
           SELECT ?1, ?2, ?3, ?4, 'waiting', ?5, ?6, ?7, ?7
           WHERE NOT EXISTS (SELECT 1 FROM rebuilds WHERE status IN (${active})
             AND (?2 IS NULL OR tenant IS NULL OR tenant = ?2))`,
        )
          .bind(id, tenant, spec.collection ?? null, target, mode, mode === "move" ? home : null, now)
          .run(),
      );
      if (inserted.meta.changes === 0) {
        throw conflict("a rebuild of this scope is under way; cancel it or wait for it to finish");
      }
      try {
        await c.env.REBUILDS.create({ id, params: { id } });
      } catch (error) {
        await setStatus(c.env, id, "failed", ["waiting"], { error: String(error) });
        throw new HttpProblem(
          503,
          "rebuild-unavailable",
          "Service Unavailable",
          "the rebuild could not start; retry later",
          {},
          { "Retry-After": "5" },
        );
      }
      await onD1(() =>
        auditStatement(c, {
          action: "rebuild.start",
          tenant,
          target: id,
          detail: { collection: spec.collection ?? null, target, mode },
        }).run(),
      );
      const row = await onD1(() => rebuildById(c.env, id));
      return jsonResponse(rebuildView(row as RebuildRow), 202, { Location: `/v1/_admin/rebuild/${id}` });
    },
  ),
  route(
    {
      operationId: "listRebuilds",
      method: "get",
      path: "/v1/_admin/rebuild",
      summary: "The most recent rebuilds, newest first",
      responses: {
        200: { description: "rebuilds", content: { [JSON_TYPE]: { schema: RebuildList } } },
        ...problems(503),
      },
    },
    OPERATOR,
    async (c) => {
      const { results } = await onD1(() =>
        c.env.DB.prepare("SELECT * FROM rebuilds ORDER BY started_at DESC LIMIT 50").all<RebuildRow>(),
      );
      return jsonResponse({ rebuilds: results.map((row) => rebuildView(row)) }, 200, {});
    },
  ),
  route(
    {
      operationId: "getRebuild",
      method: "get",
      path: "/v1/_admin/rebuild/{id}",
      summary: "A rebuild's progress: objects and events read, rate, estimated time left",
      request: { params: IdParam },
      responses: {
        200: { description: "the rebuild", content: { [JSON_TYPE]: { schema: Rebuild } } },
        ...problems(400, 404, 503),
      },
    },
    OPERATOR,
    async (c) => {
      const { id } = parseWith(IdParam, c.req.param(), "path parameter");
      const row = await onD1(() => rebuildById(c.env, id));
      if (row === null) throw notFound(`no rebuild ${id}`);
      return jsonResponse(rebuildView(row), 200, {});
    },
  ),
  route(
    {
      operationId: "cancelRebuild",
      method: "delete",
      path: "/v1/_admin/rebuild/{id}",
      summary:
        "Cancel a rebuild before it takes over; what it built is discarded, the live read model is untouched",
      request: { params: IdParam },
      responses: {
        200: { description: "cancelled", content: { [JSON_TYPE]: { schema: Rebuild } } },
        ...problems(400, 404, 409, 503),
      },
    },
    OPERATOR,
    async (c) => {
      const { id } = parseWith(IdParam, c.req.param(), "path parameter");
      const row = await onD1(() => rebuildById(c.env, id));
      if (row === null) throw notFound(`no rebuild ${id}`);
      const cancelled = await onD1(() => setStatus(c.env, id, "cancelled", ["waiting", "scanning"]));
      if (!cancelled) {
        const now = await onD1(() => rebuildById(c.env, id));
        throw conflict(
          `the rebuild is ${now?.status ?? row.status}: only a rebuild still waiting or scanning can be cancelled`,
          {
            status: now?.status ?? row.status,
          },
        );
      }
      await c.env.REBUILDS.get(id)
        .then((instance) => instance.terminate())
        .catch(() => {}); // it may have stopped on its own, seeing the status
      await onD1(() => discardGeneration(c.env, row));
      await onD1(() => auditStatement(c, { action: "rebuild.cancel", tenant: row.tenant, target: id }).run());
      return jsonResponse(rebuildView((await onD1(() => rebuildById(c.env, id))) ?? row), 200, {});
    },
  ),
];
