/**
 * The serving certificate: the one owner of the certificate and key the HTTPS
 * server presents and of the TLS settings that go with them. It starts from
 * the certificate and key files; a rotation reaches it through the files
 * (`watchFiles`: a Secret volume or cert-manager swaps them through a
 * symlink) or through `install` (`--manage-certs` renewals). Either way the
 * key is checked against the certificate and the pair goes to the server with
 * `setSecureContext`: established connections keep their session, new
 * handshakes get the new certificate, so no connection is dropped.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SecureContextOptions, Server as TlsServer } from 'node:tls';
import type { Logger } from '../log/logger.js';

/** Paths of the serving certificate and its private key, PEM. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/**
 * TLS settings of every secure context the server gets, at start and at each
 * rotation (`setSecureContext` builds a whole new context, so a setting given
 * only at start would be lost at the first rotation). TLS 1.2 or later: what
 * the kube-apiserver speaks; cipher suites are Node's defaults.
 */
export const TLS_OPTIONS: Readonly<SecureContextOptions> = { minVersion: 'TLSv1.2' };

/** Where an installed certificate came from; each has its own log line. */
export type CertificateSource = 'files' | 'managed';

const INSTALLED: Record<CertificateSource, string> = {
  files: 'serving certificate reloaded',
  managed: 'managed serving certificate installed',
};

/** A certificate and the private key that belongs to it (PEM bytes); `notAfter` of the certificate, ms since epoch. */
interface Pair {
  cert: Buffer;
  key: Buffer;
  notAfter: number;
}

/** The pair, once the key is known to be the certificate's; throws when it is not. */
function checkedPair(cert: Buffer, key: Buffer): Pair {
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match the certificate');
  return { cert, key, notAfter: new Date(x509.validTo).getTime() };
}

function readPair(files: TlsFiles): Pair {
  return checkedPair(readFileSync(files.certFile), readFileSync(files.keyFile));
}

/** A secure context of `pair`: the options of https.createServer at start and of setSecureContext at each rotation. */
function contextOptions(pair: Pair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, ...TLS_OPTIONS };
}

export class ServingCertificate {
  private pair: Pair;
  private server: TlsServer | undefined;

  /** Reads the pair from `files`; throws when a file is missing or the key does not match the certificate. */
  constructor(
    private readonly files: TlsFiles,
    private readonly log: Logger,
  ) {
    this.pair = readPair(files);
  }

  /** notAfter of the certificate in use, ms since epoch. */
  get notAfter(): number {
    return this.pair.notAfter;
  }

  /** The certificate and key in use with TLS_OPTIONS, for https.createServer. */
  secureContextOptions(): SecureContextOptions {
    return contextOptions(this.pair);
  }

  /** The server that presents this certificate from now on; `install` reaches it. createHttpsServer attaches its server. */
  attach(server: TlsServer): void {
    this.server = server;
  }

  /**
   * Makes `cert` and `key` (PEM) the pair in use: new handshakes on the
   * attached server present it and `notAfter` follows. Throws when the key
   * does not belong to the certificate; the pair in use then stays.
   * `source` picks the log line.
   */
  install(cert: string | Buffer, key: string | Buffer, source: CertificateSource): void {
    this.use(checkedPair(Buffer.from(cert), Buffer.from(key)), source);
  }

  private use(pair: Pair, source: CertificateSource): void {
    this.server?.setSecureContext(contextOptions(pair));
    this.pair = pair;
    this.log.info({ notAfter: new Date(pair.notAfter).toISOString() }, INSTALLED[source]);
  }

  /**
   * Polls the files every `intervalMs` ms and installs them once they hold a
   * matching pair with a certificate other than the one in use (a renewal
   * `install`ed and then written to the files is not installed twice).
   * Returns a stop function.
   */
  watchFiles(intervalMs = 5000): () => void {
    const check = () => {
      let pair: Pair;
      try {
        pair = readPair(this.files);
      } catch (err) {
        // Mid-rotation (new cert, old key) or a missing file: try again at the next poll.
        this.log.debug({ err: (err as Error).message }, 'serving certificate not reloaded yet');
        return;
      }
      if (pair.cert.equals(this.pair.cert)) return;
      this.use(pair, 'files');
    };
    watchFile(this.files.certFile, { interval: intervalMs, persistent: false }, check);
    watchFile(this.files.keyFile, { interval: intervalMs, persistent: false }, check);
    return () => {
      unwatchFile(this.files.certFile, check);
      unwatchFile(this.files.keyFile, check);
    };
  }
}
