import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { withTimeout } from "../../platform/timeout";
import { CircuitBreaker } from "../../workers/read-model/breaker";

/** A breaker on a clock the test moves. */
function breaker(threshold = 3, cooldownMs = 10_000) {
  let now = 1_000_000;
  const b = new CircuitBreaker(threshold, cooldownMs, () => now);
  return {
    b,
    advance(ms: number) {
      now += ms;
    },
    fail(times: number) {
      for (let i = 0; i < times; i++) b.failure();
    },
  };
}

describe("CircuitBreaker", () => {
  it("allows calls until the threshold of consecutive failures", () => {
    const { b, fail } = breaker(3);
    expect(b.allow()).toBe(true);
    fail(2);
    expect(b.allow()).toBe(true);
    fail(1);
    expect(b.allow()).toBe(false);
  });

  it("opens on the first failure with a threshold of 1", () => {
    const { b, fail } = breaker(1);
    fail(1);
    expect(b.allow()).toBe(false);
  });

  it("refuses calls until the cooldown has passed, then allows them", () => {
    const { b, fail, advance } = breaker(3, 10_000);
    fail(3);
    advance(9_999);
    expect(b.allow()).toBe(false);
    advance(1);
    expect(b.allow()).toBe(true);
  });

  it("counts only consecutive failures: a success resets the count", () => {
    const { b, fail } = breaker(3);
    fail(2);
    b.success();
    fail(2);
    expect(b.allow()).toBe(true);
    fail(1);
    expect(b.allow()).toBe(false);
  });

  it("re-opens at once when the trial call after the cooldown fails", () => {
    const { b, fail, advance } = breaker(3, 10_000);
    fail(3);
    advance(10_000);
    expect(b.allow()).toBe(true);
    fail(1);
    expect(b.allow()).toBe(false);
    // For a whole new cooldown.
    advance(9_999);
    expect(b.allow()).toBe(false);
    advance(1);
    expect(b.allow()).toBe(true);
  });

  it("needs the full threshold again once a trial call succeeds", () => {
    const { b, fail, advance } = breaker(3, 10_000);
    fail(3);
    advance(10_000);
    b.success();
    fail(2);
    expect(b.allow()).toBe(true);
    fail(1);
    expect(b.allow()).toBe(false);
  });

  it("tells callers to retry after the rest of the cooldown, rounded up, and never less than a second", () => {
    const { b, fail, advance } = breaker(3, 10_000);
    fail(3);
    expect(b.retryAfterSeconds()).toBe(10);
    advance(500);
    expect(b.retryAfterSeconds()).toBe(10);
    advance(8_600);
    expect(b.retryAfterSeconds()).toBe(1);
    while (!b.allow()) {
      expect(b.retryAfterSeconds()).toBeGreaterThanOrEqual(1);
      advance(250);
    }
  });

  it("uses the service defaults of 3 failures and 10 seconds", () => {
    let now = 0;
    const b = new CircuitBreaker(undefined, undefined, () => now);
    b.failure();
    b.failure();
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.allow()).toBe(false);
    now = 9_999;
    expect(b.allow()).toBe(false);
    now = 10_000;
    expect(b.allow()).toBe(true);
  });
});

describe("withTimeout", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("rejects a promise that never settles once the time is up, and not before", async () => {
    let outcome: "pending" | "resolved" | Error = "pending";
    const raced = withTimeout(new Promise<never>(() => {}), 1_500).then(
      () => {
        outcome = "resolved";
      },
      (error: unknown) => {
        outcome = error instanceof Error ? error : new Error(String(error));
      },
    );
    await vi.advanceTimersByTimeAsync(1_499);
    expect(outcome).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    await raced;
    expect(outcome).toBeInstanceOf(Error);
    expect(String(outcome)).toContain("1500 ms");
  });

  it("passes a resolved value through and clears its timer", async () => {
    await expect(withTimeout(Promise.resolve(42), 1_000)).resolves.toBe(42);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("passes the promise's own rejection through and clears its timer", async () => {
    const failure = new Error("D1 is down");
    await expect(withTimeout(Promise.reject(failure), 1_000)).rejects.toBe(failure);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("resolves with a value that arrives just before the deadline", async () => {
    const late = new Promise<string>((resolve) => setTimeout(() => resolve("late"), 999));
    const raced = withTimeout(late, 1_000);
    await vi.advanceTimersByTimeAsync(999);
    await expect(raced).resolves.toBe("late");
  });
});
