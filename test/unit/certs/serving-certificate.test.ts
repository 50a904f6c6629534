/**
 * ServingCertificate, the one owner of the serving certificate, against a real
 * HTTPS server on 127.0.0.1 (createHttpsServer, port 0): what a new TLS client
 * is presented after `install` and after a rotation of the files, a key that
 * does not match being refused, `notAfter`, and the TLS minimum version.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generateCA, issueServingCertificate, type CertBundle } from '../../../src/certs/generate.js';
import { ServingCertificate, TLS_OPTIONS, type TlsFiles } from '../../../src/certs/serving-certificate.js';
import { createLogger } from '../../../src/log/logger.js';
import { createHttpsServer, listen } from '../../../src/server/https-server.js';
import { logSink, waitFor } from '../operations/support.js';

const names = { service: 'rcg', namespace: 'serving' };
const ca = generateCA({ ...names, validityDays: 60 });
/** Three serving certificates from one CA, valid 10, 20 and 30 days (told apart by serial number and notAfter). */
const [ten, twenty, thirty] = [10, 20, 30].map((validityDays) => issueServingCertificate(ca, { ...names, validityDays })) as [
  CertBundle,
  CertBundle,
  CertBundle,
];
const serialOf = (b: CertBundle) => new X509Certificate(b.cert).serialNumber;
const notAfterOf = (b: CertBundle) => Date.parse(new X509Certificate(b.cert).validTo);

let dir: string;
let files: TlsFiles;
const sink = logSink();
let certificate: ServingCertificate;
let server: Server;
let port: number;
let stopWatching: () => void;
/** Changes of the key file seen by a listener registered after the certificate's own, on the same poller. */
let keyChanges = 0;
const countKeyChange = () => keyChanges++;

/** A new TLS connection that trusts the CA; resolves with the serial number of the certificate presented. */
function presented(o: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.caCert, ...o }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const REFUSED = 'new serving certificate refused; the one in use stays';
const logged = (msg: string) => sink.lines().filter((l) => l['msg'] === msg);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rcg-serving-'));
  files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  writeFileSync(files.certFile, ten.cert);
  writeFileSync(files.keyFile, ten.key, { mode: 0o600 });
  certificate = new ServingCertificate(files, createLogger('debug', sink.stream));
  server = createHttpsServer({ port: 0, certificate, listener: (_q, s) => s.end('ok') });
  port = await listen(server, 0, '127.0.0.1');
  // Started now, not in the tests that write the files: a poller's first stat is its baseline, and a write
  // racing it would go unseen. fs.watchFile shares one poller per file and calls listeners in order.
  stopWatching = certificate.watchFiles(20);
  watchFile(files.keyFile, { interval: 20, persistent: false }, countKeyChange);
});
after(async () => {
  unwatchFile(files.keyFile, countKeyChange);
  stopWatching();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('ServingCertificate', () => {
  it('starts with the pair in the files: presented to clients, notAfter its expiry', async () => {
    assert.equal(await presented(), serialOf(ten));
    assert.equal(certificate.notAfter, notAfterOf(ten));
  });

  it('refuses files whose key does not match the certificate', () => {
    const d = mkdtempSync(join(tmpdir(), 'rcg-serving-mismatch-'));
    try {
      const mismatched = { certFile: join(d, 'tls.crt'), keyFile: join(d, 'tls.key') };
      writeFileSync(mismatched.certFile, ten.cert);
      writeFileSync(mismatched.keyFile, twenty.key);
      assert.throws(() => new ServingCertificate(mismatched, createLogger('silent')), /the key does not match the certificate/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('install of a matching pair: new TLS clients are presented it, notAfter follows, one log line', async () => {
    certificate.install(twenty.cert, twenty.key, 'managed');
    assert.equal(await presented(), serialOf(twenty));
    assert.equal(certificate.notAfter, notAfterOf(twenty));
    assert.deepEqual(
      logged('managed serving certificate installed').map((l) => l['notAfter']),
      [new Date(notAfterOf(twenty)).toISOString()],
    );
  });

  it('install of a key that does not match is refused; the pair in use stays', async () => {
    assert.equal(certificate.install(thirty.cert, ten.key, 'managed'), false);
    assert.match(String(logged(REFUSED).at(-1)!['err']), /the key does not match the certificate/);
    assert.equal(await presented(), serialOf(twenty));
    assert.equal(certificate.notAfter, notAfterOf(twenty));
    assert.equal(logged('managed serving certificate installed').length, 1);
  });

  it('the TLS minimum version is its own, not the process default, and applies after an install: a TLS 1.1 client is refused', async () => {
    assert.equal(TLS_OPTIONS.minVersion, 'TLSv1.2');
    // Node's defaults (TLS 1.2, OpenSSL security level 1) would refuse TLS 1.1 on their own: lowered for a
    // context installed now, only the certificate's own settings stand between the server and TLS 1.1.
    const defaults = tls as unknown as { DEFAULT_MIN_VERSION: string; DEFAULT_CIPHERS: string };
    const saved = { min: defaults.DEFAULT_MIN_VERSION, ciphers: defaults.DEFAULT_CIPHERS };
    defaults.DEFAULT_MIN_VERSION = 'TLSv1';
    defaults.DEFAULT_CIPHERS = 'DEFAULT@SECLEVEL=0';
    try {
      certificate.install(twenty.cert, twenty.key, 'managed');
    } finally {
      defaults.DEFAULT_MIN_VERSION = saved.min;
      defaults.DEFAULT_CIPHERS = saved.ciphers;
    }
    const legacy = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
    await assert.rejects(presented(legacy), /protocol version|unsupported protocol/i);
    assert.equal(await presented({ maxVersion: 'TLSv1.2' }), serialOf(twenty), 'TLS 1.2 is served');
  });

  it('watchFiles: files that catch up with the pair in use (a --manage-certs renewal, installed first) are not installed again', async () => {
    const changes = keyChanges;
    writeFileSync(files.certFile, twenty.cert);
    writeFileSync(files.keyFile, twenty.key);
    // The certificate's listener runs before countKeyChange: once the change is counted, it has checked the files.
    await waitFor('the poll to see the new key file', () => keyChanges > changes);
    assert.deepEqual(logged('serving certificate reloaded'), []);
    assert.equal(await presented(), serialOf(twenty));
  });

  it('watchFiles installs a rotation of the files, skipping a mismatched pair until the key follows', async () => {
    const skipped = logged(REFUSED).length;
    writeFileSync(files.certFile, thirty.cert); // the key is still twenty's
    await waitFor('the mismatched pair to be checked', () => logged(REFUSED).length > skipped);
    assert.match(String(logged(REFUSED).at(-1)!['err']), /does not match/);
    assert.equal(await presented(), serialOf(twenty));
    assert.equal(certificate.notAfter, notAfterOf(twenty));

    writeFileSync(files.keyFile, thirty.key);
    await waitFor('the rotated pair', async () => (await presented()) === serialOf(thirty));
    assert.equal(certificate.notAfter, notAfterOf(thirty));
    assert.deepEqual(
      logged('serving certificate reloaded').map((l) => l['notAfter']),
      [new Date(notAfterOf(thirty)).toISOString()],
    );
  });
});
