/**
 * The read model over several D1 databases: each tenant's documents, change feed, held events and statistics
 * live in exactly one of them (READ_MODEL_DATABASES lists the bindings, in order). A tenant is assigned on first
 * sight, by a hash of its name, and the assignment is recorded in the primary database (`DB`), so it stays put
 * when databases are added; an operator moves a tenant by rebuilding it into another (which then takes over).
 * What is not a tenant's read model (keys, the audit trail, dead letters, rebuilds, the assignments themselves,
 * pipeline probes and backlog reports) lives in the primary database.
 */
import { defaultBinding } from "../domain/placement";

/**
 * How long an isolate trusts its copy of a tenant's assignment by default (a move takes effect within this, and
 * waits this long before dropping the old copy). TENANT_ASSIGNMENT_CACHE_MS sets it (tests shorten it).
 */
export const ASSIGNMENT_CACHE_MS = 30_000;

/** This deployment's assignment cache time. */
export function assignmentCacheMs(env: Env): number {
  const raw = (env as { TENANT_ASSIGNMENT_CACHE_MS?: string }).TENANT_ASSIGNMENT_CACHE_MS;
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isSafeInteger(value) && value > 0 ? value : ASSIGNMENT_CACHE_MS;
}

type Binding = string;

/** Where a tenant's read model lives, and how many times it has moved (feed cursors carry the epoch). */
export interface Assignment {
  readonly binding: Binding;
  readonly epoch: number;
}

const assignments = new Map<string, Assignment & { until: number }>();
const lists = new WeakMap<object, Binding[]>();

/** The read model's database bindings, in configuration order (the primary, DB, first). */
export function readModelBindings(env: Env): Binding[] {
  let list = lists.get(env);
  if (list === undefined) {
    const named = (env.READ_MODEL_DATABASES ?? "DB")
      .split(",")
      .map((b) => b.trim())
      .filter((b) => b !== "");
    list = named.length === 0 ? ["DB"] : named;
    for (const binding of list) {
      if (!isD1(bindingValue(env, binding))) {
        throw new Error(`READ_MODEL_DATABASES names ${binding}, which is not a D1 binding of this Worker`);
      }
    }
    lists.set(env, list);
  }
  return list;
}

function bindingValue(env: Env, binding: Binding): unknown {
  return (env as unknown as Record<string, unknown>)[binding];
}

function isD1(value: unknown): value is D1Database {
  return typeof value === "object" && value !== null && typeof (value as D1Database).prepare === "function";
}

/** A database by its binding name. */
export function database(env: Env, binding: Binding): D1Database {
  const value = bindingValue(env, binding);
  if (!isD1(value) || !readModelBindings(env).includes(binding)) {
    throw new Error(`${binding} is not one of the read model's databases`);
  }
  return value;
}

/** Every read-model database, with its binding name. */
export function allDatabases(env: Env): Array<{ binding: Binding; db: D1Database }> {
  return readModelBindings(env).map((binding) => ({ binding, db: database(env, binding) }));
}

export { defaultBinding };

/** The assignment of `tenant`: recorded on first sight (when there is more than one database). */
export async function assignmentOf(env: Env, tenant: string, now = Date.now()): Promise<Assignment> {
  const bindings = readModelBindings(env);
  const cached = assignments.get(tenant);
  if (cached !== undefined && cached.until > now) return { binding: cached.binding, epoch: cached.epoch };
  const [, row] = await env.DB.batch<{ binding: string; epoch: number }>([
    env.DB.prepare(
      "INSERT OR IGNORE INTO tenant_databases (tenant, binding, assigned_at) VALUES (?, ?, ?)",
    ).bind(tenant, defaultBinding(bindings, tenant), now),
    env.DB.prepare("SELECT binding, epoch FROM tenant_databases WHERE tenant = ?").bind(tenant),
  ]);
  const recorded = row?.results[0];
  const binding =
    recorded !== undefined && bindings.includes(recorded.binding)
      ? recorded.binding
      : defaultBinding(bindings, tenant);
  const assignment = { binding, epoch: recorded?.epoch ?? 0 };
  assignments.set(tenant, { ...assignment, until: now + assignmentCacheMs(env) });
  return assignment;
}

/** The binding of the database that holds `tenant`'s read model. */
export async function bindingFor(env: Env, tenant: string, now = Date.now()): Promise<Binding> {
  const bindings = readModelBindings(env);
  // One database: nothing to look up (a tenant's epoch only changes when it moves, which needs two).
  if (bindings.length === 1) return bindings[0] ?? "DB";
  return (await assignmentOf(env, tenant, now)).binding;
}

/** The feed epoch of `tenant`: 0 until its first move. */
export async function epochOf(env: Env, tenant: string): Promise<number> {
  if (readModelBindings(env).length === 1) return 0;
  return (await assignmentOf(env, tenant)).epoch;
}

/** The database of `tenant`'s read model and its feed epoch, in one lookup. */
export async function placeOf(env: Env, tenant: string): Promise<{ db: D1Database; epoch: number }> {
  const bindings = readModelBindings(env);
  if (bindings.length === 1) return { db: database(env, bindings[0] ?? "DB"), epoch: 0 };
  const { binding, epoch } = await assignmentOf(env, tenant);
  return { db: database(env, binding), epoch };
}

/** The database that holds `tenant`'s read model. */
export async function dbFor(env: Env, tenant: string): Promise<D1Database> {
  return database(env, await bindingFor(env, tenant));
}

/** Forgets this isolate's copy of an assignment (after a move it made itself). */
export function forgetAssignment(tenant: string): void {
  assignments.delete(tenant);
}
