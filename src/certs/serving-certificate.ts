/**
 * The serving certificate: the one owner of the certificate and key the HTTPS
 * server presents and of the TLS settings that go with them. It starts from
 * the certificate and key files; a rotation reaches it through the files
 * (`watchFiles`: a Secret volume or cert-manager swaps them through a
 * symlink) or through `install` (`--manage-certs` renewals). Either way the
 * new pair passes checkPair (./pair-check.ts: key, validity, minimum
 * validity, chain to the trust bundle) or is refused, with one warning and one
 * `refused` call per distinct pair, and the pair in use stays. A pair that
 * passes goes to the server with `setSecureContext`: established connections
 * keep their session, new handshakes get the new certificate, so no
 * connection is dropped.
 */
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SecureContextOptions, TlsOptions, Server as TlsServer } from 'node:tls';
import type { Logger } from '../log/logger.js';
import { CertificateRefused, checkPair, pemCertificates, type RefusalReason, type Trust } from './pair-check.js';

/** Paths of the serving certificate and its private key, PEM. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/**
 * TLS 1.2 suites: ECDHE key exchange (forward secrecy) with an AEAD cipher
 * only, the set of Mozilla's "intermediate" profile and of Go's default
 * (which the kube-apiserver uses as a client). No RSA key exchange
 * (AES128-SHA, AES128-GCM-SHA256), no DHE, no CBC, no CCM8, no ARIA or
 * Camellia. An allow-list, so a new OpenSSL default cannot add a suite.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/** TLS 1.3 suites: OpenSSL's default three, named so the cipher list leaves TLS 1.3 as it is. */
export const TLS13_CIPHERS = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] as const;

/** `--tls-min-version`: 1.2 (what the kube-apiserver needs at least) or 1.3. */
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

/**
 * TLS settings of every secure context the server gets, at start and at each
 * rotation (`setSecureContext` builds a whole new context, so a setting given
 * only at start would be lost at the first rotation). `minVersion` is the
 * default of TlsPolicy.minVersion.
 */
export const TLS_OPTIONS: Readonly<SecureContextOptions> = {
  minVersion: 'TLSv1.2',
  ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'),
  honorCipherOrder: true,
};

/** The TLS choices of `serve`'s flags. */
export interface TlsPolicy {
  /** Lowest TLS version accepted; TLSv1.2 unless set. */
  minVersion?: TlsMinVersion;
  /**
   * CA certificates (PEM) that sign the clients' certificates (`--client-ca`):
   * with it, a client without a certificate they signed is refused in the
   * handshake (requestCert and rejectUnauthorized). Part of every secure
   * context, so it survives a rotation.
   */
  clientCa?: Buffer;
}

/** Where an installed certificate came from; each has its own log line. */
export type CertificateSource = 'files' | 'managed';

const INSTALLED: Record<CertificateSource, string> = {
  files: 'serving certificate reloaded',
  managed: 'managed serving certificate installed',
};

/**
 * What a new certificate must chain to: the CA certificates of a PEM file
 * (re-read at each check, so a bundle rotated before the certificate is
 * followed) or text; without either, the issuer of the certificate served at
 * start (see Trust).
 */
export type TrustSource = { file: string } | { pem: string };

export interface ServingCertificateOptions {
  /** Default: the issuer name of the starting certificate. */
  trust?: TrustSource;
  /** A new certificate must be valid at least this long, ms; default 24 h. */
  minValidityMs?: number;
  tls?: TlsPolicy;
  /** Called once per distinct refused pair (the metric). */
  refused?: (reason: RefusalReason) => void;
  /** Clock, ms since epoch (tests). */
  now?: () => number;
}

export const DEFAULT_MIN_VALIDITY_MS = 24 * 3_600_000;

/**
 * The default trust bundle of a certificate file: `ca.crt` next to it when it
 * holds a certificate (as `certs`, `--manage-certs` and cert-manager's Secrets
 * write it; cert-manager leaves it empty when the issuer's CA is unknown),
 * else none (the starting certificate's issuer).
 */
export function defaultTrust(certFile: string): TrustSource | undefined {
  const file = join(dirname(certFile), 'ca.crt');
  try {
    pemCertificates(readFileSync(file));
    return { file };
  } catch {
    return undefined;
  }
}

/** A certificate and the private key that belongs to it (PEM bytes); `notAfter` of the certificate, ms since epoch. */
interface Pair {
  cert: Buffer;
  key: Buffer;
  notAfter: number;
}

/** The starting pair, once the key is known to be the certificate's; throws when it is not. */
function startingPair(files: TlsFiles): { pair: Pair; x509: X509Certificate } {
  const cert = readFileSync(files.certFile);
  const key = readFileSync(files.keyFile);
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match the certificate');
  return { pair: { cert, key, notAfter: Date.parse(x509.validTo) }, x509 };
}

export class ServingCertificate {
  private pair: Pair;
  private server: TlsServer | undefined;
  /** The starting certificate's issuer: the trust without a bundle. */
  private readonly issuer: string;
  /** Digest of the last refused pair and reason: it is warned about once, not at every poll. */
  private lastRefused = '';

  /** Reads the pair from `files`; throws when a file is missing or the key does not match the certificate. */
  constructor(
    private readonly files: TlsFiles,
    private readonly log: Logger,
    private readonly opts: ServingCertificateOptions = {},
  ) {
    const { pair, x509 } = startingPair(files);
    this.pair = pair;
    this.issuer = x509.issuer;
    // Served anyway (there is no other), but said: clients that verify it will fail.
    try {
      checkPair(pair.cert, pair.key, { trust: this.trust(), now: this.now(), minValidityMs: 0 });
    } catch (err) {
      const reason = err instanceof CertificateRefused ? err.reason : 'untrusted';
      this.log.warn({ reason, err: (err as Error).message }, 'the starting serving certificate would not pass a reload');
    }
  }

