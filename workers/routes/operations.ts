/** For operators: projection statistics, and the dead letters with their redrive. */
import { z } from "@hono/zod-openapi";
import { and, asc, eq, gt, inArray, isNotNull, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type EventMessage, isEventMessage, messageBytes, planBatches } from "../../domain/event-message";
import { NAME } from "../../domain/keys";
import { allDatabases, dbFor } from "../../platform/databases";
import { errorText, log } from "../../platform/log";
import { publish } from "../../platform/queue";
import { unavailable } from "../http/problem";
import { jsonResponse } from "../http/render";
import { parseWith } from "../http/validate";
import { orUnavailable } from "../read-model/d1";
import { readStats } from "../read-model/feed-and-stats";
import { deadLetters } from "../read-model/schema";
import { pageSize } from "../read-model/states";
import { DeadLetter, Stats } from "../schemas";
import { auditStatement } from "../security/audit";
import { needs } from "../security/principal";
import { operationsTenant } from "../security/tenancy";
import { JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

const REDRIVE_BATCH = 100;

async function onQueue(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    log.warn("redrive send failed", { error: errorText(error) });
    throw unavailable("queue-unavailable", "the events queue did not take the redrive; retry later", 5);
  }
}

const onD1 = <T>(call: () => Promise<T>) => orUnavailable("operations", call);

const TenantQuery = z.object({
  tenant: z.string().regex(NAME).optional().openapi({
    description: "for the operator: one tenant (all when absent); a tenant admin sees its own",
  }),
});

const DeadLetterQuery = TenantQuery.extend({
  after: z.string().optional().openapi({ description: "the previous page's next" }),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, "must be an integer")
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, "must be between 1 and 1000")
    .optional()
    .openapi({ type: "integer", description: "1 to 1000, default 100" }),
});

/** Dead letters of one tenant, or of every tenant (the operator's view, which includes bodies with no tenant). */
const ofTenant = (tenant: string | null) => (tenant === null ? [] : [eq(deadLetters.tenant, tenant)]);

export const operationRoutes: Route[] = [
  route(
    {
      operationId: "getStats",
      method: "get",
      path: "/v1/_stats",
      summary:
        "Projection lag (p50/p99 over the last 1000 changes), events projected, dead letters, documents",
      request: { query: TenantQuery },
      responses: {
        200: { description: "statistics", content: { [JSON_TYPE]: { schema: Stats } } },
        ...problems(400, 503),
      },
    },
    needs("admin", { operator: true }),
    async (c) => {
      const { tenant } = parseWith(TenantQuery, c.req.query(), "query parameter");
      const scope = operationsTenant(c, tenant);
      const stats = await onD1(async () => {
        const dbs = scope === null ? allDatabases(c.env).map((d) => d.db) : [await dbFor(c.env, scope)];
        return readStats(dbs, c.env.DB, scope);
      });
      return jsonResponse(stats, 200, {});
    },
  ),
  route(
    {
      operationId: "listDeadLetters",
      method: "get",
      path: "/v1/_admin/dead-letters",
      summary: "Events that exhausted their retries and wait for a redrive",
      request: { query: DeadLetterQuery },
      responses: {
        200: {
          description: "pending dead letters, by message id",
          content: {
            [JSON_TYPE]: { schema: z.object({ items: z.array(DeadLetter), next: z.string().nullable() }) },
          },
        },
        ...problems(400, 503),
      },
    },
    needs("admin", { operator: true }),
    async (c) => {
      const query = parseWith(DeadLetterQuery, c.req.query(), "query parameter");
      const scope = operationsTenant(c, query.tenant);
      const after = query.after ?? "";
      const limit = query.limit ?? 100;
      const rows = await onD1(() =>
        drizzle(c.env.DB)
          .select()
          .from(deadLetters)
          .where(and(isNull(deadLetters.redrivenAt), gt(deadLetters.messageId, after), ...ofTenant(scope)))
          .orderBy(asc(deadLetters.messageId))
          .limit(limit + 1),
      );
      // A page stops at PAGE_CHARS of bodies too (a body may be a 128 KB queue message).
      const page = rows.slice(
        0,
        pageSize(
          rows.map((r) => ({ data: r.body, data_ref: null })),
          limit,
          0,
        ),
      );
      const items = page.map((row) => ({
        messageId: row.messageId,
        body: JSON.parse(row.body) as unknown,
        attempts: row.attempts,
        deaths: row.deaths,
        receivedAt: new Date(row.receivedAt).toISOString(),
      }));
      const next = rows.length > page.length ? (page.at(-1)?.messageId ?? null) : null;
      return jsonResponse({ items, next }, 200, {});
    },
  ),
  route(
    {
      operationId: "redriveDeadLetters",
      method: "post",
      path: "/v1/_admin/dead-letters/redrive",
      summary: "Send up to 100 pending dead letters back through the projector",
      request: { query: TenantQuery },
      responses: {
        200: {
          description: "how many were sent and how many remain",
          content: { [JSON_TYPE]: { schema: z.object({ redriven: z.number(), remaining: z.number() }) } },
        },
        ...problems(400, 503),
      },
    },
    needs("admin", { operator: true }),
    async (c) => {
      const { tenant } = parseWith(TenantQuery, c.req.query(), "query parameter");
      const scope = operationsTenant(c, tenant);
      const db = drizzle(c.env.DB);
      // Only events can be redriven; other bodies stay listed for a person, and cannot block the rest.
      const pending = await onD1(() =>
        db
          .select()
          .from(deadLetters)
          .where(and(isNull(deadLetters.redrivenAt), isNotNull(deadLetters.eventId), ...ofTenant(scope)))
          .orderBy(asc(deadLetters.receivedAt))
          .limit(REDRIVE_BATCH),
      );
      const sendable = pending.flatMap((row) => {
        const body: unknown = JSON.parse(row.body);
        return isEventMessage(body)
          ? [{ item: { id: row.messageId, event: body }, bytes: messageBytes(body) }]
          : [];
      });
      let redriven = 0;
      for (const batch of planBatches(sendable)) {
        await onQueue(() =>
          publish(
            c.env.EVENTS,
            batch.map((b): EventMessage => b.event),
          ),
        );
        // Marked only after the send succeeded, in chunks within D1's 100 bound parameters: a failed redrive
        // leaves them pending (a second redrive sends them again; the projector is idempotent), never lost.
        const ids = batch.map((b) => b.id);
        for (let i = 0; i < ids.length; i += 90) {
          await onD1(() =>
            db
              .update(deadLetters)
              .set({ redrivenAt: Date.now() })
              .where(inArray(deadLetters.messageId, ids.slice(i, i + 90))),
          );
        }
        redriven += batch.length;
      }
      const remaining = await onD1(() =>
        db.$count(deadLetters, and(isNull(deadLetters.redrivenAt), ...ofTenant(scope))),
      );
      await onD1(() =>
        auditStatement(c, {
          action: "dead-letters.redrive",
          tenant: scope,
          detail: { redriven, remaining },
        }).run(),
      );
      return jsonResponse({ redriven, remaining }, 200, {});
    },
  ),
];
