/** `remote-cluster-guard certs`: writes a CA and a serving certificate, prints the caBundle. */
import { caBundleOf, generateCertificates, type CertOptions } from '../certs/generate.js';
import { writeCertificates } from '../certs/files.js';

export interface CertsCommandOptions extends CertOptions {
  outDir: string;
}

/** Writes the files and returns the base64 caBundle for the webhook configurations. */
export function runCerts(opts: CertsCommandOptions): { caBundle: string; files: string[] } {
  const bundle = generateCertificates(opts);
  const paths = writeCertificates(opts.outDir, bundle);
  return { caBundle: caBundleOf(bundle.caCert), files: Object.values(paths) };
}
