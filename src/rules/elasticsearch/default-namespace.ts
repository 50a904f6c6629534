/**
 * `es-default-namespace` (mutate): writes the namespace ECK would assume into
 * every `spec.remoteClusters[].elasticsearchRef` that names a cluster but no
 * namespace, so the stored object says which cluster it means and later rules
 * (and people) read one resolved reference.
 *
 * Patch: `add /spec/remoteClusters/<i>/elasticsearchRef/namespace` = the
 * object's namespace, only for entries with `elasticsearchRef.name`;
 * idempotent (an entry with a namespace is left alone). No findings.
 *
 * Source: ECK pkg/controller/elasticsearch/remotecluster/elasticsearch.go
 * `getRemoteClustersInSpec` (`WithDefaultNamespace(es.Namespace)`, from
 * pkg/apis/common/v1/common.go `LocalObjectSelector.WithDefaultNamespace`: an
 * omitted `namespace` means the namespace of the referencing Elasticsearch);
 * ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 2.16 text: https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html):
 * "The namespace declaration can be omitted if both clusters reside in the
 * same namespace".
 */
import { jsonPointer } from '../../common/field-path.js';
import type { PatchOperation, Rule } from '../../engine/rule.js';

export const DEFAULT_NAMESPACE_RULE = 'es-default-namespace';

export const defaultNamespaceRule: Rule<'Elasticsearch'> = {
  id: DEFAULT_NAMESPACE_RULE,
  kind: 'Elasticsearch',
  summary: 'Fills remoteClusters[].elasticsearchRef.namespace with the object namespace when omitted.',
  mutate({ object, namespace }) {
    const patch: PatchOperation[] = [];
    if (!namespace) return { patch, findings: [] };
    (object.spec?.remoteClusters ?? []).forEach((entry, i) => {
      const ref = entry.elasticsearchRef;
      if (!ref?.name || ref.namespace) return;
      patch.push({ op: 'add', path: jsonPointer(['spec', 'remoteClusters', i, 'elasticsearchRef', 'namespace']), value: namespace });
    });
    return { patch, findings: [] };
  },
};
