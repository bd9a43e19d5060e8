/**
 * Reconnect delays: exponential from `initialMs` to `maxMs`, with jitter so that thousands of
 * visitors whose server restarted do not all come back in the same millisecond.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 500,
    private readonly maxMs = 15_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call doubles the ceiling. Jitter keeps it within [50%, 100%]. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
