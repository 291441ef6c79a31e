/** Sagas: start one (given its steps, or a declared one by name), read its record, list, cancel, resume. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { sha256Hex } from "../../domain/digest";
import { monotonicIds } from "../../domain/ids";
import { canonicalJson, type JsonValue } from "../../domain/json";
import { NAMED_SAGAS } from "../../domain/named-sagas";
import { applyCursor, encodeCursor, parseQuery } from "../../domain/query";
import {
  documentsOf,
  parseSaga,
  SAGA_COLLECTION,
  SAGA_STATUSES,
  type SagaRecord,
  type SagaStep,
} from "../../domain/saga";
import { dbFor } from "../../platform/databases";
import { errorText, log } from "../../platform/log";
import type { AppEnv } from "../app";
import { readBodyText, requireMediaType } from "../http/body";
import { badRequest, HttpProblem, notFound } from "../http/problem";
import { jsonResponse } from "../http/render";
import { idempotencyKeyFrom } from "../http/request";
import { parseWith } from "../http/validate";
import { orUnavailable } from "../read-model/d1";
import { runQuery } from "../read-model/queries";
import { queryReadModel } from "../read-model/read-source";
import { toEnvelopeJson } from "../read-model/states";
import { instanceId, recordKey, SagaRecordStore } from "../sagas/record";
import type { SagaParams } from "../sagas/workflow";
import { auditStatement } from "../security/audit";
import { needs } from "../security/principal";
import { checkCollection, tenantPrincipal } from "../security/tenancy";
import { headers, JSON_TYPE, problems } from "./openapi";
import { type Route, route } from "./table";

const MAX_SAGA_BYTES = 1024 * 1024;
const newSagaId = monotonicIds();

const SagaRef = z.object({
  saga: z.string().openapi({
    param: { name: "saga", in: "path" },
    description: "a saga's id, or (POST) a declared saga's name",
  }),
});

const PhaseRecord = z.object({
  status: z.enum(["pending", "running", "done", "failed", "skipped"]),
  attempts: z.number().int(),
  error: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

const SagaView = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(SAGA_STATUSES as [string, ...string[]]),
    steps: z.array(z.object({ name: z.string(), action: PhaseRecord, compensation: PhaseRecord.nullable() })),
    reason: z.string().nullable(),
    cancelRequested: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi("Saga");

const Started = z.object({ id: z.string(), status: z.literal("running") }).openapi("SagaStarted");

const ListQuery = z.object({
  status: z.enum(SAGA_STATUSES as [string, ...string[]]).optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/)
    .optional()
    .openapi({ type: "integer", description: "1 to 200, default 50" }),
  cursor: z.string().optional(),
});

function allowedOrigins(env: Env): string[] {
  return (env.SAGA_HTTP_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
}

async function jsonBody(c: Context<AppEnv>): Promise<JsonValue> {
  requireMediaType(c.req.header("content-type"), [JSON_TYPE]);
  const text = await readBodyText(c.req.raw, MAX_SAGA_BYTES);
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw badRequest("malformed-json", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Starts a saga: its record first (so that GET answers at once, and a retry finds it), then its workflow. With
 * an Idempotency-Key the saga's id is derived from it; a retry of the same request answers as the first did.
 */
async function start(c: Context<AppEnv>, name: string, body: unknown, steps: SagaStep[]): Promise<Response> {
  const principal = tenantPrincipal(c);
  for (const key of documentsOf(steps)) checkCollection(principal, key.collection);
  const idempotencyKey = idempotencyKeyFrom(c.req.raw.headers);
  const fingerprint = await sha256Hex(canonicalJson({ name, body } as JsonValue));
  const sagaId =
    idempotencyKey === undefined
      ? newSagaId()
      : `S${(await sha256Hex(`${principal.tenant}\n${idempotencyKey}`)).slice(0, 26).toUpperCase()}`;
  const store = new SagaRecordStore(c.env, recordKey(principal.tenant, sagaId));
  const created = await store.create(name, steps, new Date().toISOString(), fingerprint);
  const location = { Location: `/v1/_sagas/${sagaId}` };
  if (created.kind !== "committed") {
    // The saga exists: the same request (a retry) answers as the first; another one reusing the key is refused.
    const existing = await store.read();
    if (existing?.request !== fingerprint) {
      throw new HttpProblem(
        422,
        "idempotency-key-reused",
        "Unprocessable Content",
        "this Idempotency-Key was already used for a different saga",
      );
    }
    // A first attempt may have written the record and not created the workflow (Workflows refused it, or the
    // Worker stopped between the two): a saga still running is made sure of its workflow before the answer.
    const params: SagaParams = { sagaId, tenant: principal.tenant, name, steps };
    if (
      existing.status === "running" &&
      !(await startWorkflow(c.env, instanceId(principal.tenant, sagaId), params))
    ) {
      throw sagaUnavailable(true);
    }
    return jsonResponse({ id: sagaId, status: existing.status }, 202, {
      ...location,
      "Idempotent-Replayed": "true",
    });
  }
  const params: SagaParams = { sagaId, tenant: principal.tenant, name, steps };
  if (!(await startWorkflow(c.env, instanceId(principal.tenant, sagaId), params))) {
    // Nothing ran: without an Idempotency-Key no retry can reach this saga, so it ends here, visibly.
    if (idempotencyKey === undefined) {
      await store
        .transition(
          "not-started",
          [
            { op: "replace", path: "/status", value: "cancelled" },
            { op: "replace", path: "/reason", value: "the saga could not start; nothing ran" },
          ],
          new Date().toISOString(),
        )
        .catch(() => {});
    }
    throw sagaUnavailable(idempotencyKey !== undefined);
  }
  return jsonResponse({ id: sagaId, status: "running" }, 202, location);
}

