/**
 * The in-memory cluster state: the one implementation of `ClusterState`,
 * fed either from manifest files (`--state`, the CLI, unit tests) or by
 * informers (live state). Objects are decoded with the same schemas the
 * admission path uses; an object that does not decode is reported, not kept.
 */
import type { z } from 'zod';
import { ConfigMap, Secret } from '../kube/core.js';
import { IPPool, RemoteClusterConfiguration } from '../kube/calico.js';
import { Elasticsearch } from '../kube/elasticsearch.js';
import { handledKind } from '../kube/kinds.js';
import { parseApiVersion, type ObjectKey } from '../kube/meta.js';
import type { CidrEntry } from './calico-state.js';
import type { ClusterState, StateResource } from './cluster-state.js';
import { CalicoStore } from './memory/calico-store.js';
import { EckStore } from './memory/eck-store.js';
import { describeIssues } from '../common/schema-issues.js';

/** The outcome of feeding one object to the state. */
export type ApplyResult =
  | { status: 'stored'; resource: StateResource }
  /** A kind the state does not keep (a Deployment, an unlabelled Secret...). */
  | { status: 'ignored' }
  /** A kept kind whose fields have the wrong types; `reason` is one line. */
  | { status: 'invalid'; resource: StateResource; reason: string };

/** The state resource an apiVersion/kind pair maps to, if any. */
export function stateResourceOf(apiVersion: unknown, kind: unknown): StateResource | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  const { group, version } = parseApiVersion(apiVersion);
  if (group === '' && version === 'v1' && (kind === 'ConfigMap' || kind === 'Secret')) return kind;
  return handledKind(group, kind)?.kind;
}

export class MemoryClusterState implements ClusterState {
  readonly eck = new EckStore();
  readonly calico = new CalicoStore();
  /** Resources whose initial list has completed; all of them for a manifest state. */
  private readonly synced = new Set<StateResource>(['Elasticsearch', 'IPPool', 'RemoteClusterConfiguration', 'ConfigMap', 'Secret']);

  /** Marks a resource as (not) synced; the live state clears all at start and sets each after its initial list. */
  setSynced(resource: StateResource, synced: boolean): void {
    if (synced) this.synced.add(resource);
    else this.synced.delete(resource);
  }

  isSynced(resource: StateResource): boolean {
    return this.synced.has(resource);
  }

  /** Every Elasticsearch, IPPool and RemoteClusterConfiguration held, for the audit. */
  *objects(): Generator<Elasticsearch | IPPool | RemoteClusterConfiguration> {
    yield* this.eck.listElasticsearches();
    yield* this.calico.listIPPools();
    yield* this.calico.listRemoteClusterConfigurations();
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
    // Namespaced objects without a namespace get the default one, as kubectl gives manifests.
    const inNamespace = <T extends { metadata: { namespace?: string | undefined } }>(o: T): T => (
      (o.metadata.namespace ||= defaultNamespace),
      o
    );
    switch (resource) {
      case 'Elasticsearch':
        return this.store(Elasticsearch, raw, resource, (o) => this.eck.upsertElasticsearch(inNamespace(o)));
      case 'ConfigMap':
        return this.store(ConfigMap, raw, resource, (o) => this.eck.upsertConfigMap(inNamespace(o)));
      case 'Secret':
        return this.store(Secret, raw, resource, (o) => this.eck.upsertSecret(inNamespace(o)));
      case 'IPPool':
        return this.store(IPPool, raw, resource, (o) => this.calico.upsertIPPool(o));
      case 'RemoteClusterConfiguration':
        return this.store(RemoteClusterConfiguration, raw, resource, (o) => this.calico.upsertRemoteClusterConfiguration(o));
    }
  }

  /** Decodes `raw` with `schema` and hands it to `upsert`, which returns false for an object it does not keep. */
  private store<T>(schema: z.ZodType<T>, raw: unknown, resource: StateResource, upsert: (o: T) => boolean | void): ApplyResult {
    const r = schema.safeParse(raw);
    if (!r.success) return { status: 'invalid', resource, reason: describeIssues(r.error.issues) };
    return upsert(r.data) === false ? { status: 'ignored' } : { status: 'stored', resource };
  }

  /** Removes an object by resource and key (namespace "" for cluster-scoped kinds). */
  remove(resource: StateResource, key: ObjectKey): void {
    switch (resource) {
      case 'Elasticsearch':
        return this.eck.deleteElasticsearch(key);
      case 'ConfigMap':
        return this.eck.deleteConfigMap(key);
      case 'Secret':
        return this.eck.deleteSecret(key);
      case 'IPPool':
        return this.calico.deleteIPPool(key.name);
      case 'RemoteClusterConfiguration':
        return this.calico.deleteRemoteClusterConfiguration(key.name);
    }
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
}
