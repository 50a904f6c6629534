/**
 * The kinds this webhook admits: the one list everything kind-shaped is
 * derived from (the state's resources and store table, the live state's
 * watches, the metrics label set, the audit's help text). Adding a kind is
 * its schema, an entry here, its rules and its store: the compiler then asks
 * for its entry in src/state/memory/kind-stores.ts (and an arbitrary in the
 * hostile-input suite), and test/unit/kinds fails until deploy/base (both
 * webhook configurations, the ClusterRole) and the e2e CRDs list it.
 *
 * Versions are not part of the lookup key: with `matchPolicy: Equivalent` the
 * kube-apiserver may send any served version, and the fields read here are
 * the same in all of them. The versions listed are the ones the webhook
 * configurations register and the live state watches.
 */
import type { z } from 'zod';
import { CALICO_API_GROUP, CALICO_CRD_GROUP, IPPool, RemoteClusterConfiguration } from './calico.js';
import { ELASTICSEARCH_GROUP, Elasticsearch } from './elasticsearch.js';

/** An API group a kind is served in, with its versions in order of preference (the live state watches the first one served). */
export interface ApiGroupVersions {
  /** e.g. `crd.projectcalico.org`. */
  group: string;
  /** e.g. `['v1']`. */
  versions: readonly string[];
}

const CALICO_GROUPS = [
  { group: CALICO_CRD_GROUP, versions: ['v1'] },
  { group: CALICO_API_GROUP, versions: ['v3'] },
] as const;

/** The list. The key is the kind; `KINDS` below checks each entry against it. */
const TABLE = {
  Elasticsearch: {
    kind: 'Elasticsearch',
    clusterScoped: false,
    schema: Elasticsearch,
    resource: 'elasticsearches',
    groups: [{ group: ELASTICSEARCH_GROUP, versions: ['v1'] }],
  },
  IPPool: {
    kind: 'IPPool',
    clusterScoped: true,
    schema: IPPool,
    resource: 'ippools',
    groups: CALICO_GROUPS,
  },
  RemoteClusterConfiguration: {
    kind: 'RemoteClusterConfiguration',
    clusterScoped: true,
    schema: RemoteClusterConfiguration,
    resource: 'remoteclusterconfigurations',
    groups: CALICO_GROUPS,
  },
} as const;

/** A kind the rules are written for. */
export type HandledKind = keyof typeof TABLE;

/** The decoded object type of each handled kind: what its schema outputs. */
export type HandledObjects = { [K in HandledKind]: z.output<(typeof TABLE)[K]['schema']> };

/** One admitted kind. */
export interface KindInfo<K extends HandledKind = HandledKind> {
  kind: K;
  /** Cluster-scoped objects have no namespace (webhook rule `scope: Cluster`). */
  clusterScoped: boolean;
  /** Decodes an object of this kind (its `kind` field is the literal `K`, which the type checks). */
  schema: z.ZodType<HandledObjects[K] & { kind: K }>;
  /** The resource (plural), the same in each group: webhook rules, RBAC, watch paths. */
  resource: string;
  /** The groups the kind is served in, each with its versions. */
  groups: readonly ApiGroupVersions[];
}

/** Every admitted kind, in the list's order. The type checks that each entry's `kind` is its key. */
export const KINDS: { readonly [K in HandledKind]: KindInfo<K> } = TABLE;

/** The admitted kinds in the list's order (the order audits, sources and metrics follow). */
export const HANDLED_KINDS = Object.keys(KINDS) as HandledKind[];

/** The handled kind for an API group and kind, or undefined for anything else. */
export function handledKind(group: string, kind: string): KindInfo | undefined {
  if (!Object.hasOwn(KINDS, kind)) return undefined;
  const info: KindInfo = KINDS[kind as HandledKind];
  return info.groups.some((g) => g.group === group) ? info : undefined;
}
