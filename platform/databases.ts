/**
 * The read model over several D1 databases: each tenant's documents, change feed, held events and statistics
 * live in exactly one of them (READ_MODEL_DATABASES lists the bindings, in order). A tenant is assigned on first
 * sight, by a hash of its name, and the assignment is recorded in the primary database (`DB`), so it stays put
 * when databases are added; an operator moves a tenant by rebuilding it into another (which then takes over).
 * What is not a tenant's read model (keys, the audit trail, dead letters, rebuilds, the assignments themselves,
 * pipeline probes and backlog reports) lives in the primary database.
 */
import { hash53 } from "../domain/hash";

/** How long an isolate trusts its copy of a tenant's assignment (a move takes effect within this). */
export const ASSIGNMENT_CACHE_MS = 30_000;

type Binding = string;

const assignments = new Map<string, { binding: Binding; until: number }>();
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

/** The default home of a tenant: stable for a given list of databases. */
export function defaultBinding(bindings: readonly Binding[], tenant: string): Binding {
  return bindings[hash53(tenant) % bindings.length] ?? "DB";
}

/** The binding of the database that holds `tenant`'s read model (recorded on first sight). */
export async function bindingFor(env: Env, tenant: string, now = Date.now()): Promise<Binding> {
  const bindings = readModelBindings(env);
  if (bindings.length === 1) return bindings[0] ?? "DB";
  const cached = assignments.get(tenant);
  if (cached !== undefined && cached.until > now) return cached.binding;
  const [, row] = await env.DB.batch<{ binding: string }>([
    env.DB.prepare(
      "INSERT OR IGNORE INTO tenant_databases (tenant, binding, assigned_at) VALUES (?, ?, ?)",
    ).bind(tenant, defaultBinding(bindings, tenant), now),
    env.DB.prepare("SELECT binding FROM tenant_databases WHERE tenant = ?").bind(tenant),
  ]);
  const recorded = row?.results[0]?.binding;
  const binding =
    recorded !== undefined && bindings.includes(recorded) ? recorded : defaultBinding(bindings, tenant);
  assignments.set(tenant, { binding, until: now + ASSIGNMENT_CACHE_MS });
  return binding;
}

/** The database that holds `tenant`'s read model. */
export async function dbFor(env: Env, tenant: string): Promise<D1Database> {
  return database(env, await bindingFor(env, tenant));
}

/** Forgets this isolate's copy of an assignment (after a move it made itself). */
export function forgetAssignment(tenant: string): void {
  assignments.delete(tenant);
}
