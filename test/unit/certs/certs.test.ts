/**
 * Certificates made with node-forge: SANs, CA constraints, key file modes, and
 * a real TLS 1.2+ handshake against the HTTPS server with the CA as trust root.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caBundleOf, generateCertificates, type CertBundle } from '../../../src/certs/generate.js';
import { ensureCertificates, writeCertificates } from '../../../src/certs/files.js';
import { ServingCertificate } from '../../../src/certs/serving-certificate.js';
import { createLogger } from '../../../src/log/logger.js';
import { createHttpsServer, listen } from '../../../src/server/https-server.js';
import { main } from '../../../src/cli/main.js';

const NOW = new Date('2026-06-01T00:00:00Z');
let bundle: CertBundle;
let dir: string;

before(() => {
  bundle = generateCertificates({ service: 'rcg', namespace: 'guard', validityDays: 30, now: NOW });
  dir = mkdtempSync(join(tmpdir(), 'rcg-certs-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('generateCertificates', () => {
  it('makes a CA certificate with basicConstraints CA:TRUE that signed the serving certificate', () => {
    const ca = new X509Certificate(bundle.caCert);
    const cert = new X509Certificate(bundle.cert);
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(ca));
    assert.ok(cert.verify(ca.publicKey));
  });

  it('names the Service DNS names, localhost and 127.0.0.1 as SANs', () => {
    const san = new X509Certificate(bundle.cert).subjectAltName ?? '';
    for (const name of ['DNS:rcg.guard.svc', 'DNS:rcg.guard.svc.cluster.local', 'DNS:localhost', 'IP Address:127.0.0.1']) {
      assert.ok(san.includes(name), `${name} in ${san}`);
    }
  });

  it('is valid for the requested number of days', () => {
    const cert = new X509Certificate(bundle.cert);
    const days = (new Date(cert.validTo).getTime() - NOW.getTime()) / 86_400_000;
    assert.ok(Math.abs(days - 30) < 1, `validity ${days} days`);
  });

  it('caBundle is the base64 of the CA PEM', () => {
    assert.equal(Buffer.from(caBundleOf(bundle.caCert), 'base64').toString(), bundle.caCert);
  });
});

describe('certificate files', () => {
  it('writes private keys with mode 0600 and certificates readable', () => {
    const paths = writeCertificates(dir, bundle);
    assert.equal(statSync(paths.key).mode & 0o777, 0o600);
    assert.equal(statSync(paths.caKey).mode & 0o777, 0o600);
    assert.equal(statSync(paths.cert).mode & 0o777, 0o644);
  });

  it('ensureCertificates creates certificates once and then reuses them until they expire', () => {
    const d = mkdtempSync(join(tmpdir(), 'rcg-ensure-'));
    try {
      const first = ensureCertificates(d, { service: 's', namespace: 'n', validityDays: 10, now: NOW });
      assert.equal(first.created, true);
      const pem = readFileSync(first.paths.cert, 'utf-8');
      assert.equal(ensureCertificates(d, { service: 's', namespace: 'n', validityDays: 10, now: NOW }).created, false);
      assert.equal(readFileSync(first.paths.cert, 'utf-8'), pem);
      const later = new Date(NOW.getTime() + 11 * 86_400_000);
      assert.equal(ensureCertificates(d, { service: 's', namespace: 'n', validityDays: 10, now: later }).created, true);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('HTTPS with the generated certificate', () => {
  it('completes a TLS handshake for localhost and 127.0.0.1 with the CA as the only trust root, and refuses TLS 1.1', async () => {
    const live = generateCertificates({ service: 'rcg', namespace: 'guard', validityDays: 1 });
    const d = mkdtempSync(join(tmpdir(), 'rcg-tls-'));
    const paths = writeCertificates(d, live);
    const certificate = new ServingCertificate({ certFile: paths.cert, keyFile: paths.key }, createLogger('silent'));
    const server = createHttpsServer({ port: 0, certificate, listener: (_q, s) => s.end('hi') });
    const port = await listen(server, 0, '127.0.0.1');
    const get = (host: string, extra: https.RequestOptions = {}) =>
      new Promise<string>((resolve, reject) => {
        https
          .get(
            { host: '127.0.0.1', servername: host === '127.0.0.1' ? undefined : host, port, path: '/', ca: live.caCert, ...extra },
            (res) => {
              let text = '';
              res.on('data', (c) => (text += c));
              res.on('end', () => resolve(text));
            },
          )
          .on('error', reject);
      });
    try {
      assert.equal(await get('localhost'), 'hi');
      assert.equal(await get('127.0.0.1'), 'hi');
      await assert.rejects(get('localhost', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));
      await assert.rejects(get('localhost', { ca: bundle.caCert }), /self[- ]signed|unable to verify|certificate/i);
    } finally {
      server.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('remote-cluster-guard certs', () => {
  it('writes the files to --out-dir and prints the caBundle of the CA it wrote', async () => {
    const d = mkdtempSync(join(tmpdir(), 'rcg-cli-certs-'));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const stderrWrite = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const code = await main(['certs', '--out-dir', d, '--service', 'svc', '--namespace', 'ns', '--validity-days', '7']);
      assert.equal(code, 0);
    } finally {
      process.stdout.write = write;
      process.stderr.write = stderrWrite;
    }
    const caPem = readFileSync(join(d, 'ca.crt'), 'utf-8');
    assert.equal(out.join('').trim(), Buffer.from(caPem).toString('base64'));
    const san = new X509Certificate(readFileSync(join(d, 'tls.crt'))).subjectAltName ?? '';
    assert.ok(san.includes('DNS:svc.ns.svc'));
    assert.equal(statSync(join(d, 'tls.key')).mode & 0o777, 0o600);
    rmSync(d, { recursive: true, force: true });
  });
});
