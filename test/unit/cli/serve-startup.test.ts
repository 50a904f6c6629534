/**
 * `serve` with a live state never waits on the API server before listening
 * (issue 12): against an API server that answers nothing, the port opens,
 * `/healthz` is ok and `/readyz` is 503 until the lists come in.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { httpsRequest, serve } from '../operations/server.js';
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
