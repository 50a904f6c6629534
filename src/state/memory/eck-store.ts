/**
 * In-memory Elasticsearch, ConfigMap and licence Secret store with a reverse
 * index of remote-cluster references, so "who references this cluster" is a
 * map lookup rather than a scan of every Elasticsearch.
 */
import type { ConfigMap, Secret } from '../../kube/core.js';
import type { Elasticsearch } from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import type { EckState } from '../eck-state.js';

/** ECK licence Secrets carry one of these labels; no other Secret is kept. */
export const LICENSE_SCOPE_LABEL = 'license.k8s.elastic.co/scope';
export const LICENSE_TYPE_LABEL = 'license.k8s.elastic.co/type';

/** The namespace/name keys an Elasticsearch references (ref namespace defaulting to its own). */
export function referencedKeys(es: Elasticsearch): string[] {
  const own = es.metadata.namespace ?? '';
  const keys = new Set<string>();
  for (const rc of es.spec?.remoteClusters ?? []) {
    const name = rc.elasticsearchRef?.name;
    if (name) keys.add(formatKey({ namespace: rc.elasticsearchRef?.namespace || own, name }));
  }
  return [...keys];
}

function keyOf(meta: { namespace?: string | undefined; name?: string | undefined }): string {
  return formatKey({ namespace: meta.namespace ?? '', name: meta.name ?? '' });
}

export class EckStore implements EckState {
  private readonly elasticsearches = new Map<string, Elasticsearch>();
  /** referenced key → keys of the Elasticsearches referencing it */
  private readonly referencedBy = new Map<string, Set<string>>();
  private readonly configMaps = new Map<string, ConfigMap>();
  private readonly secrets = new Map<string, Secret>();

  get counts(): { Elasticsearch: number; ConfigMap: number; Secret: number } {
    return { Elasticsearch: this.elasticsearches.size, ConfigMap: this.configMaps.size, Secret: this.secrets.size };
  }

  upsertElasticsearch(es: Elasticsearch): void {
    this.deleteElasticsearch({ namespace: es.metadata.namespace ?? '', name: es.metadata.name ?? '' });
    const key = keyOf(es.metadata);
    this.elasticsearches.set(key, es);
    for (const target of referencedKeys(es)) {
      let set = this.referencedBy.get(target);
      if (!set) this.referencedBy.set(target, (set = new Set()));
      set.add(key);
    }
  }

  deleteElasticsearch(k: ObjectKey): void {
    const key = formatKey(k);
    const old = this.elasticsearches.get(key);
    if (!old) return;
    this.elasticsearches.delete(key);
    for (const target of referencedKeys(old)) {
      const set = this.referencedBy.get(target);
      set?.delete(key);
      if (set?.size === 0) this.referencedBy.delete(target);
    }
  }

  upsertConfigMap(cm: ConfigMap): void {
    this.configMaps.set(keyOf(cm.metadata), cm);
  }

  deleteConfigMap(k: ObjectKey): void {
    this.configMaps.delete(formatKey(k));
  }

  /** Keeps only ECK licence Secrets: no other Secret data is held in memory. */
  upsertSecret(secret: Secret): boolean {
    const labels = secret.metadata.labels ?? {};
    if (!Object.hasOwn(labels, LICENSE_SCOPE_LABEL) && !Object.hasOwn(labels, LICENSE_TYPE_LABEL)) return false;
    this.secrets.set(keyOf(secret.metadata), secret);
    return true;
  }

  deleteSecret(k: ObjectKey): void {
    this.secrets.delete(formatKey(k));
  }

  listElasticsearches(): IterableIterator<Elasticsearch> {
    return this.elasticsearches.values();
  }

  getElasticsearch(k: ObjectKey): Elasticsearch | undefined {
    return this.elasticsearches.get(formatKey(k));
  }

  elasticsearchesReferencing(k: ObjectKey): Elasticsearch[] {
    const keys = this.referencedBy.get(formatKey(k));
    if (!keys) return [];
    const result: Elasticsearch[] = [];
    for (const key of keys) {
      const es = this.elasticsearches.get(key);
      if (es) result.push(es);
    }
    return result;
  }

  getConfigMap(k: ObjectKey): ConfigMap | undefined {
    return this.configMaps.get(formatKey(k));
  }

  configMapsWithLabel(namespace: string, labelKey: string, labelValue: string): ConfigMap[] {
    return [...this.configMaps.values()].filter(
      (cm) => (cm.metadata.namespace ?? '') === namespace && cm.metadata.labels?.[labelKey] === labelValue,
    );
  }

  secretsWithLabel(namespace: string, labelKey: string, labelValue: string): Secret[] {
    return [...this.secrets.values()].filter(
      (s) => (s.metadata.namespace ?? '') === namespace && s.metadata.labels?.[labelKey] === labelValue,
    );
  }
}
