/** One CA and serving certificate for every server of a run (src/certs/generate.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_NAMESPACE,
  DEFAULT_SERVICE,
  generateCA,
  issueServingCertificate,
  type CertificateAuthority,
} from '../../src/certs/generate.js';
import type { TlsPaths } from './procs.js';

export interface BenchCerts extends TlsPaths {
  dir: string;
  authority: CertificateAuthority;
}

const OPTS = { service: DEFAULT_SERVICE, namespace: DEFAULT_NAMESPACE, validityDays: 2 };

/** Writes ca.crt, tls.crt and tls.key into `dir` (a CA and a serving certificate for 127.0.0.1 and localhost). */
export function writeBenchCerts(dir: string): BenchCerts {
  mkdirSync(dir, { recursive: true });
  const authority = generateCA(OPTS);
  const bundle = issueServingCertificate(authority, OPTS);
  const paths = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), ca: bundle.caCert };
  writeFileSync(join(dir, 'ca.crt'), bundle.caCert);
  writeFileSync(paths.certFile, bundle.cert);
  writeFileSync(paths.keyFile, bundle.key, { mode: 0o600 });
  return { dir, authority, ...paths };
}
