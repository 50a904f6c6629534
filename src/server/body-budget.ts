/**
 * A global budget of request-body bytes in flight. A request reserves the
 * bytes it may hold (its content-length, or the body limit for a chunked
 * body) before a byte is read, and gives them back once answered; a request
 * that does not fit is refused at once, so N concurrent bodies cannot hold
 * more than the budget however large N grows. Reserve and release are O(1)
 * and allocate nothing (the admission hot path calls them per request).
 */
export class BodyBudget {
  private used = 0;

  /** @param limitBytes The most body bytes reserved at once; a single body of up to this size always fits an empty budget. */
  constructor(readonly limitBytes: number) {}

  /** Bytes reserved now. */
  get inFlightBytes(): number {
    return this.used;
  }

  /**
   * Reserves `bytes` (≥ 0); false, reserving nothing, when that would pass
   * the limit. Every true must be matched by exactly one `release(bytes)`.
   */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  /** Gives back bytes reserved by `tryReserve`. */
  release(bytes: number): void {
    this.used -= bytes;
  }
}
