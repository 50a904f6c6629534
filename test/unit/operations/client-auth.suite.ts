/**
 * Caller authentication (runServe with `--client-ca`): a client without a
 * certificate, or with one of another CA, is refused in the TLS handshake; a
 * certificate of the client CA with an allowed subject CN (`--client-cn`,
 * default kube-apiserver) is served; another CN is answered 403 with a
 * Status. The client CA is part of every secure context: after a rotation of
 * the serving certificate, the same holds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCA, issueClientCertificate } from '../../../src/certs/generate.js';
import type { RunningServer } from '../../../src/cli/serve.js';
import { reviewOf } from '../../helpers/reviews.js';
import { httpsRequest, issue, serve, tlsFiles } from './server.js';
import { cluster, logSink, tempDir, waitFor } from './support.js';

const names = { service: 'rcg-clients', namespace: 'rcg' };
const clientCa = generateCA({ ...names, validityDays: 30 });
const otherCa = generateCA({ ...names, validityDays: 30 });
const apiserver = issueClientCertificate(clientCa, { commonName: 'kube-apiserver', validityDays: 10 });
const stranger = issueClientCertificate(clientCa, { commonName: 'curl-user', validityDays: 10 });
const forged = issueClientCertificate(otherCa, { commonName: 'kube-apiserver', validityDays: 10 });

describe('client certificates (--client-ca, --client-cn)', () => {
  const first = issue(10);
  const files = tlsFiles(first);
  const sink = logSink();
  let server: RunningServer;
  const review = reviewOf(cluster());
  const post = (client: { cert: string; key: string } | undefined, path = '/validate') =>
    httpsRequest(server.port, path, { body: review, ...(client ? { cert: client.cert, key: client.key } : {}) });

  before(async () => {
    const caFile = join(tempDir('client-ca'), 'client-ca.crt');
    writeFileSync(caFile, clientCa.caCert);
    server = await serve({ ...files, clientCa: caFile, certReloadIntervalMs: 50, logLevel: 'info', logDestination: sink.stream });
  });
  after(() => server.close());

  const assertRefusedAtHandshake = async (client?: { cert: string; key: string }) => {
    // TLS 1.3 sends the server's alert after the client's Finished: the request, not connect(), fails.
    await assert.rejects(post(client), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code ?? err.message), /ECONNRESET|EPIPE|ERR_SSL|certificate|alert/i);
      return true;
    });
  };

  it('no client certificate: refused in the handshake', () => assertRefusedAtHandshake());

  it('a certificate of another CA (with the allowed CN): refused in the handshake', () => assertRefusedAtHandshake(forged));

  it('a certificate of the client CA with the allowed CN: served', async () => {
    const r = await post(apiserver);
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as { response: { allowed: boolean } }).response.allowed, true);
  });

  it('a certificate of the client CA with another CN: 403 with a Status, one warning', async () => {
    const r = await post(stranger);
    assert.equal(r.status, 403);
    const status = JSON.parse(r.body) as { kind: string; code: number; reason: string; message: string };
    assert.deepEqual({ kind: status.kind, code: status.code, reason: status.reason }, { kind: 'Status', code: 403, reason: 'Forbidden' });
    assert.match(status.message, /client certificate CN curl-user is not allowed \(allowed: kube-apiserver\)/);
    assert.equal((await post(stranger, '/mutate')).status, 403, '/mutate too');
    assert.ok(sink.lines().some((l) => l['msg'] === 'client refused' && l['level'] === 'warn'));
  });

  it('after a rotation of the serving certificate, the client CA still applies', async () => {
    const next = issue(20);
    writeFileSync(files.tlsKey, next.key);
    writeFileSync(files.tlsCert, next.cert);
    await waitFor('the new serving certificate', async () => (await post(apiserver)).peer.serialNumber === next.serialNumber);
    await assertRefusedAtHandshake();
    await assertRefusedAtHandshake(forged);
    assert.equal((await post(stranger)).status, 403);
  });
});
