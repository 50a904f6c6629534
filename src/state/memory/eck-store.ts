/**
 * In-memory Elasticsearch, ConfigMap and licence Secret store with a reverse
 * index of remote-cluster references, so "who references this cluster" is a
 * map lookup rather than a scan of every Elasticsearch, and a label index of
 * ConfigMaps and Secrets, so "which ConfigMaps in this namespace carry this
 * label" (asked on every Elasticsearch mutation) does not scan every ConfigMap.
 */
import type { ConfigMap, Secret } from '../../kube/core.js';
import type { Elasticsearch } from '../../kube/elasticsearch.js';
import { LICENSE_SCOPE_LABEL, LICENSE_TYPE_LABEL } from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import type { EckState } from '../eck-state.js';


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

type Labels = Record<string, string> | undefined;

/**
 * namespace → label key → label value → keys of the objects carrying that
 * label. Kept in step with the objects on every upsert and delete.
 */
class LabelIndex {
  private readonly byNamespace = new Map<string, Map<string, Map<string, Set<string>>>>();

  add(key: string, namespace: string, labels: Labels): void {
    if (!labels) return;
    let byKey = this.byNamespace.get(namespace);
    if (!byKey) this.byNamespace.set(namespace, (byKey = new Map()));
    for (const [k, v] of Object.entries(labels)) {
      let byValue = byKey.get(k);
      if (!byValue) byKey.set(k, (byValue = new Map()));
      let keys = byValue.get(v);
      if (!keys) byValue.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  remove(key: string, namespace: string, labels: Labels): void {
    if (!labels) return;
    const byKey = this.byNamespace.get(namespace);
    if (!byKey) return;
    for (const [k, v] of Object.entries(labels)) {
      const byValue = byKey.get(k);
      const keys = byValue?.get(v);
      if (!byValue || !keys) continue;
      keys.delete(key);
      if (keys.size === 0) byValue.delete(v);
      if (byValue.size === 0) byKey.delete(k);
    }
    if (byKey.size === 0) this.byNamespace.delete(namespace);
  }

  keys(namespace: string, labelKey: string, labelValue: string): ReadonlySet<string> | undefined {
    return this.byNamespace.get(namespace)?.get(labelKey)?.get(labelValue);
  }
}

/** The objects of `store` whose keys `index` lists for the label (in the order they got it). */
function withLabel<T>(store: Map<string, T>, index: LabelIndex, namespace: string, labelKey: string, labelValue: string): T[] {
  const keys = index.keys(namespace, labelKey, labelValue);
  if (!keys) return [];
  const out: T[] = [];
  for (const key of keys) {
    const o = store.get(key);
    if (o) out.push(o);
  }
  return out;
}

export class EckStore implements EckState {
  private readonly elasticsearches = new Map<string, Elasticsearch>();
  /** referenced key → keys of the Elasticsearches referencing it */
  private readonly referencedBy = new Map<string, Set<string>>();
  private readonly configMaps = new Map<string, ConfigMap>();
  private readonly secrets = new Map<string, Secret>();
  private readonly configMapLabels = new LabelIndex();
  private readonly secretLabels = new LabelIndex();

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
    const key = keyOf(cm.metadata);
    const old = this.configMaps.get(key);
    if (old) this.configMapLabels.remove(key, old.metadata.namespace ?? '', old.metadata.labels);
    this.configMaps.set(key, cm);
    this.configMapLabels.add(key, cm.metadata.namespace ?? '', cm.metadata.labels);
  }

  deleteConfigMap(k: ObjectKey): void {
    const key = formatKey(k);
    const old = this.configMaps.get(key);
    if (!old) return;
    this.configMaps.delete(key);
    this.configMapLabels.remove(key, old.metadata.namespace ?? '', old.metadata.labels);
  }

  /** Keeps only ECK licence Secrets: no other Secret data is held in memory. */
  upsertSecret(secret: Secret): boolean {
    const labels = secret.metadata.labels ?? {};
    if (!Object.hasOwn(labels, LICENSE_SCOPE_LABEL) && !Object.hasOwn(labels, LICENSE_TYPE_LABEL)) return false;
    const key = keyOf(secret.metadata);
    const old = this.secrets.get(key);
    if (old) this.secretLabels.remove(key, old.metadata.namespace ?? '', old.metadata.labels);
    this.secrets.set(key, secret);
    this.secretLabels.add(key, secret.metadata.namespace ?? '', secret.metadata.labels);
    return true;
  }

  deleteSecret(k: ObjectKey): void {
    const key = formatKey(k);
    const old = this.secrets.get(key);
    if (!old) return;
    this.secrets.delete(key);
    this.secretLabels.remove(key, old.metadata.namespace ?? '', old.metadata.labels);
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

  /** From the label index: one lookup, whatever the number of ConfigMaps (callers sort the answer). */
  configMapsWithLabel(namespace: string, labelKey: string, labelValue: string): ConfigMap[] {
    return withLabel(this.configMaps, this.configMapLabels, namespace, labelKey, labelValue);
  }

  secretsWithLabel(namespace: string, labelKey: string, labelValue: string): Secret[] {
    return withLabel(this.secrets, this.secretLabels, namespace, labelKey, labelValue);
  }
}
