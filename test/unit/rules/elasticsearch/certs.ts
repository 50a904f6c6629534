/**
 * Real X.509 certificates for the transport-CA tests, made with node-forge.
 * One RSA 2048 key (generated natively by node:crypto, which is fast) signs
 * every certificate; each test file builds its set once.
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TestCerts {
  /** A CA valid from a year before `now` to ten years after. */
  ca: string;
  /** A leaf (basicConstraints CA:FALSE) signed by `ca`. */
  leaf: string;
  /** A CA whose notAfter is a day before `now`. */
  expiredCa: string;
  /** A CA that expires 10 days after `now`. */
  expiringCa: string;
  /** A CA not valid until 5 days after `now`. */
  futureCa: string;
  /** The key, as an unencrypted PKCS#1 PEM block (for "a key in the bundle" tests). */
  keyPem: string;
}

interface CertSpec {
  cn: string;
  isCa: boolean;
  notBefore: Date;
  notAfter: Date;
  serial: string;
}

function build(key: forge.pki.rsa.PrivateKey, spec: CertSpec, issuerCn: string): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = spec.serial;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject([{ name: 'commonName', value: spec.cn }]);
  cert.setIssuer([{ name: 'commonName', value: issuerCn }]);
  cert.setExtensions([{ name: 'basicConstraints', cA: spec.isCa, critical: true }]);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Builds the set relative to `now`. */
export function makeCerts(now: Date): TestCerts {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const at = (days: number) => new Date(now.getTime() + days * DAY_MS);
  const selfSigned = (s: CertSpec) => build(key, s, s.cn);
  return {
    ca: selfSigned({ cn: 'test-transport-ca', isCa: true, notBefore: at(-365), notAfter: at(3650), serial: '01' }),
    leaf: build(key, { cn: 'node-0.test', isCa: false, notBefore: at(-365), notAfter: at(365), serial: '02' }, 'test-transport-ca'),
    expiredCa: selfSigned({ cn: 'expired-ca', isCa: true, notBefore: at(-730), notAfter: at(-1), serial: '03' }),
    expiringCa: selfSigned({ cn: 'expiring-ca', isCa: true, notBefore: at(-355), notAfter: at(10), serial: '04' }),
    futureCa: selfSigned({ cn: 'future-ca', isCa: true, notBefore: at(5), notAfter: at(400), serial: '05' }),
    keyPem,
  };
}

/**
 * A CA with ECK's transport CA subject for Elasticsearch `name`
 * (`CN=<name>-transport, OU=<name>`), valid a year from `now`; `serial` tells
 * a rotated one from the one before.
 */
export function makeEckTransportCa(now: Date, name: string, serial: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(now.getTime() - DAY_MS);
  cert.validity.notAfter = new Date(now.getTime() + 365 * DAY_MS);
  const subject = [
    { name: 'commonName', value: `${name}-transport` },
    { name: 'organizationalUnitName', value: name },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }]);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
