/**
 * Serving certificate rotation without a restart (runServe with --tls-cert and
 * --tls-key, polled every 50 ms here): new handshakes get the new
 * certificate, a keep-alive connection opened before keeps working, and a
 * certificate with a key that does not belong to it, from a CA outside
 * `--tls-ca` or expired is never installed: a warning and
 * remote_cluster_guard_certificate_reload_failures_total{reason} say so.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { generateCA, issueServingCertificate } from '../../../src/certs/generate.js';
import type { RunningServer } from '../../../src/cli/serve.js';
import { admit, caOf, certDir, httpsRequest, issue, metricsText, serve, tlsFiles } from './server.js';
import { cluster, logSink, sample, waitFor } from './support.js';

const REFUSED = 'new serving certificate refused; the one in use stays';

describe('serving certificate reload', () => {
  const first = issue(2);
  const second = issue(10);
  const third = issue(20);
  const files = tlsFiles(first);
  const sink = logSink();
  let server: RunningServer;
  const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1, ca: caOf() });
  const handshake = async () => (await httpsRequest(server.port, '/healthz')).peer;
  const notReloaded = () => sink.lines().filter((l) => l['msg'] === REFUSED);

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

describe('serving certificate reload refuses what clients would reject', () => {
  const first = issue(10);
  const files = tlsFiles(first);
  const sink = logSink();
  let server: RunningServer;
  const names = { service: 'remote-cluster-guard', namespace: 'remote-cluster-guard' };
  const handshake = async () => (await httpsRequest(server.port, '/healthz')).peer;
  const refusals = () => sink.lines().filter((l) => l['msg'] === REFUSED);
  const failures = async (reason: string) =>
    sample(await metricsText(server.port), 'remote_cluster_guard_certificate_reload_failures_total', { reason });
  /** Key first: until the certificate follows, the files hold the certificate in use, which is not checked again. */
  const rotate = (pair: { cert: string; key: string }) => {
    writeFileSync(files.tlsKey, pair.key);
    writeFileSync(files.tlsCert, pair.cert);
  };

  before(async () => {
    server = await serve({
      ...files,
      tlsCa: join(certDir(), 'ca.crt'),
      certReloadIntervalMs: 50,
      logLevel: 'info',
      logDestination: sink.stream,
    });
  });
  after(() => server.close());

  it('every reason is exported at 0 from the start', async () => {
    for (const reason of ['unreadable', 'key-mismatch', 'not-yet-valid', 'expired', 'expires-soon', 'untrusted'])
      assert.equal(await failures(reason), 0, reason);
  });

  for (const [what, reason, pair] of [
    [
      'a certificate from a CA outside --tls-ca',
      'untrusted',
      () => issueServingCertificate(generateCA({ ...names, validityDays: 30 }), { ...names, validityDays: 10 }),
    ],
    [
      'an expired certificate',
      'expired',
      () => issueServingCertificate(authority(), { ...names, validityDays: 1, now: new Date(Date.now() - 5 * 86_400_000) }),
    ],
  ] as const) {
    it(`${what}: not installed, one warning, counted as ${reason}`, async () => {
      const before = refusals().length;
      rotate(pair());
      await waitFor('the refusal', () => refusals().length > before);
      assert.equal(refusals().length, before + 1);
      assert.equal(refusals().at(-1)!['level'], 'warn');
      assert.equal(refusals().at(-1)!['reason'], reason);
      assert.equal(await failures(reason), 1);
      assert.equal((await handshake()).serialNumber, first.serialNumber, 'the certificate in use stays');
      assert.equal((await admit(server.port, cluster())).allowed, true, 'still serving');
    });
  }

  it('a good renewal is installed afterwards', async () => {
    const next = issue(20);
    rotate(next);
    await waitFor('the renewal', async () => (await handshake()).serialNumber === next.serialNumber);
  });
});

/** The shared CA of server.ts's certDir. */
function authority() {
  return { caCert: readFileSync(join(certDir(), 'ca.crt'), 'utf-8'), caKey: readFileSync(join(certDir(), 'ca.key'), 'utf-8') };
}
