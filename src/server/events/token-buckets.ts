/**
 * One token bucket per key (an object), refilled lazily: `burst` tokens at
 * most, one more every `refillMs`. At most `maxKeys` buckets are kept, the
 * least recently used dropped first (a dropped bucket was, or would soon be,
 * full again, so dropping it only forgives a key that went quiet). The same
 * shape as client-go's per-object EventSourceObjectSpamFilter
 * (tools/record/events_cache.go), which gives each source and object a bucket.
 */
export interface TokenBucketOptions {
  burst: number;
  refillMs: number;
  maxKeys: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, ms. */
  at: number;
}

export class TokenBuckets {
  /** In least-recently-used order (a used key is moved to the end). */
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly o: TokenBucketOptions) {}

  /** Takes a token for `key` at `now` (ms): true when there was one. */
  take(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(this.o.burst, b.tokens + (now - b.at) / this.o.refillMs);
      b.at = now;
    } else {
      b = { tokens: this.o.burst, at: now };
      if (this.buckets.size >= this.o.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Keys held (at most `maxKeys`). */
  get size(): number {
    return this.buckets.size;
  }
}
