/**
 * A circuit breaker for the read model: after `threshold` consecutive failures or timeouts it opens for
 * `cooldownMs`, so a dead D1 does not cost every read a timeout; then one trial call decides.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  /** After a cooldown, one call goes through to decide; the others keep skipping until it has. */
  private trial = false;

  constructor(
    private readonly threshold = 3,
    private readonly cooldownMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  allow(): boolean {
    if (this.now() < this.openUntil) return false;
    if (this.openUntil === 0) return true;
    // Half-open: the first caller after the cooldown is the trial.
    if (this.trial) return false;
    this.trial = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openUntil = 0;
    this.trial = false;
  }

  failure(): void {
    this.failures += 1;
    this.trial = false;
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
