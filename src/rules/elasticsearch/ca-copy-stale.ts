/**
 * `es-ca-copy-stale`: a CA copy an Elasticsearch trusts (see ca-trust.ts)
 * must hold the current CA of the cluster it was copied from. ECK rotates
 * its transport CA (by default after a year) in Secret
 * `<cluster>-es-transport-certs-public`; a copy taken before that no longer
 * verifies the remote's new node certificates ("CA certificates are
 * automatically rotated after one year by default ... Make sure to keep the
 * copy of the certificates Secret up-to-date", ECK docs).
 *
 * The source of a copy: its annotation `remote-cluster-guard.io/ca-source:
 * <namespace>/<elasticsearch-name>`; else, best effort, an ECK transport CA
 * subject in the copy (`CN=<name>-transport, OU=<name>`) naming exactly one
 * Elasticsearch in the state. The copy is stale when a certificate of the
 * source Secret's `ca.crt` (compared by SHA-256 fingerprint) is not in it.
 *
 * Validate: warn (the trust still works until the old CA's node
 * certificates are replaced): a stale copy; for an annotated copy only, an
 * annotation that is not `<namespace>/<name>`, a source Secret that does not
 * exist or has no `ca.crt`, and "cannot verify: <reason>" when the Secret may
 * not be read (Secret reads not enabled). A best-effort match says nothing
 * unless it can compare.
 *
 * Source: ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 1.2 text: https://www.elastic.co/guide/en/cloud-on-k8s/1.2/k8s-remote-clusters.html);
 * ECK pkg/controller/common/certificates/ca.go (`<name>-transport` CA subject,
 * `OU=<name>`) and secret.go `PublicTransportCertsSecretName`.
 */
import { warn, type Finding } from '../../engine/finding.js';
import type { Rule } from '../../engine/rule.js';
import {
  CA_SOURCE_ANNOTATION,
  eckCaSourceBySubject,
  parseCaSource,
  publicTransportCertsSecret,
  type Elasticsearch,
} from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import type { ClusterState } from '../../state/cluster-state.js';
import { describeSource, trustedCopies, type TrustedCopy } from './ca-trust.js';
import { CA_KEY } from './transport-ca.js';

export const CA_COPY_STALE_RULE = 'es-ca-copy-stale';

type Source = { key: ObjectKey; annotated: boolean } | { problem: string };

function sourceOf(copy: TrustedCopy, state: ClusterState): Source | undefined {
  const annotation = copy.metadata.annotations?.[CA_SOURCE_ANNOTATION];
  if (annotation !== undefined) {
    const key = parseCaSource(annotation);
    if (!key) return { problem: `annotation ${CA_SOURCE_ANNOTATION} is "${annotation}", not <namespace>/<elasticsearch-name>` };
    return { key, annotated: true };
  }
  for (const c of copy.report.certificates) {
    const key = eckCaSourceBySubject(c.subject, (n) => state.elasticsearchesNamed(n));
    if (key) return { key, annotated: false };
  }
  return undefined;
}

function check(copy: TrustedCopy, state: ClusterState): Finding | undefined {
  const source = sourceOf(copy, state);
  if (!source) return undefined;
  const what = describeSource(copy);
  if ('problem' in source) return warn(CA_COPY_STALE_RULE, copy.field, `cannot verify that ${what} is current: ${source.problem}`);
  const secretKey = { namespace: source.key.namespace, name: publicTransportCertsSecret(source.key.name) };
  const secret = `Secret ${formatKey(secretKey)}`;
  const lookup = state.getCaSecret(secretKey);
  if (lookup.status !== 'found') {
    if (!source.annotated) return undefined;
    const reason = lookup.status === 'absent' ? `${secret} does not exist` : lookup.reason;
    return warn(CA_COPY_STALE_RULE, copy.field, `cannot verify that ${what} is the current CA of ${formatKey(source.key)}: ${reason}`);
  }
  const current = lookup.secret.keys[CA_KEY];
  if (!current || current.certificates.length === 0) {
    if (!source.annotated) return undefined;
    return warn(CA_COPY_STALE_RULE, copy.field, `cannot verify that ${what} is current: ${secret} has no certificate under ${CA_KEY}`);
  }
  const held = new Set(copy.report.certificates.map((c) => c.fingerprint));
  const missing = current.certificates.filter((c) => !held.has(c.fingerprint));
  if (missing.length === 0) return undefined;
  const list = missing
    .map((c) => `${c.subject} (SHA-256 ${c.fingerprint.slice(0, 23)}..., notAfter ${c.notAfter.toISOString()})`)
    .join(', ');
  return warn(
    CA_COPY_STALE_RULE,
    copy.field,
    `${what} is a stale copy of the transport CA of Elasticsearch ${formatKey(source.key)}: it lacks the current ${list} from ${CA_KEY} of ${secret} (ECK rotated it); copy ${CA_KEY} again before the remote's node certificates are renewed`,
  );
}

function validate(es: Elasticsearch, namespace: string, state: ClusterState): Finding[] {
  const out: Finding[] = [];
  for (const copy of trustedCopies(es, namespace, state)) {
    const f = check(copy, state);
    if (f) out.push(f);
  }
  return out;
}

export const caCopyStaleRule: Rule<'Elasticsearch'> = {
  id: CA_COPY_STALE_RULE,
  kind: 'Elasticsearch',
  summary:
    "a trusted CA copy holds the current ca.crt of its source's <name>-es-transport-certs-public Secret (annotation remote-cluster-guard.io/ca-source).",
  needs: ['ConfigMap', 'Elasticsearch'],
  validate({ object, namespace, ctx }) {
    return validate(object, namespace, ctx.state);
  },
};
