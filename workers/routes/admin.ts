/** The key API and the audit trail: for the operator (every tenant) and each tenant's admins (their own). */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { NAME } from "../../domain/keys";
import type { AppEnv } from "../app";
import { readBodyText, requireMediaType } from "../http/body";
import { HttpProblem, notFound } from "../http/problem";
import { jsonResponse } from "../http/render";
import { parseWith } from "../http/validate";
import { orUnavailable } from "../read-model/d1";
import { createKey, type KeyRecord, listKeys, revokeKey } from "../security/api-keys";
import { auditStatement } from "../security/audit";
import { needs, SCOPES } from "../security/principal";
import { isTierName, TIER_NAMES } from "../security/rate-limits";
import { forbidden, operationsTenant } from "../security/tenancy";
import { JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

/** A key request is a few hundred bytes; nothing larger is read. */
const MAX_KEY_REQUEST_BYTES = 16 * 1024;
const onD1 = <T>(call: () => Promise<T>) => orUnavailable("admin", call);

const NewKeyRequest = z
  .strictObject({
    tenant: z.string().regex(NAME).openapi({ description: "the tenant the key acts for" }),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .max(SCOPES.length)
      .refine((s) => new Set(s).size === s.length, "scopes must not repeat"),
    collections: z
      .array(z.string().regex(NAME))
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "the collections it may use; all of its tenant's when absent" }),
    name: z.string().trim().min(1).max(200).openapi({ description: "what the key is for, for people" }),
    rateLimit: z
      .string()
      .refine(isTierName, `must be one of ${TIER_NAMES.join(", ")}`)
      .optional()
      .openapi({ enum: TIER_NAMES, description: 'its rate-limit tier; "default" when absent' }),
  })
  .openapi("NewKeyRequest");

const KeyInfo = z
  .object({
    id: z.string(),
    tenant: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    collections: z.array(z.string()).nullable(),
    rateLimit: z.string(),
    createdAt: z.string().datetime(),
  })
  .openapi("KeyInfo");

const CreatedKey = KeyInfo.extend({
  key: z.string().openapi({ description: "the key itself: shown this once, stored nowhere" }),
}).openapi("CreatedKey");

const KeyListQuery = z.object({
  tenant: z
    .string()
    .regex(NAME)
    .optional()
    .openapi({ description: "the operator's choice; a tenant admin's own" }),
  before: z.string().optional().openapi({ description: "the previous page's next" }),
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/)
    .transform(Number)
    .refine((n) => n >= 1 && n <= 500, "must be between 1 and 500")
    .optional()
    .openapi({ type: "integer", description: "1 to 500, default 100" }),
});

const AuditQuery = z.object({
  tenant: z
    .string()
    .regex(NAME)
    .optional()
    .openapi({ description: "the operator's choice; a tenant admin's own" }),
  after: z
    .string()
    .regex(/^[0-9]{1,15}$/)
    .transform(Number)
    .optional()
    .openapi({ type: "integer", description: "the previous page's next" }),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/)
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, "must be between 1 and 1000")
    .optional()
    .openapi({ type: "integer", description: "1 to 1000, default 100" }),
});

const AuditEntry = z
  .object({
    seq: z.number().int(),
    at: z.string().datetime(),
    actor: z.string(),
    tenant: z.string().nullable(),
    action: z.string(),
    target: z.string().nullable(),
    requestId: z.string(),
    detail: z.unknown(),
  })
  .openapi("AuditEntry");

function keyInfo(record: KeyRecord) {
  return {
    id: record.id,
    tenant: record.tenant,
    name: record.name,
    scopes: record.scopes,
    collections: record.collections,
    rateLimit: record.rateLimit,
    createdAt: new Date(record.createdAt).toISOString(),
  };
}

/** A tenant admin acts on its own tenant only; the operator on any. */
function actingTenant(c: Context<AppEnv>, named: string | undefined): string | null {
  const scope = operationsTenant(c, named);
  if (scope !== null && named !== undefined && named !== scope) {
    throw forbidden("a tenant's admin manages its own tenant only");
  }
  return scope;
}

/**
 * A tenant admin limited to some collections may give a new key only those (a subset of them): a key for every
 * collection, or for one it may not use itself, would let it reach what its own credential cannot.
 */
function checkGrantedCollections(c: Context<AppEnv>, asked: readonly string[] | undefined): void {
  const principal = c.get("principal");
  if (principal === undefined || principal.kind === "operator" || principal.collections === null) return;
  const allowed = principal.collections;
  if (asked === undefined || asked.some((collection) => !allowed.includes(collection))) {
    throw forbidden(
      `this credential may use only the collections ${allowed.join(", ") || "(none)"}; a key it creates must name some of them`,
      { collections: allowed },
    );
  }
}

