/**
 * Rate limits per credential, in named tiers on the platform's rate-limiting bindings, and per client address for
 * key lookups that miss the cache. The local limiter counts in fixed windows aligned to the minute and is not
 * reset between tests: every test uses fresh keys and addresses, and a run that straddles a window boundary is
 * run again (with fresh ones) rather than judged on counts the limiter reset half-way.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { TIERS, UNAUTHENTICATED } from "../../workers/security/rate-limits";
import { makeKey, problem, type Sent, send, uniqueId } from "../helpers";

const WINDOW_MS = 60_000;
const windowOf = () => Math.floor(Date.now() / WINDOW_MS);

/** Runs `attempt` until one run falls within one limiter window; each run must use fresh keys and addresses. */
async function inOneWindow<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; i < 3; i++) {
    const start = windowOf();
    const result = await attempt();
    if (windowOf() === start) return result;
  }
  throw new Error("three runs in a row straddled a rate-limit window");
}

const freshAddress = () =>
  `2001:db8:a3::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;

function as(token: string, path: string, address: string, init: RequestInit = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  headers.set("cf-connecting-ip", address);
  return send(path, { ...init, headers });
}

/** `n` requests, `concurrency` at a time; answers in request order. */
async function many(n: number, request: (i: number) => Promise<Sent>, concurrency = 20): Promise<Sent[]> {
  const answers: Sent[] = [];
  for (let i = 0; i < n; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, n - i) }, (_, j) => request(i + j));
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

const hex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
const unknownKey = () => `tsk_${hex(8)}_${"A".repeat(43)}`;

function expectRateLimited(sent: Sent, tier: string, limit: number, period: number): void {
  expect(sent.status).toBe(429);
  expect(sent.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(problem(sent)).toMatchObject({
    status: 429,
    code: "rate-limited",
    limit,
    periodSeconds: period,
  });
  expect(sent.headers.get("retry-after")).toBe(String(period));
  expect(sent.headers.get("ratelimit-policy")).toBe(`"${tier}";q=${limit};w=${period}`);
  expect(sent.headers.get("ratelimit")).toBe(`"${tier}";r=0;t=${period}`);
}

describe("a key's tier", () => {
  it('answers 429 with Retry-After, RateLimit and RateLimit-Policy to request 61 of a "low" key, and not to another key of its tenant', async () => {
    expect(TIERS.low).toMatchObject({ limit: 60, period: 60 });
    const run = await inOneWindow(async () => {
      const tenant = uniqueId("t");
      const address = freshAddress();
      const key = await makeKey({ tenant, rateLimit: "low" });
      const other = await makeKey({ tenant, rateLimit: "low" });
      const allowed = await many(60, () => as(key, "/v1/_changes?limit=1", address));
      const refused = await as(key, "/v1/_changes?limit=1", address);
      const elsewhere = await as(key, "/v1/_stats", address);
      const write = await as(key, `/v1/todos/${uniqueId("limited")}`, address, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: '{"title":"must not be written"}',
      });
      const sibling = await as(other, "/v1/_changes?limit=1", address);
      return { allowed, refused, elsewhere, write, sibling, other };
    });

    for (const sent of run.allowed) {
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ changes: [] });
      expect(sent.headers.get("ratelimit-policy")).toBe('"low";q=60;w=60');
    }
    expectRateLimited(run.refused, "low", 60, 60);
    // The limit is the credential's, whatever the route; a refused write writes nothing.
    expectRateLimited(run.elsewhere, "low", 60, 60);
    expectRateLimited(run.write, "low", 60, 60);

    expect(run.sibling.status).toBe(200);
    expect(run.sibling.headers.get("ratelimit-policy")).toBe('"low";q=60;w=60');
  });

  it("writes nothing for a write refused with 429", async () => {
    const id = uniqueId("limited");
    const run = await inOneWindow(async () => {
      const tenant = uniqueId("t");
      const address = freshAddress();
      const key = await makeKey({ tenant, rateLimit: "low" });
      const reader = await makeKey({ tenant, rateLimit: "none" });
      await many(60, () => as(key, "/v1/_changes?limit=1", address));
      const write = await as(key, `/v1/todos/${id}`, address, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: '{"title":"must not be written"}',
      });
      return { write, reader, address };
    });
    expectRateLimited(run.write, "low", 60, 60);
    const read = await as(run.reader, `/v1/todos/${id}`, run.address, { headers: { consistency: "strong" } });
    expect(read.status).toBe(404);
    expect(problem(read).code).toBe("not-found");
  });

  it('never limits a "none" key (200 requests), and its answers carry no RateLimit-Policy', async () => {
    const key = await makeKey({ tenant: uniqueId("t"), rateLimit: "none" });
    const address = freshAddress();
    const answers = await many(200, () => as(key, "/v1/_changes?limit=1", address));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    for (const sent of answers) {
      expect(sent.body).toMatchObject({ changes: [] });
      expect(sent.headers.get("ratelimit-policy")).toBeNull();
    }
  });

  it("puts RateLimit-Policy on every answer of a limited key: successes, 404s and 400s", async () => {
    const key = await makeKey({ tenant: uniqueId("t"), rateLimit: "high" });
    const address = freshAddress();
    const policy = `"high";q=${TIERS.high.limit};w=${TIERS.high.period}`;
    const ok = await as(key, "/v1/_changes", address);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ratelimit-policy")).toBe(policy);
    const created = await as(key, `/v1/todos/${uniqueId("p")}`, address, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"title":"limited"}',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("ratelimit-policy")).toBe(policy);
    const missing = await as(key, `/v1/todos/${uniqueId("none")}`, address, {
      headers: { consistency: "strong" },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("ratelimit-policy")).toBe(policy);
    const bad = await as(key, "/v1/_changes?after=nonsense", address);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("ratelimit-policy")).toBe(policy);
  });
});

describe("key lookups that miss the cache", () => {
  it("answer 429 to the 121st unknown key from one address, without asking D1, while other addresses and cached keys go on", async () => {
    expect(UNAUTHENTICATED).toMatchObject({ limit: 120, period: 60 });
    const prepare = vi.spyOn(env.DB, "prepare");
    const lookups = () => prepare.mock.calls.filter(([sql]) => /FROM api_keys/i.test(sql)).length;
    try {
      const run = await inOneWindow(async () => {
        // Fresh keys each run: a run cut short by a window boundary may have cached the "uncached" one.
        const cached = await makeKey({ tenant: uniqueId("t"), rateLimit: "none" });
        // Verified once (from anywhere), it is in the isolate's cache: using it needs no lookup.
        expect((await as(cached, "/v1/_changes?limit=1", freshAddress())).status).toBe(200);
        const uncached = await makeKey({ tenant: uniqueId("t"), rateLimit: "none" });
        const address = freshAddress();
        const before = lookups();
        const guesses = await many(120, () => as(unknownKey(), "/v1/_changes", address));
        const afterGuesses = lookups();
        const refused = await as(unknownKey(), "/v1/_changes", address);
        const afterRefused = lookups();
        const validButUncached = await as(uncached, "/v1/_changes", address);
        const stillCached = await as(cached, "/v1/_changes?limit=1", address);
        const malformed = await as("tsk_nope", "/v1/_changes", address);
        const elsewhere = await as(unknownKey(), "/v1/_changes", freshAddress());
        return {
          guesses,
          refused,
          validButUncached,
          stillCached,
          malformed,
          elsewhere,
          looked: [afterGuesses - before, afterRefused - afterGuesses],
        };
      });

      for (const sent of run.guesses) {
        expect(sent.status).toBe(401);
        expect(problem(sent).code).toBe("invalid-credential");
      }
      expectRateLimited(run.refused, "unauthenticated", 120, 60);
      // A valid key that would need a lookup waits out the window too: the address may not make D1 work.
      expectRateLimited(run.validButUncached, "unauthenticated", 120, 60);
      expect(run.stillCached.status).toBe(200);
      expect(run.malformed.status).toBe(401);
      expect(problem(run.malformed).code).toBe("invalid-credential");
      expect(run.elsewhere.status).toBe(401);
      expect(problem(run.elsewhere).code).toBe("invalid-credential");
      // The Worker shares this env, so the spy sees its D1 calls: 120 lookups, then none for the 121st.
      expect(run.looked).toEqual([120, 0]);
    } finally {
      prepare.mockRestore();
    }
  });
});
