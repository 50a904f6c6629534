/**
 * What the live state watches, and how each list is made. Each source is one
 * list+watch; a source with several candidates uses the first one the API
 * server serves, and a source none of whose candidates is served is empty.
 *
 * Secrets are watched only in the ECK operator namespace and only with the
 * licence labels: no cluster-wide Secret watch. ConfigMaps: ECK's licensing
 * report in the operator namespace, and CA ConfigMaps labelled
 * `remote-cluster-guard.io/transport-ca-for`; other CA ConfigMaps named by an
 * Elasticsearch are fetched on demand (see configmap-fetcher.ts).
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { CALICO_API_GROUP, CALICO_CRD_GROUP } from '../../kube/calico.js';
import {
  ELASTICSEARCH_GROUP,
  LICENSE_SCOPE_LABEL,
  LICENSE_TYPE_LABEL,
  LICENSING_CONFIGMAP,
  TRANSPORT_CA_FOR_LABEL,
} from '../../kube/elasticsearch.js';
import type { StateResource } from '../cluster-state.js';

export interface Candidate {
  /** Watch path, e.g. `/apis/crd.projectcalico.org/v1/ippools`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  list: () => Promise<KubernetesListObject<KubernetesObject>>;
}

export interface SourceSpec {
  /** Name for logs and metrics, e.g. `IPPool` or `Secret (licence)`. */
  name: string;
  resource: StateResource;
  candidates: Candidate[];
}

/** Objects from typed client calls have Date fields; the state decodes the JSON form the watch sends. */
export function asJson<T = KubernetesListObject<KubernetesObject>>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function liveSources(kc: KubeConfig, operatorNamespace: string): SourceSpec[] {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const crd = (group: string, version: string, plural: string): Candidate => ({
    path: `/apis/${group}/${version}/${plural}`,
    list: async () => asJson(await custom.listClusterCustomObject({ group, version, plural })),
  });
  const inOperatorNs = (kind: 'configmaps' | 'secrets', selector: { labelSelector?: string; fieldSelector?: string }): Candidate => ({
    path: `/api/v1/namespaces/${operatorNamespace}/${kind}`,
    ...selector,
    list: async () =>
      asJson(
        kind === 'configmaps'
          ? await core.listNamespacedConfigMap({ namespace: operatorNamespace, ...selector })
          : await core.listNamespacedSecret({ namespace: operatorNamespace, ...selector }),
      ),
  });
  return [
    { name: 'Elasticsearch', resource: 'Elasticsearch', candidates: [crd(ELASTICSEARCH_GROUP, 'v1', 'elasticsearches')] },
    // Both Calico groups, each watched when served: with the Calico API server they show the same
    // objects (merged by name in the state); with projectcalico.org/v3 installed as CRDs (Calico
    // 3.30+) or crd.projectcalico.org alone, each holds objects the other does not.
    ...[CALICO_CRD_GROUP, CALICO_API_GROUP].flatMap((group) => {
      const version = group === CALICO_CRD_GROUP ? 'v1' : 'v3';
      return [
        { name: `IPPool (${group})`, resource: 'IPPool' as const, candidates: [crd(group, version, 'ippools')] },
        {
          name: `RemoteClusterConfiguration (${group})`,
          resource: 'RemoteClusterConfiguration' as const,
          candidates: [crd(group, version, 'remoteclusterconfigurations')],
        },
      ];
    }),
    {
      name: 'ConfigMap (licensing)',
      resource: 'ConfigMap',
      candidates: [inOperatorNs('configmaps', { fieldSelector: `metadata.name=${LICENSING_CONFIGMAP}` })],
    },
    {
      name: 'ConfigMap (transport CA)',
      resource: 'ConfigMap',
      candidates: [
        {
          path: '/api/v1/configmaps',
          labelSelector: TRANSPORT_CA_FOR_LABEL,
          list: async () => asJson(await core.listConfigMapForAllNamespaces({ labelSelector: TRANSPORT_CA_FOR_LABEL })),
        },
      ],
    },
    {
      name: 'Secret (licence)',
      resource: 'Secret',
      candidates: [inOperatorNs('secrets', { labelSelector: `${LICENSE_SCOPE_LABEL}=operator` })],
    },
    { name: 'Secret (trial)', resource: 'Secret', candidates: [inOperatorNs('secrets', { labelSelector: LICENSE_TYPE_LABEL })] },
  ];
}
