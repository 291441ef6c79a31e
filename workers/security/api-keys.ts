/**
 * API keys for servers: `tsk_<id>_<secret>`, 64 random bits of public id and 256 of secret. D1 stores the id and
 * the secret's SHA-256, never the secret; the key itself is shown once, when it is created. A verified key is
 * cached in the isolate for KEY_CACHE_TTL_MS, so checking a key costs no D1 round trip on most requests, and a
 * revoked key stops working everywhere within that bound (at once in the isolate that revoked it).
 */
import { and, desc, eq, isNull, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { encodeBase64Url } from "../../domain/base64url";
import { sha256Hex } from "../../domain/digest";
import { apiKeys } from "../read-model/schema";
import { digestsEqual } from "./constant-time";
import type { Scope, TenantPrincipal } from "./principal";

export const KEY_CACHE_TTL_MS = 30_000;
const KEY_FORMAT = /^tsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const MAX_CACHED = 10_000;

export interface KeyRecord {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly scopes: Scope[];
  readonly collections: string[] | null;
  readonly rateLimit: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** The key cache's clock: tests move it to show the revocation bound. */
export const keyClock = { now: () => Date.now() };
const cache = new Map<string, CacheEntry>();

/** Whether a bearer token has the shape of an API key (and is not, say, a JWT or the admin secret). */
export function looksLikeKey(token: string): boolean {
  return token.startsWith("tsk_");
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

export interface NewKey {
  readonly tenant: string;
  readonly name: string;
  readonly scopes: Scope[];
  readonly collections: string[] | null;
  readonly rateLimit: string;
}

/** Creates a key; returns its record and the key itself, which exists nowhere else from then on. */
export async function createKey(db: D1Database, spec: NewKey, now = Date.now()) {
  const id = randomHex(8);
  const secret = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const record: KeyRecord = { id, ...spec, createdAt: now, revokedAt: null };
  await drizzle(db)
    .insert(apiKeys)
    .values({
      id,
      tenant: spec.tenant,
      name: spec.name,
      scopes: JSON.stringify(spec.scopes),
      collections: spec.collections === null ? null : JSON.stringify(spec.collections),
      rateLimit: spec.rateLimit,
      secretHash: await sha256Hex(secret),
      createdAt: now,
    });
  return { record, key: `tsk_${id}_${secret}` };
}

type Row = typeof apiKeys.$inferSelect;

function fromRow(row: Row): KeyRecord & { hash: string } {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    collections: row.collections === null ? null : (JSON.parse(row.collections) as string[]),
    rateLimit: row.rateLimit,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    hash: row.secretHash,
  };
}

/** A tenant's keys, newest first (or every tenant's, for the operator), never with their secrets. */
export async function listKeys(
  db: D1Database,
  tenant: string | null,
  options: { before?: string; limit: number },
): Promise<KeyRecord[]> {
  const conditions = [
    isNull(apiKeys.revokedAt),
    ...(tenant === null ? [] : [eq(apiKeys.tenant, tenant)]),
    ...(options.before === undefined ? [] : [lt(apiKeys.id, options.before)]),
  ];
  const rows = await drizzle(db)
    .select()
    .from(apiKeys)
    .where(and(...conditions))
    .orderBy(desc(apiKeys.id))
    .limit(options.limit);
  return rows.map((row) => {
    const { hash: _hash, ...record } = fromRow(row);
    return record;
  });
}

/**
 * Revokes a key of `tenant` (any tenant's for the operator: null). Returns the revoked record, or null when there
 * is no such live key (within that tenant: another tenant's key is as absent as one that never existed).
 */
export async function revokeKey(
  db: D1Database,
  id: string,
  tenant: string | null,
  now = Date.now(),
): Promise<KeyRecord | null> {
  const rows = await drizzle(db)
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(
      and(
        eq(apiKeys.id, id),
        isNull(apiKeys.revokedAt),
        ...(tenant === null ? [] : [eq(apiKeys.tenant, tenant)]),
      ),
    )
    .returning();
  const row = rows[0];
  // Only a key actually revoked leaves the cache: a refused revocation (another tenant's id) must not evict it.
  if (row === undefined) return null;
  cache.delete(id);
  const { hash: _hash, ...record } = fromRow(row);
  return record;
}

/**
 * The principal an API key stands for; null when it is malformed, unknown, revoked or wrong; "limited" when a
 * lookup was needed and `mayLookUp` refused it (the client's lookups are over their limit). Throws only when D1
 * cannot be asked (the caller answers 503: a valid key must not be refused as invalid).
 */
export async function verifyKey(
  db: D1Database,
  token: string,
  mayLookUp: () => Promise<boolean> = async () => true,
): Promise<TenantPrincipal | null | "limited"> {
  const match = KEY_FORMAT.exec(token);
  if (match === null) return null;
  const [, id = "", secret = ""] = match;
  const now = keyClock.now();
  let entry = cache.get(id);
  if (entry === undefined || entry.until <= now) {
    // Requests that miss together share one lookup (and count once against the client's lookups).
    let pending = lookups.get(id);
    if (pending === undefined) {
      pending = lookUp(db, id, now, mayLookUp).finally(() => lookups.delete(id));
      lookups.set(id, pending);
    }
    const found = await pending;
    if (found === "limited") return "limited";
    entry = found;
  }
  const record = entry.record;
  if (record === null || record.revokedAt !== null) return null;
  if (!digestsEqual(await sha256Hex(secret), record.hash)) return null;
  return {
    kind: "key",
    id: record.id,
    tenant: record.tenant,
    scopes: new Set(record.scopes),
    collections: record.collections,
    rateLimit: record.rateLimit,
  };
}

type CacheEntry = { record: (KeyRecord & { hash: string }) | null; until: number };
const lookups = new Map<string, Promise<CacheEntry | "limited">>();

async function lookUp(
  db: D1Database,
  id: string,
  now: number,
  mayLookUp: () => Promise<boolean>,
): Promise<CacheEntry | "limited"> {
  if (!(await mayLookUp())) return "limited";
  const row = await db
    .prepare("SELECT * FROM api_keys WHERE id = ?")
    .bind(id)
    .first<Record<string, unknown>>();
  const entry: CacheEntry = {
    record: row === null ? null : fromRow(rowFromD1(row)),
    until: now + KEY_CACHE_TTL_MS,
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value ?? "");
  cache.set(id, entry);
  return entry;
}

/** A raw D1 row (snake_case) as drizzle's select would have mapped it. */
function rowFromD1(row: Record<string, unknown>): Row {
  return {
    id: String(row.id),
    tenant: String(row.tenant),
    name: String(row.name),
    scopes: String(row.scopes),
    collections: row.collections === null ? null : String(row.collections),
    rateLimit: String(row.rate_limit),
    secretHash: String(row.secret_hash),
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}
