import { describe, expect, it } from "vitest";
import {
  callDocument,
  DEFAULT_RETRY,
  type DocumentStub,
  type RetryPolicy,
} from "../../workers/documents-client";
import { HttpProblem } from "../../workers/http/problem";

/** An error as the runtime raises it for a Durable Object failure, with its classification flags. */
function runtimeError(flags: { retryable?: boolean; overloaded?: boolean }): Error {
  return Object.assign(new Error("Durable Object failure"), flags);
}

function harness(failures: Error[], idempotent: boolean, overrides: Partial<RetryPolicy> = {}) {
  const sleeps: number[] = [];
  let clock = 0;
  let stubs = 0;
  let calls = 0;
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY,
    idempotent,
    random: () => 1,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...overrides,
  };
  const run = () =>
    callDocument(
      () => {
        stubs += 1;
        return {} as DocumentStub;
      },
      async () => {
        calls += 1;
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        return "ok";
      },
      policy,
    );
  return { run, sleeps, counts: () => ({ stubs, calls }) };
}

async function problemFrom(promise: Promise<unknown>): Promise<HttpProblem> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HttpProblem)) throw new Error(`expected an HttpProblem, got ${String(error)}`);
  return error;
}

describe("callDocument", () => {
  it("never retries an overloaded object and answers 503 with Retry-After", async () => {
    const h = harness([runtimeError({ overloaded: true, retryable: true })], true);
    const problem = await problemFrom(h.run());
    expect(problem.status).toBe(503);
    expect(problem.code).toBe("overloaded");
    expect(problem.headers["Retry-After"]).toBe("1");
    expect(h.counts().calls).toBe(1);
  });

  it("retries retryable errors of idempotent calls with backoff and a fresh stub each time", async () => {
    const h = harness([runtimeError({ retryable: true }), runtimeError({ retryable: true })], true);
    expect(await h.run()).toBe("ok");
    expect(h.counts()).toEqual({ stubs: 3, calls: 3 });
    expect(h.sleeps).toEqual([DEFAULT_RETRY.baseDelayMs, DEFAULT_RETRY.baseDelayMs * 2]);
  });

  it("treats an object reset mid-call (durableObjectReset) as retryable: retried when safe, 503 outcome-unknown when not", async () => {
    const reset = () =>
      Object.assign(new Error("Durable Object reset because its code was updated."), {
        durableObjectReset: true,
      });
    const safe = harness([reset()], true);
    expect(await safe.run()).toBe("ok");
    expect(safe.counts().calls).toBe(2);
    const unsafe = harness([reset()], false);
    expect(await problemFrom(unsafe.run())).toMatchObject({ status: 503, code: "outcome-unknown" });
  });

  it("jitters the delay below the exponential cap", async () => {
    const h = harness([runtimeError({ retryable: true })], true, { random: () => 0.25 });
    await h.run();
    expect(h.sleeps).toEqual([DEFAULT_RETRY.baseDelayMs * 0.25]);
  });

  it("does not retry a write without an idempotency key: 503, outcome unknown", async () => {
    const h = harness([runtimeError({ retryable: true })], false);
    const problem = await problemFrom(h.run());
    expect(problem.status).toBe(503);
    expect(problem.code).toBe("outcome-unknown");
    expect(h.counts().calls).toBe(1);
  });

  it("gives up with 503 when the next retry would pass the deadline", async () => {
    const failures = Array.from({ length: 50 }, () => runtimeError({ retryable: true }));
    const h = harness(failures, true, { deadlineMs: 100 });
    const problem = await problemFrom(h.run());
    expect(problem.code).toBe("unavailable");
    expect(h.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
  });

  it("lets faults that are not retryable propagate unchanged", async () => {
    const fault = new Error("bug");
    const h = harness([fault], true);
    await expect(h.run()).rejects.toBe(fault);
    expect(h.counts().calls).toBe(1);
  });

  it("abandons an attempt that hangs past its timeout and, when the call is safe to repeat, tries again", async () => {
    let calls = 0;
    const policy: RetryPolicy = {
      ...DEFAULT_RETRY,
      idempotent: true,
      attemptTimeoutMs: 20,
      sleep: async () => {},
    };
    const result = await callDocument(
      () => ({}) as DocumentStub,
      () => {
        calls += 1;
        return calls === 1 ? new Promise<string>(() => {}) : Promise.resolve("ok");
      },
      policy,
    );
    expect(result).toBe("ok");
    expect(calls).toBe(2);
  });

  it("answers 503 outcome-unknown when an unkeyed write hangs past its timeout", async () => {
    const policy: RetryPolicy = { ...DEFAULT_RETRY, idempotent: false, attemptTimeoutMs: 20 };
    const problem = await problemFrom(
      callDocument(
        () => ({}) as DocumentStub,
        () => new Promise<string>(() => {}),
        policy,
      ),
    );
    expect(problem).toMatchObject({ status: 503, code: "outcome-unknown" });
  });

  describe("with the real defaults", () => {
    it("keeps each attempt well inside the deadline, so a hung attempt leaves time for another", () => {
      expect(DEFAULT_RETRY.attemptTimeoutMs * 2).toBeLessThan(DEFAULT_RETRY.deadlineMs);
    });

    it("retries a call safe to repeat whose first attempt hangs, and answers within the deadline", async () => {
      let calls = 0;
      const started = Date.now();
      const result = await callDocument(
        () => ({}) as DocumentStub,
        () => {
          calls += 1;
          return calls === 1 ? new Promise<string>(() => {}) : Promise.resolve("ok");
        },
        { ...DEFAULT_RETRY, idempotent: true },
      );
      expect(result).toBe("ok");
      expect(calls).toBe(2);
      expect(Date.now() - started).toBeLessThan(DEFAULT_RETRY.deadlineMs);
    });

    it("answers 503 by the deadline when every attempt hangs", async () => {
      let calls = 0;
      const started = Date.now();
      const problem = await problemFrom(
        callDocument(
          () => ({}) as DocumentStub,
          () => {
            calls += 1;
            return new Promise<string>(() => {});
          },
          { ...DEFAULT_RETRY, idempotent: true },
        ),
      );
      expect(problem).toMatchObject({ status: 503, code: "unavailable" });
      expect(calls).toBeGreaterThanOrEqual(2);
      // The deadline bounds the whole call (timers fire a little late, never early).
      expect(Date.now() - started).toBeLessThan(DEFAULT_RETRY.deadlineMs + 500);
    });
  });
});
