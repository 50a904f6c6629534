/**
 * `serve --manage-certs --cert-service NAME`: the managed serving certificate
 * is issued for the Service the webhook configurations call
 * (`NAME.<cert namespace>.svc`), so a Helm release named other than
 * `remote-cluster-guard` (its Service is `<release>-remote-cluster-guard`)
 * gets a certificate the kube-apiserver accepts.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { serve } from '../operations/server.js';
import { tempDir } from '../operations/support.js';
import { FakeApiServer } from '../state/fake-apiserver.js';

/** The DNS names of the certificate a TLS server presents. */
function servedDnsNames(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cert = new X509Certificate(s.getPeerX509Certificate()!.raw);
      s.end();
      resolve((cert.subjectAltName ?? '').split(', ').flatMap((n) => (n.startsWith('DNS:') ? [n.slice(4)] : [])));
    });
    s.on('error', reject);
  });
}

describe('serve --manage-certs --cert-service', () => {
  for (const [certService, expected] of [
    [undefined, 'remote-cluster-guard.guard.svc'],
    ['blue-remote-cluster-guard', 'blue-remote-cluster-guard.guard.svc'],
  ] as const) {
    it(`issues the serving certificate for ${expected}`, async () => {
      // The fake answers the Secret read with an object without data, so the webhook makes new certificates.
      const fake = new FakeApiServer();
      const kubeconfig = join(tempDir('kubeconfig'), 'config');
      writeFileSync(kubeconfig, (await fake.start()).exportConfig());
      const server = await serve({
        state: [],
        kubeconfig,
        manageCerts: true,
        certDir: tempDir('managed-certs'),
        certNamespace: 'guard',
        ...(certService ? { certService } : {}),
      });
      try {
        const names = await servedDnsNames(server.port);
        assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
        assert.ok(names.includes(`${expected}.cluster.local`), names.join(', '));
      } finally {
        await server.close();
        await fake.stop();
      }
    });
  }
});