/** Creates the saga's workflow instance, or finds it created; false when Workflows did not take it. */
async function startWorkflow(env: Env, id: string, params: SagaParams): Promise<boolean> {
  try {
    await env.SAGAS.create({ id, params });
    return true;
  } catch (error) {
    try {
      await env.SAGAS.get(id);
      return true;
    } catch {
      log.warn("saga workflow not started", { error: errorText(error) });
      return false;
    }
  }
}

function sagaUnavailable(retryable: boolean): HttpProblem {
  return new HttpProblem(
    503,
    "saga-unavailable",
    "Service Unavailable",
    retryable
      ? "the saga could not start yet; retry with the same Idempotency-Key"
      : "the saga could not start, and nothing ran; send it again (an Idempotency-Key makes retries safe)",
    {},
    { "Retry-After": "1" },
  );
}

function sagaView(id: string, record: SagaRecord) {
  const { request: _request, ...rest } = record;
  return { id, ...rest };
}

async function existing(
  c: Context<AppEnv>,
): Promise<{ store: SagaRecordStore; record: SagaRecord; id: string }> {
  const principal = tenantPrincipal(c);
  const id = c.req.param("saga") ?? "";
  if (!/^[0-9A-Z]{26,27}$/.test(id)) throw notFound(`no saga ${id}`);
  const store = new SagaRecordStore(c.env, recordKey(principal.tenant, id));
  const record = await store.read();
  if (record === null) throw notFound(`no saga ${id}`);
  return { store, record, id };
}

const startResponses = {
  202: {
    description: "started: it runs to the end without the client; the record is at Location",
    content: { [JSON_TYPE]: { schema: Started } },
    headers: headers("Location", "Idempotent-Replayed", "X-Request-Id"),
  },
  ...problems(400, 413, 415, 422, 503),
};

