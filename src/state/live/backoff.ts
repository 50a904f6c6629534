/**
 * Exponential backoff with full jitter: 1 s doubling up to 8 s, reset after a
 * success. The cap is low (it was 30 s) so a lost watch is back within seconds
 * of its server's return; what rules answer meanwhile is decided by the
 * state's staleness (cluster-watcher.ts), not by the retry delay.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly baseMs = 1000,
    private readonly maxMs = 8_000,
  ) {}

  /** The delay before the next retry, in milliseconds. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
