/**
 * What is wrong with a bundle of trusted CA certificates, as findings of the
 * rule that found it: shared by `es-transport-ca` (ConfigMap named by
 * `configMapName`) and `es-nodeset-transport-ca` (file named by
 * `xpack.security.transport.ssl.certificate_authorities`).
 *
 * - deny: no certificate; a block that does not parse; a certificate that is
 *   not a CA (basicConstraints CA:TRUE); one that has expired (notAfter ≤ now);
 * - warn: one expiring within 30 days; one not valid yet; a block that is not a
 *   certificate (a private key...). Text between blocks is ignored, as
 *   Elasticsearch's PEM reader and ECK's concatenation ignore it.
 *
 * ECK rotates its transport CA yearly, so a copied CA goes stale: ECK docs
 * "Remote clusters" (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters).
 */
import { describeCertificate, type BundleReport } from '../../certs/pem-bundle.js';
import { deny, warn, type Finding } from '../../engine/finding.js';

/** Warn when a CA expires within this many days. */
export const EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;
const REFRESH = "copy the current CA from the remote's Secret <cluster>-es-transport-certs-public (ECK rotates it yearly)";

/**
 * Findings of `rule` on `field` for `report`, the bundle described as `where`
 * (`ca.crt of ConfigMap ns/name`). `otherBlocks` words the warning about a
 * block that is not a certificate: `ignored` (ECK's ConfigMap path) or
 * `unverified` (a file Elasticsearch reads itself, whose reader may refuse it).
 */
export function caBundleFindings(
  rule: string,
  field: string,
  where: string,
  report: BundleReport,
  now: Date,
  otherBlocks: 'ignored' | 'unverified' = 'ignored',
): Finding[] {
  const out: Finding[] = [];
  for (const p of report.problems) {
    if (p.kind === 'not-certificate') {
      out.push(
        warn(
          rule,
          field,
          otherBlocks === 'ignored'
            ? `block ${p.index} of ${where} is ignored because ${p.detail}; keep only CA certificates there (a private key never belongs in a ConfigMap)`
            : `cannot verify that Elasticsearch accepts ${where}: block ${p.index} ${p.detail.replace(/^it /, '')}; keep only CA certificates there`,
        ),
      );
    } else {
      const which = p.index === 0 ? `${where} is damaged` : `block ${p.index} of ${where} cannot be used because ${p.detail}`;
      out.push(deny(rule, field, `${which}; replace it with the PEM of the remote cluster's transport CA`));
    }
  }
  if (report.certificates.length === 0 && report.problems.length === 0) {
    out.push(
      deny(rule, field, `${where} holds no PEM certificate; put the remote cluster's transport CA there (-----BEGIN CERTIFICATE----- ...)`),
    );
  }
  for (const c of report.certificates) {
    const what = `${describeCertificate(c)} in ${where}`;
    if (!c.isCa) {
      out.push(
        deny(
          rule,
          field,
          `${what} is not a CA (no basicConstraints CA:TRUE), so it cannot verify the remote's transport certificates; use the remote's CA certificate, not a node certificate`,
        ),
      );
    }
    if (c.notAfter <= now) {
      out.push(deny(rule, field, `${what} expired on ${c.notAfter.toISOString()}; ${REFRESH}`));
    } else if (c.notAfter.getTime() - now.getTime() <= EXPIRY_WARNING_DAYS * DAY_MS) {
      const days = Math.ceil((c.notAfter.getTime() - now.getTime()) / DAY_MS);
      out.push(warn(rule, field, `${what} expires in ${days} day(s), on ${c.notAfter.toISOString()}; ${REFRESH} before then`));
    }
    if (c.notBefore > now) {
      out.push(warn(rule, field, `${what} is not valid before ${c.notBefore.toISOString()}; check the clocks or the certificate`));
    }
  }
  return out;
}