export const sagaRoutes: Route[] = [
  route(
    {
      operationId: "startSaga",
      method: "post",
      path: "/v1/_sagas",
      summary: "Start a saga: steps in order, each an action and a compensation",
      description:
        'Body {"steps": [{"name", "action": <op>, "compensation": <op>, "attempts"?}]}; an <op> is a document ' +
        'operation (as in a transaction), {"op": "transaction", "operations": [...]}, or {"op": "http", method, ' +
        "url, body, expect} to an origin on SAGA_HTTP_ORIGINS. When an action fails for good, the completed steps' " +
        "compensations run in reverse order.",
      request: {
        body: {
          content: { [JSON_TYPE]: { schema: z.object({ steps: z.array(z.unknown()) }) } },
          required: true,
        },
      },
      responses: startResponses,
    },
    needs("write"),
    async (c) => {
      const body = await jsonBody(c);
      const parsed = parseSaga(tenantPrincipal(c).tenant, body, allowedOrigins(c.env));
      if (!parsed.ok) {
        throw badRequest(
          "invalid-saga",
          parsed.detail,
          parsed.step === undefined ? {} : { step: parsed.step },
        );
      }
      return start(c, "custom", body, parsed.steps);
    },
  ),
  route(
    {
      operationId: "listSagas",
      method: "get",
      path: "/v1/_sagas",
      summary: "The tenant's sagas, newest first, optionally of one status (from the read model)",
      request: { query: ListQuery },
      responses: {
        200: {
          description: "a page of sagas",
          content: {
            [JSON_TYPE]: { schema: z.object({ items: z.array(SagaView), next: z.string().nullable() }) },
          },
        },
        ...problems(400, 503),
      },
    },
    needs("read"),
    async (c) => {
      const principal = tenantPrincipal(c);
      const query = parseWith(ListQuery, c.req.query(), "query parameter");
      const params = new URLSearchParams({ order: "-createdAt", limit: query.limit ?? "50" });
      if (query.status !== undefined) params.set("where[status]", query.status);
      const parsed = parseQuery(SAGA_COLLECTION, params);
      if (!parsed.ok) throw badRequest(parsed.code, parsed.detail);
      const q = query.cursor === undefined ? parsed.query : applyCursor(parsed.query, query.cursor);
      if (q === null)
        throw badRequest("invalid-cursor", "the cursor is malformed or belongs to another query");
      const db = await orUnavailable("tenant's database", () => dbFor(c.env, principal.tenant));
      const rows = await queryReadModel(db, undefined, (s) => runQuery(s, principal.tenant, q));
      const page = rows.slice(0, q.limit);
      const items = await orUnavailable("saga list", () =>
        Promise.all(
          page.map(async (row) => {
            const envelope = JSON.parse(await toEnvelopeJson(c.env.ARCHIVE, row)) as {
              id: string;
              data: SagaRecord;
            };
            return sagaView(envelope.id, envelope.data);
          }),
        ),
      );
      const last = page.at(-1);
      const next =
        rows.length > page.length && last !== undefined
          ? encodeCursor(q, {
              value: q.order === null ? null : last[`k${q.order.slot}` as "k0"],
              id: last.id,
            })
          : null;
      return jsonResponse({ items, next }, 200, { "Read-Source": "read-model" });
    },
  ),
  route(
    {
      operationId: "startNamedSaga",
      method: "post",
      path: "/v1/_sagas/{saga}",
      summary: "Start a saga declared in code (domain/named-sagas.ts), from its JSON input",
      request: {
        params: SagaRef,
        body: { content: { [JSON_TYPE]: { schema: z.record(z.string(), z.unknown()) } }, required: true },
      },
      responses: { ...startResponses, ...problems(400, 404, 413, 415, 422, 503) },
    },
    needs("write"),
    async (c) => {
      const name = c.req.param("saga") ?? "";
      const saga = Object.hasOwn(NAMED_SAGAS, name) ? NAMED_SAGAS[name] : undefined;
      if (saga === undefined) throw notFound(`no saga named ${name} is declared`);
      const body = await jsonBody(c);
      const input = parseWith(saga.input, body, "input", "invalid-saga-input");
      const steps = saga.steps(input, {
        paymentsUrl: c.env.PAYMENTS_URL === "" ? null : (c.env.PAYMENTS_URL ?? null),
      });
      const parsed = parseSaga(tenantPrincipal(c).tenant, { steps }, allowedOrigins(c.env));
      if (!parsed.ok) {
        throw badRequest(
          "invalid-saga-input",
          `the saga's steps for this input are refused: ${parsed.detail}`,
        );
      }
      return start(c, name, body, parsed.steps);
    },
  ),
  route(
    {
      operationId: "getSaga",
      method: "get",
      path: "/v1/_sagas/{saga}",
      summary: "A saga's status, and each step's and compensation's outcome, attempts, error and times",
      request: { params: SagaRef },
      responses: {
        200: { description: "the saga", content: { [JSON_TYPE]: { schema: SagaView } } },
        ...problems(404, 503),
      },
    },
    needs("read"),
    async (c) => {
      const { id, record } = await existing(c);
      return jsonResponse(sagaView(id, record), 200, { "Read-Source": "primary" });
    },
  ),
  route(
    {
      operationId: "cancelSaga",
      method: "post",
      path: "/v1/_sagas/{saga}/cancel",
      summary: "Stop a running saga: no further step starts, and the completed ones are compensated",
      request: { params: SagaRef },
      responses: {
        202: {
          description: "cancellation requested",
          content: { [JSON_TYPE]: { schema: Started.partial() } },
        },
        ...problems(404, 409, 503),
      },
    },
    needs("write"),
    async (c) => {
      const { id, record, store } = await existing(c);
      if (record.status !== "running") {
        throw new HttpProblem(409, "saga-not-running", "Conflict", `the saga is ${record.status}`, {
          sagaStatus: record.status,
        });
      }
      const cancelled = await store.requestCancel();
      if (!cancelled)
        throw new HttpProblem(409, "saga-not-running", "Conflict", "the saga is no longer running");
      return jsonResponse({ id, status: "running" }, 202, {});
    },
  ),
  route(
    {
      operationId: "resumeSaga",
      method: "post",
      path: "/v1/_sagas/{saga}/resume",
      summary: "Resume a failed saga (its compensation is tried again), once the cause is fixed",
      request: { params: SagaRef },
      responses: {
        202: { description: "resumed", content: { [JSON_TYPE]: { schema: Started.partial() } } },
        ...problems(404, 409, 503),
      },
    },
    needs("admin"),
    async (c) => {
      const { id, record } = await existing(c);
      if (record.status !== "failed") {
        throw new HttpProblem(409, "saga-not-failed", "Conflict", `the saga is ${record.status}`, {
          sagaStatus: record.status,
        });
      }
      const tenant = tenantPrincipal(c).tenant;
      await orUnavailable("saga resume", async () => {
        const instance = await c.env.SAGAS.get(instanceId(tenant, id));
        await instance.sendEvent({ type: "resume", payload: {} });
      });
      await orUnavailable("audit", () =>
        auditStatement(c, { action: "saga.resume", tenant, target: id }).run(),
      );
      return jsonResponse({ id, status: "compensating" }, 202, {});
    },
  ),
];
