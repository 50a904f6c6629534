/**
 * `es-ca-owner-reference`: a CA copy an Elasticsearch trusts (the
 * `configMapName` ConfigMap, or a Secret or ConfigMap behind a nodeSet's
 * `xpack.security.transport.ssl.certificate_authorities` file) must not carry
 * an owner reference that cannot hold, or the garbage collector deletes it and
 * the trust goes with it.
 *
 * An owner reference names no namespace: the owner of a namespaced object is
 * looked up in the object's own namespace, by uid. So a copy of ECK's
 * `<cluster>-es-transport-certs-public` Secret taken as-is into another
 * namespace keeps an owner reference to an Elasticsearch that is not there,
 * and is deleted ("Beware of copying the source Secret as-is into a different
 * namespace", ECK docs). Kubernetes "Owners and Dependents"
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/):
 * "Cross-namespace owner references are disallowed by design ... the
 * dependent is treated as having an unresolvable owner reference".
 *
 * Validate, per owner reference of kind Elasticsearch (the kind the state
 * holds; references to other kinds are not checked):
 * - deny: the uid is that of an Elasticsearch in another namespace (copied
 *   as-is); no Elasticsearch of that name and uid in the copy's namespace.
 * Denied rather than warned: the copy will be deleted, and the trust with it,
 * as soon as the garbage collector sees it.
 *
 * Source: ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 1.2 text: https://www.elastic.co/guide/en/cloud-on-k8s/1.2/k8s-remote-clusters.html).
 */
import { deny, type Finding } from '../../engine/finding.js';
import type { Rule } from '../../engine/rule.js';
import { ELASTICSEARCH_GROUP, type Elasticsearch } from '../../kube/elasticsearch.js';
import { formatKey, parseApiVersion, type OwnerReference } from '../../kube/meta.js';
import type { ClusterState } from '../../state/cluster-state.js';
import { keyOf } from './common.js';
import { describeSource, trustedCopies, type TrustedCopy } from './ca-trust.js';

export const CA_OWNER_REFERENCE_RULE = 'es-ca-owner-reference';

const FIX =
  'remove metadata.ownerReferences from the copy (kubectl patch --type=json -p \'[{"op":"remove","path":"/metadata/ownerReferences"}]\')';

function isElasticsearchRef(ref: OwnerReference): boolean {
  return ref.kind === 'Elasticsearch' && parseApiVersion(ref.apiVersion ?? '').group === ELASTICSEARCH_GROUP;
}

function check(copy: TrustedCopy, ref: OwnerReference, index: number, state: ClusterState): Finding | undefined {
  if (!isElasticsearchRef(ref) || !ref.name) return undefined;
  const namespace = copy.key.namespace;
  const local = state.getElasticsearch({ namespace, name: ref.name });
  if (local && (!ref.uid || !local.metadata.uid || local.metadata.uid === ref.uid)) return undefined;
  const what = `${copy.kind} ${formatKey(copy.key)} (trusted through ${describeSource(copy)})`;
  const owner = ref.uid ? state.elasticsearchByUid(ref.uid) : undefined;
  if (owner && keyOf(owner).namespace !== namespace) {
    return deny(
      CA_OWNER_REFERENCE_RULE,
      copy.field,
      `${what} has ownerReferences[${index}] to Elasticsearch ${formatKey(keyOf(owner))}, in another namespace: owner references are namespace-local, so the garbage collector deletes the copy; ${FIX}`,
    );
  }
  const uid = ref.uid ? ` with uid ${ref.uid}` : '';
  return deny(
    CA_OWNER_REFERENCE_RULE,
    copy.field,
    `${what} has ownerReferences[${index}] to Elasticsearch ${formatKey({ namespace, name: ref.name })}${uid}, which does not exist, so the garbage collector deletes the copy; ${FIX}`,
  );
}

function validate(es: Elasticsearch, namespace: string, state: ClusterState): Finding[] {
  const out: Finding[] = [];
  for (const copy of trustedCopies(es, namespace, state)) {
    (copy.metadata.ownerReferences ?? []).forEach((ref, i) => {
      const f = check(copy, ref, i, state);
      if (f) out.push(f);
    });
  }
  return out;
}

export const caOwnerReferenceRule: Rule<'Elasticsearch'> = {
  id: CA_OWNER_REFERENCE_RULE,
  kind: 'Elasticsearch',
  summary:
    'a trusted CA copy has no owner reference to an Elasticsearch in another namespace or to one that does not exist (it would be garbage-collected).',
  needs: ['ConfigMap', 'Elasticsearch'],
  validate({ object, namespace, ctx }) {
    return validate(object, namespace, ctx.state);
  },
};
