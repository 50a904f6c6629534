/**
 * Inspection of a PEM bundle such as the `ca.crt` of a transport CA
 * ConfigMap or a CA file mounted from a Secret: which blocks are certificates, whether each is a CA, and its
 * validity period. Pure; never throws on bad input.
 *
 * PEM blocks are framed here (`-----BEGIN X-----` … `-----END X-----`) and
 * each is decoded with node-forge's `pem.decode`, so one malformed block does
 * not hide the others; certificates are parsed with `node:crypto`
 * `X509Certificate` (which, unlike node-forge, handles EC keys).
 *
 * Source: ECK pkg/apis/elasticsearch/v1/elasticsearch_types.go
 * `TransportTLSOptions.CertificateAuthorities` and
 * pkg/controller/elasticsearch/certificates/transport/trust.go
 * `ReconcileAdditionalCAs` ("must contain ca.crt file");
 * ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 2.16 text: https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html) and
 * ECK 1.2 docs "Remote clusters"
 * (https://www.elastic.co/guide/en/cloud-on-k8s/1.2/k8s-remote-clusters.html):
 * a copied CA from `<cluster>-es-transport-certs-public` (ECK
 * pkg/controller/common/certificates/secret.go `PublicTransportCertsSecretName`).
 */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/** A parsed certificate of the bundle; `index` counts PEM blocks from 1. */
export interface CertificateSummary {
  index: number;
  /** Subject on one line: `CN=cluster-one-transport, O=elastic`. */
  subject: string;
  /** basicConstraints CA:TRUE. */
  isCa: boolean;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint, `AB:CD:...` (node:crypto `fingerprint256`): tells two copies of a CA apart without their content. */
  fingerprint: string;
}

/** A PEM block that is not a usable certificate; `index` counts PEM blocks from 1 (0: the bundle as a whole). */
export interface BundleProblem {
  index: number;
  /** `not-certificate`: a block of another type (a key...); `unparseable`: a broken block or certificate. */
  kind: 'not-certificate' | 'unparseable';
  /** Short reason, without the block's content: `PRIVATE KEY block`, `not valid DER`. */
  detail: string;
}

export interface BundleReport {
  certificates: CertificateSummary[];
  problems: BundleProblem[];
}

const BLOCK = /-----BEGIN ([^\r\n-]+(?:-[^\r\n-]+)*)-----[\s\S]*?-----END \1-----/g;
const BEGIN = /-----BEGIN [^\r\n]*-----/g;

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

function parseDate(text: string): Date | undefined {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function inspectBlock(index: number, text: string): CertificateSummary | BundleProblem {
  let decoded: forge.pem.ObjectPEM[];
  try {
    decoded = forge.pem.decode(text);
  } catch {
    return { index, kind: 'unparseable', detail: 'its PEM encoding is malformed' };
  }
  const block = decoded[0];
  if (!block) return { index, kind: 'unparseable', detail: 'its PEM encoding is malformed' };
  if (block.type !== 'CERTIFICATE') return { index, kind: 'not-certificate', detail: `it is a ${block.type} block, not a CERTIFICATE` };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(block.body, 'binary'));
  } catch {
    return { index, kind: 'unparseable', detail: 'it is not a valid X.509 certificate' };
  }
  const notBefore = parseDate(cert.validFrom);
  const notAfter = parseDate(cert.validTo);
  if (!notBefore || !notAfter) return { index, kind: 'unparseable', detail: 'its validity dates cannot be read' };
  return { index, subject: oneLine(cert.subject), isCa: cert.ca, notBefore, notAfter, fingerprint: cert.fingerprint256 };
}

/** Every PEM block of `text`, certificates parsed, anything else reported. */
export function inspectPemBundle(text: string): BundleReport {
  const certificates: CertificateSummary[] = [];
  const problems: BundleProblem[] = [];
  let index = 0;
  for (const match of text.matchAll(BLOCK)) {
    index += 1;
    const r = inspectBlock(index, match[0]);
    if ('kind' in r) problems.push(r);
    else certificates.push(r);
  }
  const begins = [...text.matchAll(BEGIN)].length;
  if (begins > index)
    problems.push({
      index: 0,
      kind: 'unparseable',
      detail: `${begins - index} PEM block(s) have a BEGIN line without a matching END line`,
    });
  return { certificates, problems };
}

/** `certificate 2 (CN=cluster-one-transport)` for messages. */
export function describeCertificate(c: CertificateSummary): string {
  return c.subject ? `certificate ${c.index} (${c.subject})` : `certificate ${c.index}`;
}
