/**
 * ECK's `Elasticsearch` resource (`elasticsearch.k8s.elastic.co/v1`), the
 * fields the remote-cluster rules read.
 *
 * Source: ECK `pkg/apis/elasticsearch/v1` (elasticsearch_types.go: types
 * `RemoteCluster`, `RemoteClusterServer`, `TransportTLSOptions`;
 * remote_cluster.go: `RemoteClusterAPIKey`, `RemoteClusterAccess`);
 * ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 2.16 text: https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html)
 * for examples.
 */
import { z } from 'zod';
import { ObjectMeta, type ObjectKey } from './meta.js';

export const ELASTICSEARCH_GROUP = 'elasticsearch.k8s.elastic.co';

/** The ConfigMap ECK's operator writes (every 2 minutes, in its namespace) with the licence level in force. */
export const LICENSING_CONFIGMAP = 'elastic-licensing';
/** Label of ECK licence Secrets in the operator namespace (`=operator`). */
export const LICENSE_SCOPE_LABEL = 'license.k8s.elastic.co/scope';
/** Label of ECK trial licence Secrets (`=enterprise_trial`). */
export const LICENSE_TYPE_LABEL = 'license.k8s.elastic.co/type';
/** remote-cluster-guard's label on a ConfigMap holding the transport CA bundle of Elasticsearch `<value>`. */
export const TRANSPORT_CA_FOR_LABEL = 'remote-cluster-guard.io/transport-ca-for';
/**
 * remote-cluster-guard's annotation on a copied CA (ConfigMap or Secret):
 * `<namespace>/<elasticsearch-name>` of the cluster whose
 * `<name>-es-transport-certs-public` Secret it was copied from.
 */
export const CA_SOURCE_ANNOTATION = 'remote-cluster-guard.io/ca-source';
/** The `<namespace>/<name>` of a `remote-cluster-guard.io/ca-source` annotation; undefined when it is not one. */
export function parseCaSource(annotation: string): { namespace: string; name: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(annotation.trim());
  return m ? { namespace: m[1]!, name: m[3]! } : undefined;
}

/**
 * The Elasticsearch whose ECK transport CA has subject `subject` (one line,
 * `CN=<name>-transport, OU=<name>`, ECK pkg/controller/common/certificates/ca.go),
 * else undefined.
 */
export function eckTransportCaOwner(subject: string): string | undefined {
  const m = /^CN=(.+)-transport, OU=(.+)$/.exec(subject);
  return m && m[1] === m[2] ? m[1] : undefined;
}

/**
 * The Elasticsearch a CA certificate with subject `subject` was made for by
 * ECK (`eckTransportCaOwner`), when exactly one Elasticsearch of that name
 * exists (`named`: the Elasticsearch resources with a name, in any namespace);
 * else undefined. A best-effort match: the subject names no namespace.
 */
export function eckCaSourceBySubject(subject: string, named: (name: string) => readonly Elasticsearch[]): ObjectKey | undefined {
  const owner = eckTransportCaOwner(subject);
  const found = owner === undefined ? [] : named(owner);
  return found.length === 1 ? { namespace: found[0]!.metadata.namespace ?? '', name: owner! } : undefined;
}

/** ECK's Secret with the public transport CA of Elasticsearch `<name>` (pkg/controller/common/certificates `PublicTransportCertsSecretName`). */
export function publicTransportCertsSecret(esName: string): string {
  return `${esName}-es-transport-certs-public`;
}

const IndexNames = z.object({ names: z.array(z.string()).optional() });

/** `spec.remoteClusters[].elasticsearchRef`; `apiKey` is accepted here only to catch a common mistake. */
export const ElasticsearchRef = z.object({
  name: z.string().optional(),
  namespace: z.string().optional(),
  serviceName: z.string().optional(),
  /** Not part of the API: the docs mistake of nesting apiKey under the ref. */
  apiKey: z.unknown().optional(),
});
export type ElasticsearchRef = z.infer<typeof ElasticsearchRef>;

/** `spec.remoteClusters[]` (ECK `RemoteCluster`). */
export const RemoteCluster = z.object({
  name: z.string().optional(),
  elasticsearchRef: ElasticsearchRef.optional(),
  apiKey: z
    .object({
      access: z
        .object({
          search: IndexNames.optional(),
          replication: IndexNames.optional(),
        })
        .optional(),
    })
    .optional(),
});
export type RemoteCluster = z.infer<typeof RemoteCluster>;

/**
 * `spec.nodeSets[]` (ECK `NodeSet`). `config` and `podTemplate` are free-form
 * in ECK's CRD (x-kubernetes-preserve-unknown-fields), so they are kept
 * undecoded here and read defensively by the rules (src/kube/pod.ts).
 */
export const NodeSet = z.object({
  name: z.string().optional(),
  config: z.unknown().optional(),
  podTemplate: z.unknown().optional(),
});
export type NodeSet = z.infer<typeof NodeSet>;

export const ElasticsearchSpec = z.object({
  version: z.string().optional(),
  /** A custom image may ship files (CA certificates) under the config directory. */
  image: z.string().optional(),
  nodeSets: z.array(NodeSet).optional(),
  remoteClusters: z.array(RemoteCluster).optional(),
  remoteClusterServer: z.object({ enabled: z.boolean().optional() }).optional(),
  transport: z
    .object({
      tls: z
        .object({
          certificateAuthorities: z.object({ configMapName: z.string().optional() }).optional(),
        })
        .optional(),
    })
    .optional(),
});

export const Elasticsearch = z.object({
  apiVersion: z.string(),
  kind: z.literal('Elasticsearch'),
  metadata: ObjectMeta,
  spec: ElasticsearchSpec.optional(),
  /** `status.version` is the running version; it differs from `spec.version` during an upgrade. */
  status: z.object({ version: z.string().optional() }).optional(),
});
export type Elasticsearch = z.infer<typeof Elasticsearch>;
