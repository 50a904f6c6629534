/**
 * In-memory Elasticsearch, ConfigMap and licence Secret store with a reverse
 * index of remote-cluster references, so "who references this cluster" is a
 * map lookup rather than a scan of every Elasticsearch, and a label index of
 * ConfigMaps and Secrets, so "which ConfigMaps in this namespace carry this
 * label" (asked on every Elasticsearch mutation) does not scan every ConfigMap.
 */
import type { ConfigMap, Secret } from '../../kube/core.js';
import { LICENSE_SCOPE_LABEL, LICENSE_TYPE_LABEL, type Elasticsearch } from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import type { CaSecret, EckState, SecretLookup } from '../eck-state.js';
import { reduceSecret } from './ca-secrets.js';

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

/** The objects of `objects` at `keys` (an index's answer), in the keys' order. */
function objectsAt<T>(objects: ReadonlyMap<string, T>, keys: Iterable<string> | undefined): T[] {
  const out: T[] = [];
  for (const key of keys ?? []) {
    const o = objects.get(key);
    if (o) out.push(o);
  }
  return out;
}

type Labels = Record<string, string> | undefined;
type Labelled = { metadata: { namespace?: string | undefined; labels?: Labels } };

/**
 * Objects by namespace/name key, with an index namespace → label key → label
 * value → keys, kept in step on every set and delete, so "which objects in
 * this namespace carry this label" is one lookup, not a scan.
 */
class LabelledObjects<T extends Labelled> {
  private readonly objects = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, Map<string, Set<string>>>>();

  get size(): number {
    return this.objects.size;
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  /** Stores `object` under `key`, replacing (and unindexing) the object there before. */
  set(key: string, object: T): void {
    this.delete(key);
    this.objects.set(key, object);
    const labels = object.metadata.labels;
    if (!labels) return;
    const namespace = object.metadata.namespace ?? '';
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

  delete(key: string): void {
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    const labels = old.metadata.labels;
    const namespace = old.metadata.namespace ?? '';
    const byKey = this.byNamespace.get(namespace);
    if (!labels || !byKey) return;
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

  /** The objects in `namespace` labelled `labelKey=labelValue` (in the order they got the label). */
  withLabel(namespace: string, labelKey: string, labelValue: string): T[] {
    return objectsAt(this.objects, this.byNamespace.get(namespace)?.get(labelKey)?.get(labelValue));
  }
}

export class EckStore implements EckState {
  private readonly elasticsearches = new Map<string, Elasticsearch>();
  /** referenced key → keys of the Elasticsearches referencing it */
  private readonly referencedBy = new Map<string, Set<string>>();
  private readonly configMaps = new LabelledObjects<ConfigMap>();
  private readonly secrets = new LabelledObjects<Secret>();
  /** uid → key of the Elasticsearch with that uid */
  private readonly byUid = new Map<string, string>();
  /** name → keys of the Elasticsearches of that name (every namespace) */
  private readonly byName = new Map<string, Set<string>>();
  /** Secrets read by name for the CA trust rules, reduced (no data). */
  private readonly caSecrets = new Map<string, CaSecret>();
  /** key → why a Secret not in caSecrets is absent (undefined) or unknown (a reason) */
  private readonly secretMisses = new Map<string, string | undefined>();
  /**
   * What a Secret never read is: absent for manifests (they hold every
   * Secret there is), unknown with a reason for a live state.
   */
  unreadSecret: SecretLookup = { status: 'absent' };

  get counts(): { Elasticsearch: number; ConfigMap: number; Secret: number } {
    return { Elasticsearch: this.elasticsearches.size, ConfigMap: this.configMaps.size, Secret: this.secrets.size };
  }

  upsertElasticsearch(es: Elasticsearch): void {
    this.deleteElasticsearch({ namespace: es.metadata.namespace ?? '', name: es.metadata.name ?? '' });
    const key = keyOf(es.metadata);
    this.elasticsearches.set(key, es);
    if (es.metadata.uid) this.byUid.set(es.metadata.uid, key);
    const name = es.metadata.name ?? '';
    let named = this.byName.get(name);
    if (!named) this.byName.set(name, (named = new Set()));
    named.add(key);
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
    if (old.metadata.uid && this.byUid.get(old.metadata.uid) === key) this.byUid.delete(old.metadata.uid);
    const named = this.byName.get(old.metadata.name ?? '');
    named?.delete(key);
    if (named?.size === 0) this.byName.delete(old.metadata.name ?? '');
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

  /** Keeps a Secret read for the CA trust rules, reduced to its certificate summaries (ca-secrets.ts). */
  upsertCaSecret(secret: Secret): void {
    const key = keyOf(secret.metadata);
    this.secretMisses.delete(key);
    this.caSecrets.set(key, reduceSecret(secret));
  }

  /** Records that Secret `k` does not exist (`reason` undefined) or could not be read (`reason`). */
  markSecretMissing(k: ObjectKey, reason?: string): void {
    const key = formatKey(k);
    this.caSecrets.delete(key);
    this.secretMisses.set(key, reason);
  }

  deleteSecret(k: ObjectKey): void {
    this.secrets.delete(formatKey(k));
    this.caSecrets.delete(formatKey(k));
  }

  getCaSecret(k: ObjectKey): SecretLookup {
    const key = formatKey(k);
    const secret = this.caSecrets.get(key);
    if (secret) return { status: 'found', secret };
    if (!this.secretMisses.has(key)) return this.unreadSecret;
    const reason = this.secretMisses.get(key);
    return reason === undefined ? { status: 'absent' } : { status: 'unknown', reason };
  }

  elasticsearchByUid(uid: string): Elasticsearch | undefined {
    const key = this.byUid.get(uid);
    return key === undefined ? undefined : this.elasticsearches.get(key);
  }

  /** From the name index: one lookup, whatever the number of Elasticsearch resources. */
  elasticsearchesNamed(name: string): Elasticsearch[] {
    return objectsAt(this.elasticsearches, this.byName.get(name));
  }

  listElasticsearches(): IterableIterator<Elasticsearch> {
    return this.elasticsearches.values();
  }

  getElasticsearch(k: ObjectKey): Elasticsearch | undefined {
    return this.elasticsearches.get(formatKey(k));
  }

  elasticsearchesReferencing(k: ObjectKey): Elasticsearch[] {
    return objectsAt(this.elasticsearches, this.referencedBy.get(formatKey(k)));
  }

  getConfigMap(k: ObjectKey): ConfigMap | undefined {
    return this.configMaps.get(formatKey(k));
  }

  /** From the label index: one lookup, whatever the number of ConfigMaps (callers sort the answer). */
  configMapsWithLabel(namespace: string, labelKey: string, labelValue: string): ConfigMap[] {
    return this.configMaps.withLabel(namespace, labelKey, labelValue);
  }

  secretsWithLabel(namespace: string, labelKey: string, labelValue: string): Secret[] {
    return this.secrets.withLabel(namespace, labelKey, labelValue);
  }
}
