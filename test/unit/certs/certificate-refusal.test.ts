/**
 * A new serving certificate that clients would reject is never installed
 * (src/certs/pair-check.ts), against a real HTTPS server on 127.0.0.1: for an
 * expired, a not-yet-valid, a soon-expiring, a foreign-CA, a garbage and a
 * mismatched pair, `install` returns false, one warning names the reason, the
 * `refused` hook (the metric) is called once per distinct pair, and a new TLS
 * client is still presented the certificate in use (its SHA-256 fingerprint).
 * A good renewal is installed; a pair refused as not yet valid is installed
 * by the file watcher at its notBefore; without a bundle, the starting
 * certificate's issuer is the trust.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generateCA, issueServingCertificate, type CertBundle } from '../../../src/certs/generate.js';
import type { RefusalReason } from '../../../src/certs/pair-check.js';
import { ServingCertificate, defaultTrust } from '../../../src/certs/serving-certificate.js';
import { createLogger } from '../../../src/log/logger.js';
import { createHttpsServer, listen } from '../../../src/server/https-server.js';
import { logSink, waitFor } from '../operations/support.js';

const names = { service: 'rcg', namespace: 'refusal' };
const DAY = 86_400_000;
const ca = generateCA({ ...names, validityDays: 60, now: new Date(Date.now() - 30 * DAY) });
/** Another CA with the same subject name: only its key tells it apart. */
const foreignCa = generateCA({ ...names, validityDays: 60 });
const issue = (days: number, o: { now?: Date; authority?: typeof ca } = {}): CertBundle =>
  issueServingCertificate(o.authority ?? ca, { ...names, validityDays: days, ...(o.now ? { now: o.now } : {}) });

const good = issue(30);
const renewal = issue(40);
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const REFUSED = 'new serving certificate refused; the one in use stays';

/** A server presenting `start`, trusting `trust` (PEM) or, without it, the starting certificate's issuer. */
async function serving(start: CertBundle, trust?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'rcg-refusal-'));
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  writeFileSync(files.certFile, start.cert);
  writeFileSync(files.keyFile, start.key);
  const sink = logSink();
  const refusals: RefusalReason[] = [];
  const certificate = new ServingCertificate(files, createLogger('info', sink.stream), {
    ...(trust ? { trust: { pem: trust } } : {}),
    minValidityMs: DAY,
    refused: (r) => refusals.push(r),
  });
  const server: Server = createHttpsServer({ port: 0, certificate, listener: (_q, s) => s.end('ok') });
  const port = await listen(server, 0, '127.0.0.1');
  /** The SHA-256 fingerprint of the certificate a new TLS connection is presented. */
  const presented = () =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      });
      socket.on('error', reject);
    });
  const warnings = () => sink.lines().filter((l) => l['msg'] === REFUSED);
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  return { certificate, files, presented, warnings, refusals, close, lines: sink.lines };
}

