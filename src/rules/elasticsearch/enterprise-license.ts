/**
 * `es-enterprise-license`: an Elasticsearch with `remoteClusters` needs an
 * Enterprise or Enterprise trial licence in force. Without one ECK accepts
 * the object, emits a Warning event ("Remote cluster is an enterprise
 * feature. Enterprise features are disabled") and silently connects nothing;
 * this rule turns that into an admission error.
 *
 * Decision, on field `spec.remoteClusters` (see `license-info.ts` for what is read):
 * 1. ConfigMap `<operator ns>/elastic-licensing` reports an enterprise level
 *    with an expiry after now: allowed, no finding.
 * 2. Otherwise a licence Secret (or accepted trial Secret) whose type is
 *    enterprise / enterprise_trial and whose dates cover now: allowed with a
 *    warning naming the Secret, saying only the operator can verify its
 *    signature, and what the ConfigMap reported (when it exists).
 * 3. Otherwise denied, naming the level and expiry found, every Secret
 *    ignored with its reason, and what was looked for when nothing was found.
 *
 * Source: ECK pkg/license/license.go (`LicensingCfgMapName`,
 * `LicensingInfo.toMap`), pkg/controller/common/license (labels.go, parser.go
 * `FetchLicenseData`), pkg/controller/elasticsearch/remotecluster/elasticsearch.go
 * (`enterpriseFeaturesDisabledMsg`, `UpdateSettings`: the Warning event, then
 * no change); https://www.elastic.co/docs/deploy-manage/license/manage-your-license-in-eck;
 * ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 2.16 text: https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html) and
 * Elastic docs "Remote clusters on ECK"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters-landing#prerequisites):
 * "requires a valid Enterprise license or Enterprise trial license".
 */
import { deny, warn } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule } from '../../engine/rule.js';
import { formatKey } from '../../kube/meta.js';
import { LICENSE_SCOPE_LABEL, LICENSING_CONFIGMAP } from '../../kube/elasticsearch.js';
import { readLicense, TRIAL_DAYS, type AcceptedSecret, type ConfigMapReport, type RejectedSecret } from './license-info.js';

export const ENTERPRISE_LICENSE_RULE = 'es-enterprise-license';

const FIELD = fieldPath(['spec', 'remoteClusters']);

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** `ECK reports licence level basic (ConfigMap elastic-system/elastic-licensing)`, with the expiry when there is one. */
function describeConfigMap(cm: ConfigMapReport, now: Date): string {
  const where = `(ConfigMap ${formatKey(cm.key)})`;
  if (cm.level === undefined) return `ConfigMap ${formatKey(cm.key)} has no eck_license_level`;
  let expiry = '';
  if (cm.expiry) expiry = cm.expiry > now ? ` expiring ${cm.expiry.toISOString()}` : ` that expired on ${cm.expiry.toISOString()}`;
  else if (cm.badExpiry !== undefined) expiry = ' with an expiry date that is not RFC 3339';
  else if (cm.level !== 'basic') expiry = ' with no expiry date';
  return `ECK reports licence level ${cm.level}${expiry} ${where}`;
}

function describeAccepted(s: AcceptedSecret): string {
  if (s.trial && s.fromCreation)
    return `the enterprise trial Secret ${formatKey(s.key)} (${TRIAL_DAYS} days from ${day(s.start)}, until ${day(s.expiry)})`;
  const kind = s.trial ? 'enterprise trial' : `${s.type} licence`;
  return `the ${kind} in Secret ${formatKey(s.key)} (valid until ${day(s.expiry)})`;
}

function describeRejected(rejected: RejectedSecret[]): string {
  return rejected.map((r) => `Secret ${formatKey(r.key)} was ignored because ${r.reason}`).join(', ');
}

export const enterpriseLicenseRule: Rule<'Elasticsearch'> = {
  id: ENTERPRISE_LICENSE_RULE,
  kind: 'Elasticsearch',
  summary: 'remoteClusters need an Enterprise or Enterprise trial licence in force, as ECK publishes it.',
  // Only an Elasticsearch with remote clusters reads the licence.
  needs: (es) => ((es.spec?.remoteClusters ?? []).length > 0 ? ['ConfigMap', 'Secret'] : []),
  validate({ object, ctx }) {
    if ((object.spec?.remoteClusters ?? []).length === 0) return [];
    const ns = ctx.operatorNamespace;
    const report = readLicense(ctx.state, ns, ctx.now);
    if (report.configMap?.inForce) return [];

    const best = report.accepted[0];
    if (best) {
      const cm = report.configMap
        ? `, while ${describeConfigMap(report.configMap, ctx.now)}`
        : `; ECK has not published ConfigMap ${ns}/${LICENSING_CONFIGMAP} yet`;
      return [
        warn(
          ENTERPRISE_LICENSE_RULE,
          FIELD,
          `remote clusters accepted on ${describeAccepted(best)}, whose signature only the ECK operator can verify${cm}`,
        ),
      ];
    }

    const found: string[] = [];
    found.push(report.configMap ? describeConfigMap(report.configMap, ctx.now) : `there is no ConfigMap ${ns}/${LICENSING_CONFIGMAP}`);
    found.push(
      report.rejected.length > 0 ? describeRejected(report.rejected) : `no Secret labelled ${LICENSE_SCOPE_LABEL}=operator in ${ns}`,
    );
    return [
      deny(
        ENTERPRISE_LICENSE_RULE,
        FIELD,
        `remote clusters need an Enterprise or Enterprise trial licence and ECK silently ignores them without one, but ${found.join(' and ')}; install an Enterprise licence or start a trial in ${ns}`,
      ),
    ];
  },
};
