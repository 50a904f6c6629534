/**
 * Bounded memoisation of pure text parsers the rules call on every request
 * (a CIDR, an Elasticsearch version): the same few strings come back request
 * after request, and under load a parser's regular expressions and
 * allocations cost several times what a micro-benchmark shows.
 *
 * Results are frozen (callers share them). Texts longer than `maxKeyLength`
 * are parsed every time and never kept, and at most `limit` results are held,
 * the oldest dropped first: hostile input can neither grow the cache nor
 * poison it (a key is only ever its own text's result).
 */
export interface MemoOptions {
  /** Results held at most; 4096 unless set. */
  limit?: number;
  /** Longer keys bypass the cache; 64 characters unless set. */
  maxKeyLength?: number;
}

/** `parse` memoised on its key; `parse` must be pure and its result must not be mutated by callers. */
export function memoizeText<T>(parse: (text: string) => T, options: MemoOptions = {}): (text: string) => T {
  const limit = options.limit ?? 4096;
  const maxKeyLength = options.maxKeyLength ?? 64;
  const cache = new Map<string, T>();
  return (text) => {
    if (text.length > maxKeyLength) return parse(text);
    let r = cache.get(text);
    if (r === undefined && !cache.has(text)) {
      r = deepFreeze(parse(text));
      // Insertion order is age: drop the oldest when full.
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(text, r);
    }
    return r as T;
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * `derive` memoised on the identity of its argument (a WeakMap, so entries go
 * with the objects). For facts derived from objects the cluster state holds:
 * the state replaces an object on every change and never edits one in place,
 * so identity is a sound key.
 */
export function memoizeByObject<K extends object, T>(derive: (object: K) => T): (object: K) => T {
  const cache = new WeakMap<K, T>();
  return (object) => {
    if (cache.has(object)) return cache.get(object) as T;
    const r = deepFreeze(derive(object));
    cache.set(object, r);
    return r;
  };
}
