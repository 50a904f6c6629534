/**
 * Serving certificate rotation without a restart: the certificate and key
 * files are polled (a Secret volume or cert-manager swaps them through a
 * symlink) and, once both have changed into a matching pair, installed with
 * `server.setSecureContext`. Established connections keep their session; new
 * handshakes get the new certificate, so no connection is dropped.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server } from 'node:https';
import type { Logger } from '../log/logger.js';
import type { TlsFiles } from '../server/https-server.js';

export interface ServingCertificate {
  /** notAfter of the certificate in use, ms since epoch. */
  notAfter: number;
}

/** Reads a certificate/key pair; throws when they do not belong together. */
export function readPair(tls: TlsFiles): { cert: Buffer; key: Buffer; notAfter: number } {
  const cert = readFileSync(tls.certFile);
  const key = readFileSync(tls.keyFile);
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match the certificate');
  return { cert, key, notAfter: new Date(x509.validTo).getTime() };
}

export function watchServingCertificate(
  server: Server,
  tls: TlsFiles,
  current: ServingCertificate,
  log: Logger,
  intervalMs = 5000,
): () => void {
  let lastCert: Buffer = readFileSync(tls.certFile);
  const check = () => {
    let pair;
    try {
      pair = readPair(tls);
    } catch (err) {
      // Mid-rotation (new cert, old key) or a missing file: try again at the next poll.
      log.debug({ err: (err as Error).message }, 'serving certificate not reloaded yet');
      return;
    }
    if (pair.cert.equals(lastCert)) return;
    server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
    lastCert = pair.cert;
    current.notAfter = pair.notAfter;
    log.info({ notAfter: new Date(pair.notAfter).toISOString() }, 'serving certificate reloaded');
  };
  watchFile(tls.certFile, { interval: intervalMs, persistent: false }, check);
  watchFile(tls.keyFile, { interval: intervalMs, persistent: false }, check);
  return () => {
    unwatchFile(tls.certFile, check);
    unwatchFile(tls.keyFile, check);
  };
}
