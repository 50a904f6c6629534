/**
 * The resource limits as `serve` wires them (runServe over HTTPS, small
 * limits): the flags reach the server, and the refusals show in /metrics.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../../src/cli/serve.js';
import { reviewOf } from '../../helpers/reviews.js';
import { connect, postHead } from '../../helpers/tls-client.js';
import { caOf, httpsRequest, metricsText, serve } from './server.js';
import { cluster, parseMetrics } from './support.js';

const BODY_LIMIT = 8192;
const IDLE_SECONDS = 1;
const CAP = 10;

function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const s = parseMetrics(text).find((m) => m.name === name && Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  return s?.value;
}

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('resource limits through serve', () => {
  let server: RunningServer;
  const ca = caOf().toString();
  before(async () => {
    server = await serve({ maxBodyBytes: BODY_LIMIT, maxInflightBodyBytes: BODY_LIMIT, maxConnections: CAP, idleTimeout: IDLE_SECONDS });
  });
  after(async () => server.close());

  it('--max-inflight-body-bytes: a body past it gets 429 with Retry-After; shed and in-flight bytes in /metrics', async () => {
    const held = await connect(server.port, ca);
    held.socket.write(postHead('/validate', BODY_LIMIT) + '{');
    await until(async () => metric(await metricsText(server.port), 'remote_cluster_guard_inflight_body_bytes') === BODY_LIMIT, 'reserved');
    const r = await httpsRequest(server.port, '/validate', { body: reviewOf(cluster()) });
    assert.equal(r.status, 429, r.body);
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(metric(await metricsText(server.port), 'remote_cluster_guard_requests_shed_total', { reason: 'body_budget' }), 1);
    held.socket.destroy();
    await until(async () => metric(await metricsText(server.port), 'remote_cluster_guard_inflight_body_bytes') === 0, 'released');
    const again = await httpsRequest(server.port, '/validate', { body: reviewOf(cluster()) });
    assert.equal(again.status, 200, again.body);
  });

  it(`--idle-timeout: a connection without a request is closed after ${IDLE_SECONDS} s`, async () => {
    const c = await connect(server.port, ca);
    const ms = await c.closed(IDLE_SECONDS * 1000 + 3_000);
    assert.ok(ms >= IDLE_SECONDS * 1000 - 100, `closed after ${ms} ms`);
  });

  it(`--max-connections: near the cap (${CAP}) a new connection closes the longest-idle one, counted in /metrics`, async () => {
    const idle = [];
    for (let i = 0; i < CAP - 1; i++) idle.push(await connect(server.port, ca));
    // The metrics request is the tenth connection.
    await metricsText(server.port);
    await idle[0]!.closed(3_000);
    assert.ok((metric(await metricsText(server.port), 'remote_cluster_guard_connections_closed_total', { reason: 'evicted' }) ?? 0) >= 1);
    for (const c of idle) c.socket.destroy();
  });
});
