/**
 * Waiting in unit tests for something asynchronous (a watch event, a
 * timer-driven status) without a fixed sleep: poll, and fail naming what
 * did not happen.
 */
import assert from 'node:assert/strict';

/** Polls `check` every 20 ms until it is true; fails with `what` after `ms` milliseconds. */
export async function eventually(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
