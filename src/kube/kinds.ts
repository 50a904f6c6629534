/**
 * The kinds this webhook handles, keyed by API group and kind, and the schema
 * each is decoded with. Versions are not part of the key: with
 * `matchPolicy: Equivalent` the kube-apiserver may send any served version,
 * and the fields read here are the same in all of them.
 */
import type { z } from 'zod';
import { CALICO_API_GROUP, CALICO_CRD_GROUP, IPPool, RemoteClusterConfiguration } from './calico.js';
import { ELASTICSEARCH_GROUP, Elasticsearch } from './elasticsearch.js';

/** A kind the rules are written for. */
export type HandledKind = 'Elasticsearch' | 'IPPool' | 'RemoteClusterConfiguration';

/** The decoded object type of each handled kind. */
export interface HandledObjects {
  Elasticsearch: Elasticsearch;
  IPPool: IPPool;
  RemoteClusterConfiguration: RemoteClusterConfiguration;
}

export interface KindInfo {
  kind: HandledKind;
  /** Cluster-scoped objects have no namespace. */
  clusterScoped: boolean;
  schema: z.ZodType<HandledObjects[HandledKind]>;
  /** The resource (plural) in each group, for webhook rules and informers. */
  resource: string;
  groups: readonly string[];
}

export const KINDS: Readonly<Record<HandledKind, KindInfo>> = {
  Elasticsearch: {
    kind: 'Elasticsearch',
    clusterScoped: false,
    schema: Elasticsearch,
    resource: 'elasticsearches',
    groups: [ELASTICSEARCH_GROUP],
  },
  IPPool: {
    kind: 'IPPool',
    clusterScoped: true,
    schema: IPPool,
    resource: 'ippools',
    groups: [CALICO_CRD_GROUP, CALICO_API_GROUP],
  },
  RemoteClusterConfiguration: {
    kind: 'RemoteClusterConfiguration',
    clusterScoped: true,
    schema: RemoteClusterConfiguration,
    resource: 'remoteclusterconfigurations',
    groups: [CALICO_CRD_GROUP, CALICO_API_GROUP],
  },
};

/** The handled kind for an API group and kind, or undefined for anything else. */
export function handledKind(group: string, kind: string): KindInfo | undefined {
  if (!Object.hasOwn(KINDS, kind)) return undefined;
  const info = KINDS[kind as HandledKind];
  return info.groups.includes(group) ? info : undefined;
}
