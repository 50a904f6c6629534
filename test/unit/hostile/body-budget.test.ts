/**
 * The in-flight body budget on the real HTTPS server, with a small budget
 * (two bodies at the 64 KiB limit): requests past it are answered 429 with
 * Retry-After at once, from their headers alone, and their connections
 * closed; the bytes come back when requests are answered or aborted, so the
 * budget never leaks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BodyBudget } from '../../../src/server/body-budget.js';
import { hostileApp, suiteHttpsServer, validPoolReview } from './support.js';
import { connect, postHead } from '../../helpers/tls-client.js';

const LIMIT = 64 * 1024;
const budget = new BodyBudget(2 * LIMIT);
const server = suiteHttpsServer('budget', hostileApp({ maxBodyBytes: LIMIT, bodyBudget: budget }).listener);

const review = validPoolReview('budget-1');
/** A valid review exactly at the limit (JSON allows the trailing spaces). */
const full = review + ' '.repeat(LIMIT - Buffer.byteLength(review));

/** Resolves once `cond` holds, polling every 10 ms; rejects after `ms`. */
async function until(cond: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A 200 AdmissionReview for budget-1 in a raw HTTP answer. */
function assertAnswered(raw: string): void {
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.match(raw, /"kind":"AdmissionReview"/);
  assert.match(raw, /"uid":"budget-1"/);
}

// One at a time: each test starts from, and checks it ends with, an empty budget.
describe('in-flight body budget', () => {
  it('past the budget: 429 with Retry-After from the headers alone, the body unread; released after answers and aborts', async () => {
    // Two requests hold the whole budget: their bodies are declared in full and sent in part.
    const held = await Promise.all([connect(server.port, server.caCert), connect(server.port, server.caCert)]);
    for (const c of held) c.socket.write(postHead('/validate', LIMIT) + full.slice(0, 100));
    await until(() => budget.inFlightBytes === 2 * LIMIT, 'both bodies reserved');

    // Five more, headers only: answered at once, without waiting for a body that never comes.
    const shed = await Promise.all(Array.from({ length: 5 }, () => connect(server.port, server.caCert)));
    const started = Date.now();
    for (const [i, c] of shed.entries()) c.socket.write(postHead(i % 2 ? '/mutate' : '/validate', i === 4 ? 200 : LIMIT));
    for (const c of shed) {
      const raw = await c.waitFor('}', 3_000);
      const [head, body] = raw.split('\r\n\r\n') as [string, string];
      assert.match(head, /^HTTP\/1\.1 429 /);
      assert.match(head, /\r\nretry-after: 1\r\n/i);
      assert.match(head, /\r\nconnection: close\r\n/i);
      const status = JSON.parse(body) as Record<string, unknown>;
      assert.deepEqual(
        { kind: status['kind'], code: status['code'], reason: status['reason'], details: status['details'] },
        { kind: 'Status', code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } },
      );
      await c.closed(3_000);
    }
    assert.ok(Date.now() - started < 3_000, `answered in ${Date.now() - started} ms`);
    assert.equal(budget.inFlightBytes, 2 * LIMIT, 'a refused request reserves nothing');

    // One held request completes, the other is aborted: both give their bytes back.
    held[0]!.socket.write(full.slice(100));
    assertAnswered(await held[0]!.waitFor('"uid":"budget-1"'));
    held[1]!.socket.destroy();
    await until(() => budget.inFlightBytes === 0, 'budget released');
    held[0]!.socket.destroy();

    // The whole budget is there again: two bodies at the limit at once.
    const again = await Promise.all([connect(server.port, server.caCert), connect(server.port, server.caCert)]);
    for (const c of again) c.socket.write(postHead('/validate', LIMIT) + full);
    for (const c of again) assertAnswered(await c.waitFor('"uid":"budget-1"'));
    for (const c of again) c.socket.destroy();
    await until(() => budget.inFlightBytes === 0, 'budget released');
  });

  it('a chunked body (no content-length) reserves the body limit until answered', async () => {
    const c = await connect(server.port, server.caCert);
    c.socket.write(postHead('/validate', undefined) + `${(100).toString(16)}\r\n${review.slice(0, 100)}\r\n`);
    await until(() => budget.inFlightBytes === LIMIT, 'the limit reserved');
    const rest = review.slice(100);
    c.socket.write(`${Buffer.byteLength(rest).toString(16)}\r\n${rest}\r\n0\r\n\r\n`);
    assertAnswered(await c.waitFor('"uid":"budget-1"'));
    await until(() => budget.inFlightBytes === 0, 'budget released');
    c.socket.destroy();
  });

  it('a declared body over the limit: 413 from the headers alone, nothing reserved', async () => {
    const c = await connect(server.port, server.caCert);
    c.socket.write(postHead('/validate', 100 * 1024 * 1024));
    const raw = await c.waitFor('}', 3_000);
    assert.match(raw, /^HTTP\/1\.1 413 /);
    assert.match(raw, /\r\nconnection: close\r\n/i);
    await c.closed(3_000);
    assert.equal(budget.inFlightBytes, 0);
  });
});