  /** notAfter of the certificate in use, ms since epoch. */
  get notAfter(): number {
    return this.pair.notAfter;
  }

  /** The certificate and key in use with the TLS settings, for https.createServer and setSecureContext. */
  secureContextOptions(): SecureContextOptions {
    return this.contextOf(this.pair);
  }

  private contextOf(pair: Pair): SecureContextOptions {
    const { minVersion, clientCa } = this.opts.tls ?? {};
    return {
      cert: pair.cert,
      key: pair.key,
      ...TLS_OPTIONS,
      ...(minVersion ? { minVersion } : {}),
      ...(clientCa ? { ca: clientCa } : {}),
    };
  }

  /** secureContextOptions and, with a client CA, the handshake's client certificate requirement: for https.createServer. */
  serverOptions(): TlsOptions {
    return { ...this.secureContextOptions(), ...(this.opts.tls?.clientCa ? { requestCert: true, rejectUnauthorized: true } : {}) };
  }

  /** The server that presents this certificate from now on; `install` reaches it. createHttpsServer attaches its server. */
  attach(server: TlsServer): void {
    this.server = server;
  }

  /** Now, ms since epoch: the configured clock (tests) or the system's. */
  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private trust(override?: TrustSource): Trust {
    const source = override ?? this.opts.trust;
    if (!source) return { issuer: this.issuer, source: `the issuer of the starting certificate (${this.issuer.replaceAll('\n', ', ')})` };
    if ('pem' in source) return { cas: pemCertificates(source.pem), source: 'the CA bundle' };
    return { cas: pemCertificates(readFileSync(source.file)), source: `the CAs of ${source.file}` };
  }

  /** The pair if it passes checkPair; else the refusal, warned about and reported once per distinct pair and reason. */
  private checked(cert: Buffer, key: Buffer, source: CertificateSource, trust?: TrustSource): Pair | CertificateRefused {
    try {
      let resolved: Trust;
      try {
        resolved = this.trust(trust);
      } catch (err) {
        throw new CertificateRefused('untrusted', `the trust bundle cannot be read: ${(err as Error).message}`);
      }
      const now = this.now();
      const x509 = checkPair(cert, key, { trust: resolved, now, minValidityMs: this.opts.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS });
      return { cert, key, notAfter: Date.parse(x509.validTo) };
    } catch (err) {
      if (!(err instanceof CertificateRefused)) throw err;
      const digest = createHash('sha256').update(cert).update('\0').update(key).update(err.reason).digest('hex');
      if (digest !== this.lastRefused) {
        this.lastRefused = digest;
        this.log.warn({ source, reason: err.reason, err: err.message }, 'new serving certificate refused; the one in use stays');
        this.opts.refused?.(err.reason);
      }
      return err;
    }
  }

  /**
   * Makes `cert` and `key` (PEM) the pair in use when they pass checkPair
   * against `trust` (default: the configured trust; `--manage-certs` passes
   * the caBundle it published): new handshakes on the attached server present
   * it and `notAfter` follows. Returns whether it was installed; a refused
   * pair is warned about and counted, and the pair in use stays.
   * `source` picks the log line.
   */
  install(cert: string | Buffer, key: string | Buffer, source: CertificateSource, trust?: TrustSource): boolean {
    const pair = this.checked(Buffer.from(cert), Buffer.from(key), source, trust);
    if (pair instanceof CertificateRefused) return false;
    this.use(pair, source);
    return true;
  }

  private use(pair: Pair, source: CertificateSource): void {
    this.server?.setSecureContext(this.contextOf(pair));
    this.pair = pair;
    this.log.info({ notAfter: new Date(pair.notAfter).toISOString() }, INSTALLED[source]);
  }

  /**
   * Polls the files every `intervalMs` ms and installs them once they hold a
   * pair that passes checkPair with a certificate other than the one in use
   * (a renewal `install`ed and then written to the files is not installed
   * twice). A pair refused as not yet valid is checked again at its notBefore
   * (the files need not change again). Returns a stop function.
   */
  watchFiles(intervalMs = 5000): () => void {
    let retry: NodeJS.Timeout | undefined;
    const check = () => {
      clearTimeout(retry);
      let cert: Buffer;
      let key: Buffer;
      try {
        cert = readFileSync(this.files.certFile);
        key = readFileSync(this.files.keyFile);
      } catch (err) {
        // A missing file (a volume being remounted): try again at the next change.
        this.log.debug({ err: (err as Error).message }, 'serving certificate files not readable');
        return;
      }
      if (cert.equals(this.pair.cert)) return;
      const pair = this.checked(cert, key, 'files');
      if (pair instanceof CertificateRefused) {
        if (pair.validFrom !== undefined) {
          const wait = Math.min(2 ** 31 - 1, pair.validFrom - this.now() + 1000);
          retry = setTimeout(check, Math.max(0, wait));
          retry.unref();
        }
        return;
      }
      this.use(pair, 'files');
    };
    watchFile(this.files.certFile, { interval: intervalMs, persistent: false }, check);
    watchFile(this.files.keyFile, { interval: intervalMs, persistent: false }, check);
    return () => {
      clearTimeout(retry);
      unwatchFile(this.files.certFile, check);
      unwatchFile(this.files.keyFile, check);
    };
  }
}
