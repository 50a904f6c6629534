/**
 * The certificate directory (default `certs/`): `ca.crt`, `ca.key`, `tls.crt`,
 * `tls.key`, the names a kubernetes.io/tls Secret volume and cert-manager use.
 * Private keys are written with mode 0600.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generateCertificates, type CertBundle, type CertOptions } from './generate.js';

export const DEFAULT_CERT_DIR = 'certs';

export interface CertPaths {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export function certPaths(dir: string): CertPaths {
  return { caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
}

function writePrivate(path: string, pem: string): void {
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600); // mode applies only on creation; an existing file keeps its own otherwise
}

export function writeCertificates(dir: string, bundle: CertBundle): CertPaths {
  mkdirSync(dir, { recursive: true });
  const paths = certPaths(dir);
  writeFileSync(paths.caCert, bundle.caCert, { mode: 0o644 });
  writePrivate(paths.caKey, bundle.caKey);
  writeFileSync(paths.cert, bundle.cert, { mode: 0o644 });
  writePrivate(paths.key, bundle.key);
  return paths;
}

/**
 * Uses the serving certificate in `dir`, creating a new CA and certificate
 * when none is there or the one there has expired. Returns whether it made one.
 */
export function ensureCertificates(dir: string, opts: CertOptions): { paths: CertPaths; created: boolean } {
  const paths = certPaths(dir);
  if (existsSync(paths.cert) && existsSync(paths.key)) {
    const cert = new X509Certificate(readFileSync(paths.cert));
    if (new Date(cert.validTo).getTime() > (opts.now ?? new Date()).getTime()) return { paths, created: false };
  }
  return { paths: writeCertificates(dir, generateCertificates(opts)), created: true };
}
