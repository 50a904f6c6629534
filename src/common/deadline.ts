/**
 * Waiting with a bound: a request to a hung API server, a server that will
 * not close, a flush to a full disk never settle on their own. The timers
 * do not keep the process up.
 */

/** The rejection of `withDeadline` when `ms` passed first. */
export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}

/** `promise`, or a DeadlineExceeded (`<what>: no answer within <ms> ms`) after `ms` milliseconds. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** True when `promise` settles within `ms` (its rejection counts as settled), false when the time ran out. Never rejects. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(promise, ms, 'wait').then(
    () => true,
    (err: unknown) => !(err instanceof DeadlineExceeded),
  );
}
