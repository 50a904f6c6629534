/**
 * What the Elasticsearch rules look up in the cluster: other Elasticsearch
 * resources, ECK's licence information and ConfigMaps.
 */
import type { ConfigMap, Secret } from '../kube/core.js';
import type { Elasticsearch } from '../kube/elasticsearch.js';
import type { ObjectKey } from '../kube/meta.js';

export interface EckState {
  getElasticsearch(key: ObjectKey): Elasticsearch | undefined;
  /**
   * The Elasticsearch resources whose `spec.remoteClusters[].elasticsearchRef`
   * points at `key` (an omitted ref namespace meaning the referrer's own).
   */
  elasticsearchesReferencing(key: ObjectKey): Elasticsearch[];
  getConfigMap(key: ObjectKey): ConfigMap | undefined;
  /** ConfigMaps in `namespace` with label `labelKey=labelValue`. */
  configMapsWithLabel(namespace: string, labelKey: string, labelValue: string): ConfigMap[];
  /** Secrets in `namespace` with label `labelKey=labelValue` (only the operator namespace is kept). */
  secretsWithLabel(namespace: string, labelKey: string, labelValue: string): Secret[];
}