export const adminRoutes: Route[] = [
  route(
    {
      operationId: "createKey",
      method: "post",
      path: "/v1/_admin/keys",
      summary: "Create an API key (the key is in this answer only)",
      request: { body: { content: { [JSON_TYPE]: { schema: NewKeyRequest } }, required: true } },
      responses: {
        201: { description: "the key, shown this once", content: { [JSON_TYPE]: { schema: CreatedKey } } },
        ...problems(400, 413, 415, 503),
      },
    },
    needs("admin", { operator: true }),
    async (c) => {
      requireMediaType(c.req.header("content-type"), [JSON_TYPE]);
      const text = await readBodyText(c.req.raw, MAX_KEY_REQUEST_BYTES);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new HttpProblem(400, "malformed-json", "Bad Request", "the request body is not valid JSON");
      }
      const spec = parseWith(NewKeyRequest, json, "body", "invalid-body");
      const tenant = actingTenant(c, spec.tenant) ?? spec.tenant;
      const rateLimit = spec.rateLimit ?? "default";
      // Tiers above the default lift a limit that protects every tenant: they are the operator's to give.
      if ((rateLimit === "none" || rateLimit === "high") && c.get("principal")?.kind !== "operator") {
        throw forbidden(`only the operator may create a key with the "${rateLimit}" tier`);
      }
      checkGrantedCollections(c, spec.collections);
      const { record, key } = await onD1(() =>
        createKey(c.env.DB, {
          tenant,
          name: spec.name,
          scopes: spec.scopes,
          collections: spec.collections ?? null,
          rateLimit,
        }),
      );
      await onD1(() =>
        auditStatement(c, {
          action: "key.create",
          tenant,
          target: record.id,
          detail: { name: record.name, scopes: record.scopes, collections: record.collections, rateLimit },
        }).run(),
      );
      return jsonResponse({ ...keyInfo(record), key }, 201, { Location: `/v1/_admin/keys/${record.id}` });
    },
  ),
  route(
    {
      operationId: "listKeys",
      method: "get",
      path: "/v1/_admin/keys",
      summary: "A tenant's live keys, newest first (never the keys themselves)",
      request: { query: KeyListQuery },
      responses: {
        200: {
          description: "a page of keys",
          content: {
            [JSON_TYPE]: { schema: z.object({ items: z.array(KeyInfo), next: z.string().nullable() }) },
          },
        },
        ...problems(400, 503),
      },
    },
    needs("admin", { operator: true }),
    async (c) => {
      const query = parseWith(KeyListQuery, c.req.query(), "query parameter");
      const tenant = actingTenant(c, query.tenant);
      const limit = query.limit ?? 100;
      const rows = await onD1(() =>
        listKeys(c.env.DB, tenant, {
          limit: limit + 1,
          ...(query.before === undefined ? {} : { before: query.before }),
        }),
      );
      const page = rows.slice(0, limit);
      const next = rows.length > limit ? (page.at(-1)?.id ?? null) : null;
      return jsonResponse({ items: page.map(keyInfo), next }, 200, {});
    },
  ),
  route(
    {
      operationId: "revokeKey",
      method: "delete",
      path: "/v1/_admin/keys/{id}",
      summary: "Revoke a key: it stops working within 30 seconds everywhere (at once where it was revoked)",
      request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
      responses: { 204: { description: "revoked" }, ...problems(404, 503) },
    },
    needs("admin", { operator: true }),
    async (c) => {
      const id = c.req.param("id") ?? "";
      const tenant = actingTenant(c, undefined);
      const revoked = /^[0-9a-f]{16}$/.test(id) ? await onD1(() => revokeKey(c.env.DB, id, tenant)) : null;
      if (revoked === null) throw notFound(`no live key ${id}`);
      await onD1(() =>
        auditStatement(c, { action: "key.revoke", tenant: revoked.tenant, target: revoked.id }).run(),
      );
      return new Response(null, { status: 204 });
    },
  ),
  route(
    {
      operationId: "listAudit",
      method: "get",
      path: "/v1/_admin/audit",
      summary: "The audit trail of admin actions, oldest first",
      request: { query: AuditQuery },
      responses: {
        200: {
          description: "a page of entries",
          content: {
            [JSON_TYPE]: {
              schema: z.object({ items: z.array(AuditEntry), next: z.number().int().nullable() }),
            },
          },
        },
        ...problems(400, 503),
      },
    },
    needs("admin", { operator: true }),
    async (c) => {
      const query = parseWith(AuditQuery, c.req.query(), "query parameter");
      const tenant = actingTenant(c, query.tenant);
      const limit = query.limit ?? 100;
      const after = query.after ?? 0;
      const statement =
        tenant === null
          ? c.env.DB.prepare("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?").bind(
              after,
              limit + 1,
            )
          : c.env.DB.prepare(
              "SELECT * FROM audit_log WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?",
            ).bind(tenant, after, limit + 1);
      const { results } = await onD1(() => statement.all<Record<string, string | number | null>>());
      const page = results.slice(0, limit);
      const items = page.map((row) => ({
        seq: Number(row.seq),
        at: new Date(Number(row.at)).toISOString(),
        actor: String(row.actor),
        tenant: row.tenant === null ? null : String(row.tenant),
        action: String(row.action),
        target: row.target === null ? null : String(row.target),
        requestId: String(row.request_id),
        detail: row.detail === null ? null : (JSON.parse(String(row.detail)) as unknown),
      }));
      const next = results.length > limit ? (items.at(-1)?.seq ?? null) : null;
      return jsonResponse({ items, next }, 200, {});
    },
  ),
];
