/**
 * The TLS policy of the webhook port, probed with the real `openssl s_client`
 * against createHttpsServer with a generated RSA certificate: TLS 1.2 only
 * with ECDHE key exchange and an AEAD cipher (AES-GCM, ChaCha20-Poly1305);
 * suites without forward secrecy (RSA key exchange), with CBC, CCM8 or ARIA,
 * or with DHE are refused; TLS 1.3 is served; `--tls-min-version 1.3`
 * refuses TLS 1.2. The policy is part of every secure context, so it holds
 * after a rotation too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCertificates } from '../../../src/certs/files.js';
import { generateCertificates, issueServingCertificate } from '../../../src/certs/generate.js';
import { ServingCertificate, type TlsMinVersion } from '../../../src/certs/serving-certificate.js';
import { createLogger } from '../../../src/log/logger.js';
import { createHttpsServer, listen } from '../../../src/server/https-server.js';

const names = { service: 'rcg', namespace: 'tls', validityDays: 30 };
const bundle = generateCertificates(names);
const dir = mkdtempSync(join(tmpdir(), 'rcg-tls-policy-'));
const paths = writeCertificates(dir, bundle);

/** Whether `openssl s_client` completes a handshake with `args` (exit 0) or not. */
function handshake(port: number, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, ...args],
      { timeout: 10_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err);
        else resolve({ ok: !err, output: stdout + stderr });
      },
    );
    child.stdin!.end();
  });
}

async function serving(minVersion?: TlsMinVersion) {
  const certificate = new ServingCertificate({ certFile: paths.cert, keyFile: paths.key }, createLogger('silent'), {
    ...(minVersion ? { tls: { minVersion } } : {}),
  });
  const server: Server = createHttpsServer({ port: 0, certificate, listener: (_q, s) => s.end('ok') });
  return { certificate, server, port: await listen(server, 0, '127.0.0.1') };
}
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS policy', () => {
  let s: Awaited<ReturnType<typeof serving>>;
  before(async () => {
    s = await serving();
  });
  after(() => close(s.server));

  const refused = [
    'AES128-SHA',
    'AES256-SHA',
    'AES128-GCM-SHA256',
    'AES256-GCM-SHA384',
    'ECDHE-RSA-AES128-SHA',
    'ECDHE-RSA-AES128-SHA256',
    'DHE-RSA-AES128-GCM-SHA256',
    'AES128-CCM8',
    'ECDHE-ARIA128-GCM-SHA256',
  ];
  for (const suite of refused) {
    it(`TLS 1.2 with ${suite} is refused`, async () => {
      const r = await handshake(s.port, ['-tls1_2', '-cipher', suite]);
      assert.equal(r.ok, false, r.output);
    });
  }

  for (const suite of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
    it(`TLS 1.2 with ${suite} is served`, async () => {
      const r = await handshake(s.port, ['-tls1_2', '-cipher', suite]);
      assert.equal(r.ok, true, r.output);
      assert.match(r.output, new RegExp(`Cipher is ${suite}`));
    });
  }

  it('TLS 1.3 is served, with its default suites', async () => {
    const r = await handshake(s.port, ['-tls1_3']);
    assert.equal(r.ok, true, r.output);
    assert.match(r.output, /TLSv1\.3/);
  });

  it('the policy holds after a rotation (setSecureContext builds a new context)', async () => {
    const next = issueServingCertificate({ caCert: bundle.caCert, caKey: bundle.caKey }, names);
    assert.equal(s.certificate.install(next.cert, next.key, 'managed'), true);
    assert.equal((await handshake(s.port, ['-tls1_2', '-cipher', 'AES128-GCM-SHA256'])).ok, false);
    assert.equal((await handshake(s.port, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'])).ok, true);
  });
});

describe('--tls-min-version 1.3', () => {
  it('refuses TLS 1.2 and serves TLS 1.3, also after a rotation', async () => {
    const s = await serving('TLSv1.3');
    try {
      assert.equal((await handshake(s.port, ['-tls1_2'])).ok, false);
      assert.equal((await handshake(s.port, ['-tls1_3'])).ok, true);
      const next = issueServingCertificate({ caCert: bundle.caCert, caKey: bundle.caKey }, names);
      assert.equal(s.certificate.install(next.cert, next.key, 'managed'), true);
      assert.equal((await handshake(s.port, ['-tls1_2'])).ok, false);
    } finally {
      await close(s.server);
    }
  });
});
