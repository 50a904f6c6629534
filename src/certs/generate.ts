/**
 * A CA and a serving certificate for the webhook, made with node-forge.
 *
 * The serving certificate's SANs are what the kube-apiserver dials: the
 * Service DNS names `<service>.<namespace>.svc` and
 * `<service>.<namespace>.svc.cluster.local`, plus `localhost` and `127.0.0.1`
 * for `clientConfig.url` setups and local runs. The kube-apiserver trusts it
 * through the webhook configurations' `caBundle` (base64 of the CA PEM).
 */
import forge from 'node-forge';

export interface CertOptions {
  service: string;
  namespace: string;
  /** Validity of both certificates, in days. */
  validityDays: number;
  /** Clock, for tests. */
  now?: Date;
}

/** PEM texts of the CA and the serving certificate with their private keys. */
export interface CertBundle {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export const DEFAULT_SERVICE = 'remote-cluster-guard';
export const DEFAULT_NAMESPACE = 'remote-cluster-guard';

/** The DNS SANs of the serving certificate. */
export function servingDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, 'localhost'];
}

function serialNumber(): string {
  // 16 random bytes, high bit cleared so the DER integer stays positive.
  const bytes = forge.random.getBytesSync(16);
  return (bytes.charCodeAt(0) & 0x7f).toString(16).padStart(2, '0') + forge.util.bytesToHex(bytes.slice(1));
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  // Back-date by 5 minutes for clock skew between this process and the kube-apiserver.
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
}

/** A CA certificate and key, PEM. */
export interface CertificateAuthority {
  caCert: string;
  caKey: string;
}

function caSubject(service: string): forge.pki.CertificateField[] {
  return [
    { name: 'commonName', value: `${service}-ca` },
    { name: 'organizationName', value: 'remote-cluster-guard' },
  ];
}

/** A new self-signed CA (RSA 2048, SHA-256) for the webhook's serving certificates. */
export function generateCA(opts: CertOptions): CertificateAuthority {
  const now = opts.now ?? new Date();
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const ca = forge.pki.createCertificate();
  ca.publicKey = keys.publicKey;
  ca.serialNumber = serialNumber();
  validity(ca, now, opts.validityDays);
  ca.setSubject(caSubject(opts.service));
  ca.setIssuer(caSubject(opts.service));
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(keys.privateKey, forge.md.sha256.create());
  return { caCert: forge.pki.certificateToPem(ca), caKey: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A serving certificate signed by `authority`, with the SANs of `servingDnsNames` and 127.0.0.1. */
export function issueServingCertificate(authority: CertificateAuthority, opts: CertOptions): CertBundle {
  const now = opts.now ?? new Date();
  const ca = forge.pki.certificateFromPem(authority.caCert);
  const caKey = forge.pki.privateKeyFromPem(authority.caKey);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, opts.validityDays);
  cert.setSubject([{ name: 'commonName', value: `${opts.service}.${opts.namespace}.svc` }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
    {
      name: 'subjectAltName',
      altNames: [...servingDnsNames(opts.service, opts.namespace).map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }],
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { ...authority, cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/**
 * A client certificate (extKeyUsage clientAuth) signed by `authority`, with
 * subject CN `commonName`: what the kube-apiserver presents to a webhook
 * started with `--client-ca` (`--client-cn` names the CN). PEM of the
 * certificate and its key.
 */
export function issueClientCertificate(
  authority: CertificateAuthority,
  opts: { commonName: string; validityDays: number; now?: Date },
): { cert: string; key: string } {
  const ca = forge.pki.certificateFromPem(authority.caCert);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, opts.now ?? new Date(), opts.validityDays);
  cert.setSubject([{ name: 'commonName', value: opts.commonName }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(authority.caKey), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A new CA and a serving certificate signed by it. */
export function generateCertificates(opts: CertOptions): CertBundle {
  return issueServingCertificate(generateCA(opts), opts);
}

/** The `caBundle` value of a webhook configuration: base64 of the CA PEM. */
export function caBundleOf(caCertPem: string): string {
  return Buffer.from(caCertPem).toString('base64');
}
