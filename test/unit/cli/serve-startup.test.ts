/**
 * `serve` with a live state never waits on the API server before listening
 * (issue 12): against an API server that answers nothing, the port opens,
 * `/healthz` is ok and `/readyz` is 503 until the lists come in. With
 * `--manage-certs`, whose first reconcile needs the API server before the
 * webhook port can present a certificate, the health port opens first.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../helpers/net.js';
import { httpGet, httpsRequest, serve } from '../operations/server.js';
import { tempDir } from '../operations/support.js';
import { FakeApiServer } from '../state/fake-apiserver.js';

describe('serve start-up with a hung API server', () => {
  it('listens at once: /healthz 200, /readyz 503 until the API server answers, then 200', async () => {
    const fake = new FakeApiServer();
    const kc = await fake.start();
    fake.hang = true;
    const kubeconfig = join(tempDir('kubeconfig'), 'config');
    writeFileSync(kubeconfig, kc.exportConfig());
    // runServe resolves once listening; before the fix it awaited the first lists, which a hung server never answers.
    const server = await Promise.race([
      serve({ state: [], kubeconfig }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('runServe did not resolve within 5 s')), 5000).unref()),
    ]);
    try {
      assert.equal((await httpsRequest(server.port, '/healthz')).status, 200);
      const ready = await httpsRequest(server.port, '/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.body, /not ready: state not synced/);
      fake.resume();
      const deadline = Date.now() + 10_000;
      while ((await httpsRequest(server.port, '/readyz')).status !== 200) {
        assert.ok(Date.now() < deadline, '/readyz not 200 within 10 s of the API server answering');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await server.close();
      await fake.stop();
    }
  });
});

describe('serve --manage-certs start-up with a hung API server', () => {
  it('the health port answers at once: /healthz 200, /readyz 503 naming the certificate; a failed reconcile closes it', async () => {
    const fake = new FakeApiServer();
    const kc = await fake.start();
    fake.hang = true;
    const kubeconfig = join(tempDir('kubeconfig'), 'config');
    writeFileSync(kubeconfig, kc.exportConfig());
    const healthPort = await freePort();
    const starting = serve({ state: [], kubeconfig, manageCerts: true, certDir: tempDir('managed-certs'), healthPort });
    const outcome = starting.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    try {
      // Before the fix the reconcile came first, and nothing listened while the API server hung.
      const deadline = Date.now() + 2_000;
      let health = await httpGet(healthPort, '/healthz').catch(() => undefined);
      while (health?.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        health = await httpGet(healthPort, '/healthz').catch(() => undefined);
      }
      assert.equal(health?.status, 200, '/healthz on the health port within 2 s');
      const ready = await httpGet(healthPort, '/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.body, /serving certificate is not issued yet/);
    } finally {
      // The API server goes away: the reconcile fails, runServe rejects and stops what it had started.
      await fake.stop();
    }
    assert.notEqual(await outcome, 'resolved');
    await assert.rejects(httpGet(healthPort, '/healthz'), 'the health port is closed after the failed start');
  });
});
