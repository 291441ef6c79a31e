/**
 * API keys as stored and checked: the key's format, D1 holding only the secret's SHA-256, verification (valid,
 * wrong, malformed, unknown, revoked), the constant-time comparisons of workers/security/constant-time.ts, and
 * that a key check compares digests with crypto.subtle.timingSafeEqual.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeBase64Url } from "../../domain/base64url";
import { sha256Hex } from "../../domain/digest";
import {
  createKey,
  KEY_CACHE_TTL_MS,
  keyClock,
  looksLikeKey,
  revokeKey,
  verifyKey,
} from "../../workers/security/api-keys";
import { digestsEqual, secretsEqual } from "../../workers/security/constant-time";
import { send, uniqueId } from "../helpers";

const spec = (tenant = uniqueId("t")) => ({
  tenant,
  name: "unit",
  scopes: ["read" as const, "write" as const],
  collections: ["orders"],
  rateLimit: "low",
});

const KEY = /^tsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

function parts(key: string): { id: string; secret: string } {
  const match = KEY.exec(key);
  if (match === null) throw new Error(`not a key: ${key}`);
  return { id: match[1] ?? "", secret: match[2] ?? "" };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createKey", () => {
  it("makes tsk_<16 hex>_<43 base64url> keys: 64 random bits of id, 256 of secret, never the same twice", async () => {
    const made = await Promise.all(Array.from({ length: 20 }, () => createKey(env.DB, spec())));
    for (const { key, record } of made) {
      expect(key).toMatch(KEY);
      const { id, secret } = parts(key);
      expect(id).toBe(record.id);
      expect(decodeBase64Url(secret)).toHaveLength(32);
      expect(looksLikeKey(key)).toBe(true);
    }
    expect(new Set(made.map((m) => m.record.id)).size).toBe(20);
    expect(new Set(made.map((m) => parts(m.key).secret)).size).toBe(20);
  });

  it("stores the record and the secret's SHA-256 only: no part of the secret is in the row", async () => {
    const now = Date.now();
    const { key, record } = await createKey(env.DB, spec(), now);
    expect(record).toMatchObject({ ...spec(record.tenant), createdAt: now, revokedAt: null });
    const { id, secret } = parts(key);
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(id)
      .first<Record<string, unknown>>();
    expect(row).toEqual({
      id,
      tenant: record.tenant,
      name: "unit",
      scopes: '["read","write"]',
      collections: '["orders"]',
      rate_limit: "low",
      secret_hash: await sha256Hex(secret),
      created_at: now,
      revoked_at: null,
    });
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(key);
    // Not even an eight-character piece of the secret.
    for (let i = 0; i + 8 <= secret.length; i++) expect(stored).not.toContain(secret.slice(i, i + 8));
  });
});

describe("looksLikeKey", () => {
  it("tells keys from JWTs and the operator secret by their prefix", () => {
    expect(looksLikeKey("tsk_0123456789abcdef_x")).toBe(true);
    expect(looksLikeKey("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")).toBe(false);
    expect(looksLikeKey("test-operator-secret-0123456789")).toBe(false);
    expect(looksLikeKey("TSK_0123456789abcdef_x")).toBe(false);
  });
});

describe("verifyKey", () => {
  it("answers a valid key with its principal", async () => {
    const { key, record } = await createKey(env.DB, spec());
    expect(await verifyKey(env.DB, key)).toEqual({
      kind: "key",
      id: record.id,
      tenant: record.tenant,
      scopes: new Set(["read", "write"]),
      collections: ["orders"],
      rateLimit: "low",
    });
  });

  it("answers null to a wrong secret, a malformed key, an unknown id and a revoked key", async () => {
    const { key, record } = await createKey(env.DB, spec());
    const { id, secret } = parts(key);
    const flipped = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    expect(await verifyKey(env.DB, `tsk_${id}_${flipped}`)).toBeNull();
    expect(await verifyKey(env.DB, `tsk_${id}_${secret.slice(1)}`)).toBeNull();
    expect(await verifyKey(env.DB, `tsk_${id}_${secret}A`)).toBeNull();
    expect(await verifyKey(env.DB, `tsk_${id.toUpperCase()}_${secret}`)).toBeNull();
    expect(await verifyKey(env.DB, `tsk_${"0".repeat(16)}_${secret}`)).toBeNull();
    expect(await verifyKey(env.DB, "")).toBeNull();
    expect(await verifyKey(env.DB, `${key} `)).toBeNull();
    expect(await verifyKey(env.DB, key)).not.toBeNull();
    expect(await revokeKey(env.DB, record.id, "another-tenant")).toBeNull();
    expect(await verifyKey(env.DB, key)).not.toBeNull();
    expect(await revokeKey(env.DB, record.id, record.tenant)).toMatchObject({ id: record.id });
    expect(await verifyKey(env.DB, key)).toBeNull();
  });

  it("asks D1 only on a cache miss, and asks mayLookUp first: a refusal is 'limited' and no query", async () => {
    const { key } = await createKey(env.DB, spec());
    const prepare = vi.spyOn(env.DB, "prepare");
    const refuse = vi.fn(async () => false);
    expect(await verifyKey(env.DB, key, refuse)).toBe("limited");
    expect(refuse).toHaveBeenCalledTimes(1);
    expect(prepare).not.toHaveBeenCalled();
    const allow = vi.fn(async () => true);
    expect(await verifyKey(env.DB, key, allow)).toMatchObject({ kind: "key" });
    expect(prepare).toHaveBeenCalledTimes(1);
    // Cached now: neither the limiter nor D1 is asked again, until the entry is KEY_CACHE_TTL_MS old.
    expect(await verifyKey(env.DB, key, refuse)).toMatchObject({ kind: "key" });
    expect(refuse).toHaveBeenCalledTimes(1);
    expect(prepare).toHaveBeenCalledTimes(1);
    const realNow = keyClock.now;
    const start = Date.now();
    try {
      keyClock.now = () => start + KEY_CACHE_TTL_MS + 1;
      expect(await verifyKey(env.DB, key, allow)).toMatchObject({ kind: "key" });
      expect(prepare).toHaveBeenCalledTimes(2);
    } finally {
      keyClock.now = realNow;
    }
    // A malformed key is refused without either.
    expect(await verifyKey(env.DB, "tsk_nope", refuse)).toBeNull();
    expect(refuse).toHaveBeenCalledTimes(1);
  });

  it("looks a key up once for requests that miss the cache together, counting once against the client", async () => {
    const { key } = await createKey(env.DB, spec());
    const prepare = vi.spyOn(env.DB, "prepare");
    const allow = vi.fn(async () => true);
    const answers = await Promise.all(Array.from({ length: 20 }, () => verifyKey(env.DB, key, allow)));
    expect(answers.every((a) => a !== null && a !== "limited" && a.kind === "key")).toBe(true);
    expect(prepare).toHaveBeenCalledTimes(1);
    expect(allow).toHaveBeenCalledTimes(1);
  });

  it("compares the secret's digest with crypto.subtle.timingSafeEqual when the secret is wrong", async () => {
    const { key } = await createKey(env.DB, spec());
    const { id } = parts(key);
    expect(await verifyKey(env.DB, key)).not.toBeNull(); // cached: the check below is the comparison alone
    const timingSafeEqual = vi.spyOn(crypto.subtle, "timingSafeEqual");
    const wrong = `tsk_${id}_${"A".repeat(43)}`;
    expect(await verifyKey(env.DB, wrong)).toBeNull();
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    const [a, b] = timingSafeEqual.mock.calls[0] ?? [];
    const text = (buffer: unknown) => new TextDecoder().decode(buffer as ArrayBufferView);
    // Two hex digests of equal length: the stored hash and the wrong secret's.
    expect(text(a)).toBe(await sha256Hex("A".repeat(43)));
    expect(text(b)).toMatch(/^[0-9a-f]{64}$/);
    expect(text(b)).not.toBe(text(a));
  });

  it("compares with crypto.subtle.timingSafeEqual for a wrong secret sent to the Worker too", async () => {
    const { key } = await createKey(env.DB, { ...spec(), scopes: ["read"] });
    const { id } = parts(key);
    const headers = (token: string) => ({
      authorization: `Bearer ${token}`,
      "cf-connecting-ip": "2001:db8:a5::1",
    });
    expect((await send("/v1/_changes?limit=1", { headers: headers(key) })).status).toBe(200);
    const timingSafeEqual = vi.spyOn(crypto.subtle, "timingSafeEqual");
    const refused = await send("/v1/_changes?limit=1", { headers: headers(`tsk_${id}_${"B".repeat(43)}`) });
    expect(refused.status).toBe(401);
    expect(timingSafeEqual).toHaveBeenCalled();
  });
});

describe("constant-time comparisons", () => {
  it("digestsEqual: equal, different, different-length and empty digests", async () => {
    const a = await sha256Hex("a");
    const b = await sha256Hex("b");
    expect(digestsEqual(a, a)).toBe(true);
    expect(digestsEqual(a, `${a}`)).toBe(true);
    expect(digestsEqual(a, b)).toBe(false);
    expect(digestsEqual(a, `${a.slice(0, -1)}${a.endsWith("0") ? "1" : "0"}`)).toBe(false);
    expect(digestsEqual(a, a.slice(0, -1))).toBe(false);
    expect(digestsEqual(a, `${a}0`)).toBe(false);
    expect(digestsEqual(a, "")).toBe(false);
    expect(digestsEqual("", a)).toBe(false);
    expect(digestsEqual("", "")).toBe(true);
  });

  it("secretsEqual: equal, different, different-length and empty secrets", async () => {
    expect(await secretsEqual("operator-secret-123", "operator-secret-123")).toBe(true);
    expect(await secretsEqual("operator-secret-123", "operator-secret-124")).toBe(false);
    expect(await secretsEqual("Operator-secret-123", "operator-secret-123")).toBe(false);
    expect(await secretsEqual("operator-secret-123", "operator-secret-1234")).toBe(false);
    expect(await secretsEqual("operator", "operator-secret-123")).toBe(false);
    expect(await secretsEqual("", "operator-secret-123")).toBe(false);
    expect(await secretsEqual("operator-secret-123", "")).toBe(false);
    expect(await secretsEqual("", "")).toBe(true);
    // Byte for byte: the same text in another Unicode normalization form is another secret.
    expect(await secretsEqual("\u00e9", "e\u0301")).toBe(false);
  });

  it("secretsEqual compares with crypto.subtle.timingSafeEqual, also when the lengths differ", async () => {
    const timingSafeEqual = vi.spyOn(crypto.subtle, "timingSafeEqual");
    expect(await secretsEqual("short", "a much longer secret")).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });
});
