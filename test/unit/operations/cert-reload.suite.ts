/**
 * Serving certificate rotation without a restart (runServe with --tls-cert and
 * --tls-key, polled every 50 ms here): new handshakes get the new
 * certificate, a keep-alive connection opened before keeps working, and a
 * certificate with a key that does not belong to it is never installed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { RunningServer } from '../../../src/cli/serve.js';
import { admit, caOf, httpsRequest, issue, metricsText, serve, tlsFiles } from './server.js';
import { cluster, logSink, sample, waitFor } from './support.js';

describe('serving certificate reload', () => {
  const first = issue(2);
  const second = issue(10);
  const third = issue(20);
  const files = tlsFiles(first);
  const sink = logSink();
  let server: RunningServer;
  const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1, ca: caOf() });
  const handshake = async () => (await httpsRequest(server.port, '/healthz')).peer;
  const notReloaded = () => sink.lines().filter((l) => l['msg'] === 'serving certificate not reloaded yet');

  before(async () => {
    server = await serve({ ...files, certReloadIntervalMs: 50, logLevel: 'debug', logDestination: sink.stream });
  });
  after(async () => {
    keepAlive.destroy();
    await server.close();
  });

  it('new handshakes present the new certificate; a keep-alive connection opened before keeps working', async () => {
    assert.equal((await handshake()).serialNumber, first.serialNumber);
    const opened = await httpsRequest(server.port, '/healthz', { agent: keepAlive });
    assert.equal(opened.peer.serialNumber, first.serialNumber);
    assert.equal(opened.reusedSocket, false);

    // Key first, then certificate: in between, the pair does not match and nothing changes.
    writeFileSync(files.tlsKey, second.key);
    writeFileSync(files.tlsCert, second.cert);
    const peer = await waitFor('the new certificate on a new connection', async () => {
      const p = await handshake();
      return p.serialNumber === second.serialNumber && p;
    });
    assert.equal(Date.parse(peer.validTo), Math.floor(second.notAfter / 1000) * 1000);

    const reused = await httpsRequest(server.port, '/healthz', { agent: keepAlive });
    assert.equal(reused.status, 200);
    assert.equal(reused.reusedSocket, true, 'the same connection');
    assert.equal(reused.socket, opened.socket);
    assert.equal(reused.peer.serialNumber, first.serialNumber, 'its session keeps the old certificate');
    assert.equal((await admit(server.port, cluster(), { agent: keepAlive })).allowed, true);

    const expiry = sample(await metricsText(server.port), 'remote_cluster_guard_serving_certificate_expiry_seconds')!;
    assert.ok(Math.abs(expiry - 10 * 86_400) < 120, `expiry metric follows the new certificate: ${expiry}`);
  });

  it('a certificate with a key that does not match is not installed; the matching key completes the rotation', async () => {
    const rejectedBefore = notReloaded().length;
    writeFileSync(files.tlsCert, third.cert); // the key is still second's
    await waitFor('the mismatched pair to be checked and refused', () => notReloaded().length > rejectedBefore);
    assert.match(String(notReloaded().at(-1)!['err']), /does not match/);
    assert.equal((await handshake()).serialNumber, second.serialNumber);
    assert.equal((await admit(server.port, cluster())).allowed, true, 'still serving');

    writeFileSync(files.tlsKey, third.key);
    await waitFor('the third certificate', async () => (await handshake()).serialNumber === third.serialNumber);
    assert.ok(sink.lines().some((l) => l['msg'] === 'serving certificate reloaded'));
  });
});
