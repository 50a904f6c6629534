/**
 * What the Elasticsearch rules look up in the cluster: other Elasticsearch
 * resources, ECK's licence information and ConfigMaps.
 */
import type { BundleReport } from '../certs/pem-bundle.js';
import type { ConfigMap, Secret } from '../kube/core.js';
import type { Elasticsearch } from '../kube/elasticsearch.js';
import type { ObjectKey, OwnedObjectMeta } from '../kube/meta.js';

/**
 * A Secret an Elasticsearch trusts CAs from (a mounted CA copy, or ECK's
 * `<name>-es-transport-certs-public`), reduced on arrival to what the rules
 * read: its metadata and, per data key, the certificates found there
 * (subject, CA flag, validity, SHA-256 fingerprint). Its data is never kept.
 */
export interface CaSecret {
  metadata: OwnedObjectMeta;
  keys: Record<string, BundleReport>;
}

/**
 * The answer to "what is Secret namespace/name": found; absent (the API
 * server said 404, or the manifests hold every Secret there is); or unknown
 * with a one-line reason (Secret reads not enabled for that namespace, a
 * failed read, not read yet). Rules never deny on `unknown`.
 */
export type SecretLookup = { status: 'found'; secret: CaSecret } | { status: 'absent' } | { status: 'unknown'; reason: string };

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
  /** A Secret read by name for the CA trust rules (see CaSecret). */
  getCaSecret(key: ObjectKey): SecretLookup;
  /** The Elasticsearch with `metadata.uid` `uid`, in any namespace (owner reference checks). */
  elasticsearchByUid(uid: string): Elasticsearch | undefined;
  /** The Elasticsearch resources named `name`, in every namespace. */
  elasticsearchesNamed(name: string): Elasticsearch[];
}
