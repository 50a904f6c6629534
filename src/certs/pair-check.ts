/**
 * The checks a new serving certificate passes before it replaces the one in
 * use: a certificate every client rejects (expired, from a CA the webhook
 * configurations' `caBundle` does not hold) must never be installed, as the
 * kube-apiserver then fails every call (with `failurePolicy: Fail`, every write
 * of the admitted kinds). Checked in the order of `REFUSAL_REASONS`, with
 * node:crypto's X509Certificate (validFrom/validTo, checkPrivateKey,
 * checkIssued, verify).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';

/**
 * Why a pair was refused, the `reason` label of
 * `remote_cluster_guard_certificate_reload_failures_total`: not PEM
 * (`unreadable`), a key of another certificate (`key-mismatch`), notBefore in
 * the future (`not-yet-valid`), notAfter past (`expired`), notAfter within the
 * minimum validity (`expires-soon`), no chain to a CA of the trust bundle
 * (`untrusted`).
 */
export const REFUSAL_REASONS = ['unreadable', 'key-mismatch', 'not-yet-valid', 'expired', 'expires-soon', 'untrusted'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export class CertificateRefused extends Error {
  override name = 'CertificateRefused';
  constructor(
    readonly reason: RefusalReason,
    message: string,
    /** For `not-yet-valid`: notBefore, ms since epoch, when the same pair may pass. */
    readonly validFrom?: number,
  ) {
    super(message);
  }
}

/**
 * What a new certificate must chain to. `cas`: the CA certificates of a bundle
 * (the PEM the webhook configurations' `caBundle` holds); `issuer`: without a
 * bundle, the issuer name of the certificate served at start (a name match
 * only: the issuer's key is unknown, so a forged name passes; give a bundle).
 */
export type Trust = { cas: X509Certificate[]; source: string } | { issuer: string; source: string };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text, in order; throws when it holds none or one does not parse. */
export function pemCertificates(pem: string | Buffer): X509Certificate[] {
  const blocks = String(pem).match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate');
  return blocks.map((b) => new X509Certificate(b));
}

export interface PairCheckOptions {
  trust: Trust;
  /** Now, ms since epoch. */
  now: number;
  /** The certificate must stay valid at least this long after `now`, ms. */
  minValidityMs: number;
}

const validAt = (c: X509Certificate, now: number) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
/** `issuer` signed `cert`: names, key identifiers and key usage fit (`cert.checkIssued(issuer)`) and the signature verifies. */
const signed = (issuer: X509Certificate, cert: X509Certificate, now: number) =>
  validAt(issuer, now) && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

/** Whether `leaf`, through the intermediates sent with it, reaches a CA of `cas` (or is one). */
function chainsTo(leaf: X509Certificate, intermediates: X509Certificate[], cas: X509Certificate[], now: number): boolean {
  let current = leaf;
  for (let depth = 0; depth <= intermediates.length; depth++) {
    if (cas.some((ca) => ca.fingerprint256 === current.fingerprint256 || signed(ca, current, now))) return true;
    const next = intermediates.find((i) => i !== current && signed(i, current, now));
    if (!next) return false;
    current = next;
  }
  return false;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Checks `cert` (PEM: the serving certificate, then any intermediates) and
 * `key` (PEM); returns the serving certificate. Throws CertificateRefused with
 * the first reason that applies.
 */
export function checkPair(cert: Buffer, key: Buffer, o: PairCheckOptions): X509Certificate {
  let chain: X509Certificate[];
  let matches: boolean;
  try {
    chain = pemCertificates(cert);
    matches = chain[0]!.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new CertificateRefused('unreadable', `not a PEM certificate and private key: ${(err as Error).message}`);
  }
  const [leaf, ...intermediates] = chain as [X509Certificate, ...X509Certificate[]];
  if (!matches) throw new CertificateRefused('key-mismatch', 'the key does not match the certificate');
  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  if (notBefore > o.now) throw new CertificateRefused('not-yet-valid', `the certificate is valid from ${iso(notBefore)}`, notBefore);
  if (notAfter < o.now) throw new CertificateRefused('expired', `the certificate expired at ${iso(notAfter)}`);
  if (notAfter < o.now + o.minValidityMs)
    throw new CertificateRefused(
      'expires-soon',
      `the certificate expires at ${iso(notAfter)}, within the minimum validity of ${o.minValidityMs / 3_600_000} h`,
    );
  const trusted = 'cas' in o.trust ? chainsTo(leaf, intermediates, o.trust.cas, o.now) : leaf.issuer === o.trust.issuer;
  if (!trusted)
    throw new CertificateRefused(
      'untrusted',
      `the certificate (issuer ${leaf.issuer.replaceAll('\n', ', ')}) does not chain to ${o.trust.source}`,
    );
  return leaf;
}
