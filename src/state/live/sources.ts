/**
 * What the live state watches, and how each list is made. Each source is one
 * list+watch; a source with several candidates uses the first one the API
 * server serves, and a source none of whose candidates is served is empty.
 *
 * Secrets are watched only in the ECK operator namespace and only with the
 * licence labels: no cluster-wide Secret watch. ConfigMaps: ECK's licensing
 * report in the operator namespace, and CA ConfigMaps labelled
 * `remote-cluster-guard.io/transport-ca-for`; other CA ConfigMaps named by an
 * Elasticsearch are fetched on demand (by-name-fetcher.ts, which also reads
 * CA Secrets by name when `--read-ca-secrets` allows).
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { LICENSE_SCOPE_LABEL, LICENSE_TYPE_LABEL, LICENSING_CONFIGMAP, TRANSPORT_CA_FOR_LABEL } from '../../kube/elasticsearch.js';
import { HANDLED_KINDS, KINDS } from '../../kube/kinds.js';
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

/**
 * One source per admitted kind and API group, from the kind list, group by
 * group in the order the groups first appear in it. Each group of a kind is
 * watched when served: with the Calico API server both Calico groups show the
 * same objects (merged by name in the state); with projectcalico.org/v3
 * installed as CRDs (Calico 3.30+) or crd.projectcalico.org alone, each holds
 * objects the other does not. A group's versions are its candidates, in order.
 */
export function admittedKindSources(crd: (group: string, version: string, plural: string) => Candidate): SourceSpec[] {
  const groups = [...new Set(HANDLED_KINDS.flatMap((kind) => KINDS[kind].groups.map((g) => g.group)))];
  return groups.flatMap((group) =>
    HANDLED_KINDS.flatMap((kind) => {
      const info = KINDS[kind];
      const served = info.groups.find((g) => g.group === group);
      if (!served) return [];
      // The group in the name only where there are several, so logs tell the sources apart.
      const name = info.groups.length > 1 ? `${kind} (${group})` : kind;
      return [{ name, resource: kind, candidates: served.versions.map((version) => crd(group, version, info.resource)) }];
    }),
  );
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
    ...admittedKindSources(crd),
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
