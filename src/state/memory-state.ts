/**
 * The in-memory cluster state: the one implementation of `ClusterState`,
 * fed either from manifest files (`--state`, the CLI, unit tests) or by
 * informers (live state). Objects are decoded with the same schemas the
 * admission path uses; an object that does not decode is reported, not kept.
 */
import { HANDLED_KINDS, handledKind, type HandledKind, type HandledObjects } from '../kube/kinds.js';
import { parseApiVersion, type ObjectKey } from '../kube/meta.js';
import type { CidrEntry } from './calico-state.js';
import type { IpFamily } from '../net/cidr/cidr.js';
import type { RemoteRange } from './remote-cluster-ranges.js';
import { CORE_STATE_KINDS, STATE_RESOURCES, type ClusterState, type CoreStateKind, type StateResource } from './cluster-state.js';
import { CalicoStore } from './memory/calico-store.js';
import { EckStore } from './memory/eck-store.js';
import { KIND_STORES, type KindStoreTable } from './memory/kind-stores.js';
import { describeIssues } from '../common/schema-issues.js';

/** The outcome of feeding one object to the state. */
export type ApplyResult =
  | { status: 'stored'; resource: StateResource }
  /** A kind the state does not keep (a Deployment...). */
  | { status: 'ignored' }
  /** A kept kind whose fields have the wrong types; `reason` is one line. */
  | { status: 'invalid'; resource: StateResource; reason: string };

/** The state resource an apiVersion/kind pair maps to, if any. */
export function stateResourceOf(apiVersion: unknown, kind: unknown): StateResource | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  const { group, version } = parseApiVersion(apiVersion);
  if (group === '' && version === 'v1' && isCoreStateKind(kind)) return kind;
  return handledKind(group, kind)?.kind;
}

function isCoreStateKind(kind: string): kind is CoreStateKind {
  return (CORE_STATE_KINDS as readonly string[]).includes(kind);
}

export class MemoryClusterState implements ClusterState {
  readonly eck = new EckStore();
  readonly calico = new CalicoStore();
  /** Resources whose initial list has completed; all of them for a manifest state. */
  private readonly synced = new Set<StateResource>(STATE_RESOURCES);

  /** Marks a resource as (not) synced; the live state clears all at start and sets each after its initial list. */
  setSynced(resource: StateResource, synced: boolean): void {
    if (synced) this.synced.add(resource);
    else this.synced.delete(resource);
  }

  isSynced(resource: StateResource): boolean {
    return this.synced.has(resource);
  }

  /** Every object of an admitted kind held, kind by kind in the kind list's order, for the audit. */
  *objects(): Generator<HandledObjects[HandledKind]> {
    for (const kind of HANDLED_KINDS) yield* KIND_STORES[kind].list(this);
  }

  /** Number of objects kept, per resource. */
  counts(): Record<StateResource, number> {
    return { ...this.eck.counts, ...this.calico.counts };
  }

  /**
   * Adds or replaces an object. `defaultNamespace` fills a namespaced object's
   * missing `metadata.namespace`, as kubectl does with manifests.
   */
  apply(raw: unknown, defaultNamespace = 'default'): ApplyResult {
    if (typeof raw !== 'object' || raw === null) return { status: 'ignored' };
    const { apiVersion, kind } = raw as { apiVersion?: unknown; kind?: unknown };
    const resource = stateResourceOf(apiVersion, kind);
    if (!resource) return { status: 'ignored' };
    return this.applyAs(resource, raw, defaultNamespace);
  }

  /** Decodes `raw` as `resource` and hands it to that resource's store, which may decline it. */
  private applyAs<R extends StateResource>(resource: R, raw: unknown, defaultNamespace: string): ApplyResult {
    // Through the table's plain mapped type, which TypeScript indexes with a type parameter (`KindStores` adds `list`).
    const table: KindStoreTable = KIND_STORES;
    const store = table[resource];
    const r = store.schema.safeParse(raw);
    if (!r.success) return { status: 'invalid', resource, reason: describeIssues(r.error.issues) };
    if (store.namespaced) r.data.metadata.namespace ||= defaultNamespace;
    return store.upsert(this, r.data) === false ? { status: 'ignored' } : { status: 'stored', resource };
  }

  /** Removes an object by resource and key (namespace "" for cluster-scoped kinds). */
  remove(resource: StateResource, key: ObjectKey): void {
    KIND_STORES[resource].remove(this, key);
  }

  // EckState
  getElasticsearch(key: ObjectKey) {
    return this.eck.getElasticsearch(key);
  }
  elasticsearchesReferencing(key: ObjectKey) {
    return this.eck.elasticsearchesReferencing(key);
  }
  getConfigMap(key: ObjectKey) {
    return this.eck.getConfigMap(key);
  }
  configMapsWithLabel(namespace: string, labelKey: string, labelValue: string) {
    return this.eck.configMapsWithLabel(namespace, labelKey, labelValue);
  }
  secretsWithLabel(namespace: string, labelKey: string, labelValue: string) {
    return this.eck.secretsWithLabel(namespace, labelKey, labelValue);
  }
  getCaSecret(key: ObjectKey) {
    return this.eck.getCaSecret(key);
  }
  elasticsearchByUid(uid: string) {
    return this.eck.elasticsearchByUid(uid);
  }
  elasticsearchesNamed(name: string) {
    return this.eck.elasticsearchesNamed(name);
  }

  // CalicoState
  getIPPool(name: string) {
    return this.calico.getIPPool(name);
  }
  getRemoteClusterConfiguration(name: string) {
    return this.calico.getRemoteClusterConfiguration(name);
  }
  anyIPPoolWithVXLAN(): boolean {
    return this.calico.anyIPPoolWithVXLAN();
  }
  overlappingCidrs(cidr: string): CidrEntry[] {
    return this.calico.overlappingCidrs(cidr);
  }
  natOutgoingPools(family: IpFamily): ReadonlySet<string> {
    return this.calico.natOutgoingPools(family);
  }
  remoteRangesOf(cluster: string): readonly RemoteRange[] {
    return this.calico.remoteRangesOf(cluster);
  }
  allRemoteRanges(): readonly RemoteRange[] {
    return this.calico.allRemoteRanges();
  }
  unsyncedRemotes(): ReadonlyMap<string, string> {
    return this.calico.unsyncedRemotes();
  }
  discoveredRemotes(): ReadonlyMap<string, number | undefined> {
    return this.calico.discoveredRemotes();
  }
}