describe('a new serving certificate that clients would reject is not installed', () => {
  let s: Awaited<ReturnType<typeof serving>>;
  before(async () => {
    s = await serving(good, ca.caCert);
  });
  after(() => s.close());

  const bad: { what: string; pair: () => { cert: string; key: string }; reason: RefusalReason; err: RegExp }[] = [
    { what: 'expired', pair: () => issue(5, { now: new Date(Date.now() - 10 * DAY) }), reason: 'expired', err: /expired at/ },
    {
      what: 'not yet valid',
      pair: () => issue(30, { now: new Date(Date.now() + 2 * DAY) }),
      reason: 'not-yet-valid',
      err: /valid from/,
    },
    { what: 'expiring within the minimum validity', pair: () => issue(0.5), reason: 'expires-soon', err: /minimum validity of 24 h/ },
    {
      what: 'from a foreign CA',
      pair: () => issue(30, { authority: foreignCa }),
      reason: 'untrusted',
      err: /does not chain to the CA bundle/,
    },
    { what: 'garbage', pair: () => ({ cert: 'not a certificate', key: good.key }), reason: 'unreadable', err: /not a PEM certificate/ },
    { what: 'a mismatched key', pair: () => ({ cert: renewal.cert, key: good.key }), reason: 'key-mismatch', err: /does not match/ },
  ];

  for (const b of bad) {
    it(`${b.what}: refused, warned once, counted once as ${b.reason}; the certificate in use is still presented`, async () => {
      const { cert, key } = b.pair();
      const warned = s.warnings().length;
      const counted = s.refusals.length;
      assert.equal(s.certificate.install(cert, key, 'managed'), false);
      assert.equal(s.certificate.install(cert, key, 'managed'), false, 'the same pair again');
      assert.equal(s.warnings().length, warned + 1, 'one warning per distinct pair');
      const w = s.warnings().at(-1)!;
      assert.equal(w['reason'], b.reason);
      assert.match(String(w['err']), b.err);
      assert.deepEqual(s.refusals.slice(counted), [b.reason]);
      assert.equal(await s.presented(), fingerprint(good.cert));
      assert.equal(s.certificate.notAfter, Date.parse(new X509Certificate(good.cert).validTo));
    });
  }

  it('a good renewal from the bundle is installed and presented', async () => {
    assert.equal(s.certificate.install(renewal.cert, renewal.key, 'managed'), true);
    assert.equal(await s.presented(), fingerprint(renewal.cert));
  });

  it('a bundle passed to install (the caBundle --manage-certs published) is the trust of that install', async () => {
    const next = issue(30, { authority: foreignCa });
    assert.equal(s.certificate.install(next.cert, next.key, 'managed', { pem: foreignCa.caCert + ca.caCert }), true);
    assert.equal(await s.presented(), fingerprint(next.cert));
  });
});

describe('without a trust bundle', () => {
  it("the starting certificate's issuer is the trust: another issuer name is refused", async () => {
    const other = generateCA({ service: 'other', namespace: 'refusal', validityDays: 60 });
    const s = await serving(good);
    try {
      const foreign = issue(30, { authority: other });
      assert.equal(s.certificate.install(foreign.cert, foreign.key, 'managed'), false);
      assert.equal(s.warnings().at(-1)!['reason'], 'untrusted');
      assert.match(String(s.warnings().at(-1)!['err']), /does not chain to the issuer of the starting certificate \(CN=rcg-ca/);
      assert.equal(s.certificate.install(renewal.cert, renewal.key, 'managed'), true);
    } finally {
      await s.close();
    }
  });
});

describe('watchFiles and a pair not yet valid', () => {
  it('refuses it, then installs it at its notBefore without another change of the files', async () => {
    const s = await serving(good, ca.caCert);
    const stop = s.certificate.watchFiles(20);
    try {
      // generate.ts back-dates notBefore by 5 minutes: valid 1.5 s from now.
      const soon = issue(30, { now: new Date(Date.now() + 5 * 60_000 + 1_500) });
      writeFileSync(s.files.keyFile, soon.key);
      writeFileSync(s.files.certFile, soon.cert);
      await waitFor('the refusal', () => s.refusals.includes('not-yet-valid'));
      assert.equal(await s.presented(), fingerprint(good.cert));
      await waitFor('the install at notBefore', async () => (await s.presented()) === fingerprint(soon.cert), 6000);
    } finally {
      stop();
      await s.close();
    }
  });
});

describe('the trust', () => {
  it('defaultTrust is ca.crt next to the certificate when it holds a certificate, else none (the starting issuer)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcg-trust-'));
    try {
      const certFile = join(dir, 'tls.crt');
      assert.equal(defaultTrust(certFile), undefined, 'no ca.crt');
      writeFileSync(join(dir, 'ca.crt'), '');
      assert.equal(defaultTrust(certFile), undefined, 'an empty ca.crt (cert-manager with an unknown CA)');
      writeFileSync(join(dir, 'ca.crt'), ca.caCert);
      assert.deepEqual(defaultTrust(certFile), { file: join(dir, 'ca.crt') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a starting certificate outside the trust is served, with a warning', async () => {
    const s = await serving(good, foreignCa.caCert);
    try {
      const w = s.lines().find((l) => l['msg'] === 'the starting serving certificate would not pass a reload');
      assert.equal(w?.['reason'], 'untrusted');
      assert.equal(await s.presented(), fingerprint(good.cert));
    } finally {
      await s.close();
    }
  });
});
