/**
 * `es-transport-ca`: `spec.transport.tls.certificateAuthorities.configMapName`
 * must name a ConfigMap of trusted CAs that ECK (and Elasticsearch) can use.
 *
 * Validate, on `spec.transport.tls.certificateAuthorities.configMapName`:
 * - deny: the ConfigMap is not in the object's namespace; it has no `ca.crt`
 *   key (ECK then fails with "must contain ca.crt file"); `ca.crt` holds no
 *   PEM certificate; a CERTIFICATE block does not parse; a certificate is not
 *   a CA (basicConstraints CA:TRUE); a certificate has expired (notAfter ≤ now);
 * - warn: a certificate expires within 30 days; one is not valid yet
 *   (notBefore > now); `ca.crt` has blocks that are not certificates.
 *
 * Mutate: when `configMapName` is unset and exactly one ConfigMap in the
 * namespace has label `remote-cluster-guard.io/transport-ca-for=<name>` and a
 * `ca.crt`, set `configMapName` to it (adding `spec.transport`, `tls`,
 * `certificateAuthorities` as needed), with a warning saying so. With several
 * such ConfigMaps: warn and patch nothing. A labelled ConfigMap without
 * `ca.crt` is never chosen (warned about when it is the only labelled one).
 *
 * Source: ECK pkg/apis/elasticsearch/v1/elasticsearch_types.go
 * `TransportTLSOptions.CertificateAuthorities` and
 * pkg/controller/elasticsearch/certificates/transport/trust.go
 * `ReconcileAdditionalCAs`. ECK rotates its transport CA yearly, so a copied
 * CA goes stale:
 * ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 2.16 text: https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html) and
 * ECK 1.2 docs "Remote clusters"
 * (https://www.elastic.co/guide/en/cloud-on-k8s/1.2/k8s-remote-clusters.html):
 * "CA certificates are automatically rotated after one year by default ...
 * keep the copy up-to-date".
 */
import { deny, warn, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Mutation, Rule } from '../../engine/rule.js';
import type { ConfigMap } from '../../kube/core.js';
import { formatKey } from '../../kube/meta.js';
import { TRANSPORT_CA_FOR_LABEL, type Elasticsearch } from '../../kube/elasticsearch.js';
import type { ClusterState } from '../../state/cluster-state.js';
import { inspectPemBundle } from '../../certs/pem-bundle.js';
import { caBundleFindings } from './ca-findings.js';
import { addWithParents } from './common.js';

export const TRANSPORT_CA_RULE = 'es-transport-ca';

export const CA_KEY = 'ca.crt';
const SEGMENTS = ['spec', 'transport', 'tls', 'certificateAuthorities', 'configMapName'] as const;
const FIELD = fieldPath(SEGMENTS);

function cmKey(namespace: string, name: string): string {
  return formatKey({ namespace, name });
}

function checkBundle(where: string, pem: string, now: Date): Finding[] {
  return caBundleFindings(TRANSPORT_CA_RULE, FIELD, where, inspectPemBundle(pem), now);
}

function validate(object: Elasticsearch, namespace: string, state: ClusterState, now: Date): Finding[] {
  const name = object.spec?.transport?.tls?.certificateAuthorities?.configMapName;
  if (!name) return [];
  const cm = state.getConfigMap({ namespace, name });
  if (!cm) {
    return [
      deny(
        TRANSPORT_CA_RULE,
        FIELD,
        `ConfigMap ${cmKey(namespace, name)} was not found; create it in the same namespace with the remote's transport CA under key ${CA_KEY} (kubectl create configmap ${name} -n ${namespace} --from-file=${CA_KEY}=remote.ca.crt)`,
      ),
    ];
  }
  const pem = cm.data?.[CA_KEY];
  if (pem === undefined) {
    const keys = Object.keys(cm.data ?? {});
    const has = keys.length > 0 ? `it has ${keys.join(', ')}` : 'it has no data';
    return [
      deny(
        TRANSPORT_CA_RULE,
        FIELD,
        `ConfigMap ${cmKey(namespace, name)} has no ${CA_KEY} key (${has}) and ECK fails with "must contain ca.crt file"; store the CA certificate under ${CA_KEY}`,
      ),
    ];
  }
  return checkBundle(`${CA_KEY} of ConfigMap ${cmKey(namespace, name)}`, pem, now);
}

function hasCa(cm: ConfigMap): boolean {
  return cm.data?.[CA_KEY] !== undefined;
}

function mutate(object: Elasticsearch, namespace: string, name: string, state: ClusterState): Mutation {
  if (!name || object.spec?.transport?.tls?.certificateAuthorities?.configMapName) return { patch: [], findings: [] };
  const labelled = state
    .configMapsWithLabel(namespace, TRANSPORT_CA_FOR_LABEL, name)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const candidates = labelled.filter(hasCa);
  const label = `${TRANSPORT_CA_FOR_LABEL}=${name}`;
  const only = candidates[0];
  if (candidates.length === 1 && only?.metadata.name) {
    const cmName = only.metadata.name;
    return {
      patch: [addWithParents(object, SEGMENTS, cmName)],
      findings: [warn(TRANSPORT_CA_RULE, FIELD, `set to ${cmName}, the only ConfigMap in ${namespace} labelled ${label} with a ${CA_KEY}`)],
    };
  }
  if (candidates.length > 1) {
    const names = candidates.map((c) => c.metadata.name ?? '').join(', ');
    return {
      patch: [],
      findings: [
        warn(
          TRANSPORT_CA_RULE,
          FIELD,
          `not defaulted because ${candidates.length} ConfigMaps in ${namespace} are labelled ${label} (${names}); set it to one of them or remove the label from the others`,
        ),
      ],
    };
  }
  const withoutCa = labelled[0];
  if (withoutCa) {
    return {
      patch: [],
      findings: [
        warn(
          TRANSPORT_CA_RULE,
          FIELD,
          `not defaulted because ConfigMap ${cmKey(namespace, withoutCa.metadata.name ?? '')} is labelled ${label} but has no ${CA_KEY}; add the CA under ${CA_KEY}`,
        ),
      ],
    };
  }
  return { patch: [], findings: [] };
}

export const transportCaRule: Rule<'Elasticsearch'> = {
  id: TRANSPORT_CA_RULE,
  kind: 'Elasticsearch',
  summary:
    'transport.tls.certificateAuthorities names a ConfigMap with valid, unexpired CA certificates in ca.crt; defaults it from a label.',
  needs: ['ConfigMap'],
  mutate({ object, namespace, name, ctx }) {
    return mutate(object, namespace, name, ctx.state);
  },
  validate({ object, namespace, ctx }) {
    return validate(object, namespace, ctx.state, ctx.now);
  },
};
