/**
 * Ports of their own (runServe with `metricsPort` and `healthPort`): `/metrics`
 * on the metrics port, `/healthz` and `/readyz` on the health port, both plain
 * HTTP, and neither on the webhook port (404), which serves only /validate and
 * /mutate; nor each other's. Without them (the other suites), all of it is on
 * the webhook port.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../../src/cli/serve.js';
import { freePort } from '../../helpers/net.js';
import { admit, httpGet, httpsRequest, serve } from './server.js';
import { cluster } from './support.js';

describe('metrics and probes on ports of their own', () => {
  let server: RunningServer;
  before(async () => {
    server = await serve({ metricsPort: 0, healthPort: 0 });
  });
  after(() => server.close());

  it("/metrics is on the metrics port, counting the webhook port's requests", async () => {
    assert.equal((await admit(server.port, cluster())).allowed, true);
    const r = await httpGet(server.metricsPort!, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.body, /remote_cluster_guard_admission_requests_total\{path="\/validate"/);
    assert.equal((await httpGet(server.metricsPort!, '/healthz')).status, 404);
  });

  it('/healthz and /readyz are on the health port', async () => {
    assert.deepEqual(await httpGet(server.healthPort!, '/healthz'), { status: 200, body: 'ok' });
    assert.deepEqual(await httpGet(server.healthPort!, '/readyz'), { status: 200, body: 'ok' });
    assert.equal((await httpGet(server.healthPort!, '/metrics')).status, 404);
  });

  it('the webhook port answers 404 for /metrics, /healthz and /readyz', async () => {
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      const r = await httpsRequest(server.port, path);
      assert.equal(r.status, 404, path);
      assert.match(r.body, /use POST \/validate or POST \/mutate/);
    }
  });

  it('one port for both when they are the same', async () => {
    const port = await freePort();
    const both = await serve({ metricsPort: port, healthPort: port });
    try {
      assert.equal(both.metricsPort, port);
      assert.equal(both.healthPort, port);
      assert.equal((await httpGet(port, '/metrics')).status, 200);
      assert.equal((await httpGet(port, '/readyz')).status, 200);
    } finally {
      await both.close();
    }
  });
});
