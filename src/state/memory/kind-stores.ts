/**
 * How the memory state keeps each resource: the schema that decodes it and
 * the store calls that keep, remove and (for admitted kinds) list it. The
 * table is typed by `StateResource`, so a kind added to src/kube/kinds.ts does
 * not compile until it has an entry here; a switch over the resource that
 * returns void would compile with the case missing and drop the kind silently.
 */
import type { z } from 'zod';
import { ConfigMap, Secret } from '../../kube/core.js';
import { KINDS, type HandledKind, type HandledObjects } from '../../kube/kinds.js';
import type { ObjectKey } from '../../kube/meta.js';
import type { StateResource } from '../cluster-state.js';
import type { CalicoStore } from './calico-store.js';
import type { EckStore } from './eck-store.js';

/** The stores of the memory state, handed to each table entry. */
export interface Stores {
  readonly eck: EckStore;
  readonly calico: CalicoStore;
}

/** The decoded object of each state resource. */
export interface StateObjects extends HandledObjects {
  ConfigMap: ConfigMap;
  Secret: Secret;
}

export interface KindStore<T> {
  schema: z.ZodType<T>;
  /** Namespaced objects without `metadata.namespace` get the default one, as kubectl gives manifests. */
  namespaced: boolean;
  /** Keeps `object`, replacing the one of the same key; false when the store does not keep it (an unlabelled Secret). */
  upsert(stores: Stores, object: T): boolean | void;
  /** Removes by key (namespace "" for cluster-scoped kinds). */
  remove(stores: Stores, key: ObjectKey): void;
}

/** Every resource is kept and removed. */
export type KindStoreTable = { readonly [R in StateResource]: KindStore<StateObjects[R]> };

/** An admitted kind is also listed, for the audit. */
type KindStores = KindStoreTable & { readonly [K in HandledKind]: { list(stores: Stores): Iterable<HandledObjects[K]> } };

/** Schema and scope of an admitted kind, from the kind list. */
function admitted<K extends HandledKind>(kind: K): Pick<KindStore<HandledObjects[K]>, 'schema' | 'namespaced'> {
  const info = KINDS[kind];
  return { schema: info.schema, namespaced: !info.clusterScoped };
}

export const KIND_STORES: KindStores = {
  Elasticsearch: {
    ...admitted('Elasticsearch'),
    upsert: (s, o) => s.eck.upsertElasticsearch(o),
    remove: (s, key) => s.eck.deleteElasticsearch(key),
    list: (s) => s.eck.listElasticsearches(),
  },
  IPPool: {
    ...admitted('IPPool'),
    upsert: (s, o) => s.calico.upsertIPPool(o),
    remove: (s, key) => s.calico.deleteIPPool(key.name),
    list: (s) => s.calico.listIPPools(),
  },
  RemoteClusterConfiguration: {
    ...admitted('RemoteClusterConfiguration'),
    upsert: (s, o) => s.calico.upsertRemoteClusterConfiguration(o),
    remove: (s, key) => s.calico.deleteRemoteClusterConfiguration(key.name),
    list: (s) => s.calico.listRemoteClusterConfigurations(),
  },
  ConfigMap: {
    schema: ConfigMap,
    namespaced: true,
    upsert: (s, o) => s.eck.upsertConfigMap(o),
    remove: (s, key) => s.eck.deleteConfigMap(key),
  },
  Secret: {
    schema: Secret,
    namespaced: true,
    // Licence Secrets are kept whole; any other (manifests only: the live state reads them by name) as CA summaries.
    upsert: (s, o) => {
      if (!s.eck.upsertSecret(o)) s.eck.upsertCaSecret(o);
    },
    remove: (s, key) => s.eck.deleteSecret(key),
  },
};
