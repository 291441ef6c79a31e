/** The audit trail: every admin action (keys created and revoked, redrives), who did it, when, and in which request. */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { actorOf } from "./principal";

export interface AuditEntry {
  readonly action:
    | "key.create"
    | "key.revoke"
    | "dead-letters.redrive"
    | "saga.resume"
    | "rebuild.start"
    | "rebuild.cancel";
  /** The tenant acted on; null for an action over every tenant. */
  readonly tenant: string | null;
  readonly target?: string;
  /** What else to keep: never a secret. */
  readonly detail?: Record<string, unknown>;
}

/** The statement that records `entry`, for the caller to run in the same batch as the action where it can. */
export function auditStatement(c: Context<AppEnv>, entry: AuditEntry, now = Date.now()): D1PreparedStatement {
  const principal = c.get("principal");
  return c.env.DB.prepare(
    `INSERT INTO audit_log (at, actor, tenant, action, target, request_id, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).bind(
    now,
    principal === undefined ? "unknown" : actorOf(principal),
    entry.tenant,
    entry.action,
    entry.target ?? null,
    c.get("requestId"),
    entry.detail === undefined ? null : JSON.stringify(entry.detail),
  );
}
