/**
 * Group commit: items that arrive while others are on their way share one turn of the event loop, so that their
 * synchronous storage statements share the turn's implicit transaction and reach storage in one commit (locally
 * one fsync) where a busy object would otherwise pay one commit per item. Each item is still applied alone, in
 * arrival order, and answered only once its group is durable (the output gate holds the answers until the commit).
 */

/** Items within this long of the previous one wait for the ones behind them. */
const DEFAULT_WINDOW_MS = 5;

interface Queued<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  private queued: Array<Queued<T, R>> = [];
  private scheduled = false;
  /** When the last item arrived, by the runtime's clock (this is about load, not data). */
  private lastAt = 0;
  /** Diagnostics: how many groups ran, and how many items they held. */
  readonly stats = { groups: 0, writes: 0 };

  constructor(
    private readonly apply: (item: T) => R,
    private readonly windowMs = DEFAULT_WINDOW_MS,
  ) {}

  /**
   * An item to an idle object applies at once. One that follows another closely waits until the runtime has
   * delivered the calls already on their way (a zero-delay timer fires after them), and then the whole group
   * applies in one turn.
   */
  submit(item: T): R | Promise<R> {
    const now = Date.now();
    const busy = now - this.lastAt < this.windowMs;
    this.lastAt = now;
    if (!busy && !this.scheduled) return this.apply(item);
    return new Promise<R>((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setTimeout(() => this.run(), 0);
    });
  }

  private run(): void {
    const group = this.queued;
    this.queued = [];
    this.scheduled = false;
    this.stats.groups++;
    this.stats.writes += group.length;
    for (const { item, resolve, reject } of group) {
      try {
        resolve(this.apply(item));
      } catch (error) {
        // This item failed alone (its statements applied nothing); the others still commit.
        reject(error);
      }
    }
  }
}
