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
import { ObjectMeta } from './meta.js';

export const ELASTICSEARCH_GROUP = 'elasticsearch.k8s.elastic.co';

/** The ConfigMap ECK's operator writes (every 2 minutes, in its namespace) with the licence level in force. */
export const LICENSING_CONFIGMAP = 'elastic-licensing';
/** Label of ECK licence Secrets in the operator namespace (`=operator`). */
export const LICENSE_SCOPE_LABEL = 'license.k8s.elastic.co/scope';
/** Label of ECK trial licence Secrets (`=enterprise_trial`). */
export const LICENSE_TYPE_LABEL = 'license.k8s.elastic.co/type';
/** remote-cluster-guard's label on a ConfigMap holding the transport CA bundle of Elasticsearch `<value>`. */
export const TRANSPORT_CA_FOR_LABEL = 'remote-cluster-guard.io/transport-ca-for';

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

export const ElasticsearchSpec = z.object({
  version: z.string().optional(),
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
