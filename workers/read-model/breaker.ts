/**
 * A circuit breaker for the read model: after `threshold` consecutive failures or timeouts it opens for
 * `cooldownMs`, so a dead D1 does not cost every read a timeout; then one trial call decides.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold = 3,
    private readonly cooldownMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  allow(): boolean {
    return this.now() >= this.openUntil;
  }

  success(): void {
    this.failures = 0;
  }

  failure(): void {
    this.failures += 1;
    if (this.failures >= this.threshold) {
      this.openUntil = this.now() + this.cooldownMs;
      this.failures = this.threshold - 1; // half-open: one more failure re-opens at once
    }
  }

  /** Seconds until a trial call is allowed, for Retry-After. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.openUntil - this.now()) / 1000));
  }
}
