/**
 * Helpers shared by the Elasticsearch rules: resolving `remoteClusters`
 * references (ECK's namespace defaulting), listing the versions an
 * Elasticsearch declares, and finding the clusters that reference one.
 *
 * Source: ECK pkg/apis/elasticsearch/v1/elasticsearch_types.go `RemoteCluster`
 * and pkg/controller/elasticsearch/remotecluster/elasticsearch.go
 * `getRemoteClustersInSpec` (an omitted `elasticsearchRef.namespace` means the
 * referrer's namespace);
 * ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 2.16 text: https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html).
 */
import { jsonPointer } from '../../common/field-path.js';
import type { PatchOperation } from '../../engine/rule.js';
import type { Elasticsearch, RemoteCluster } from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import { parseEsVersion, type EsVersion } from './version.js';

/** A `spec.remoteClusters[]` entry with its index and its resolved target (when it names one). */
export interface RemoteEntry {
  index: number;
  entry: RemoteCluster;
  /** The referenced Elasticsearch, ref namespace defaulted to the referrer's; undefined without `elasticsearchRef.name`. */
  target: ObjectKey | undefined;
}

/** The `spec.remoteClusters` entries of `es`, which lives in `namespace`. */
export function remoteEntries(es: Elasticsearch, namespace: string): RemoteEntry[] {
  return (es.spec?.remoteClusters ?? []).map((entry, index) => {
    const name = entry.elasticsearchRef?.name;
    const target = name ? { namespace: entry.elasticsearchRef?.namespace || namespace, name } : undefined;
    return { index, entry, target };
  });
}

/** True when both keys name the same object. */
export function sameKey(a: ObjectKey, b: ObjectKey): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

/** The key of a stored Elasticsearch (namespace "" when the state has none, which it always fills). */
export function keyOf(es: Elasticsearch): ObjectKey {
  return { namespace: es.metadata.namespace ?? '', name: es.metadata.name ?? '' };
}

/** Whether an entry uses the API-key security model (`apiKey` set, even empty). */
export function usesApiKey(entry: RemoteCluster): boolean {
  return entry.apiKey !== undefined;
}

/** One version an Elasticsearch declares: the desired `spec.version` or the running `status.version`. */
export interface DeclaredVersion {
  source: 'spec' | 'status';
  raw: string;
  /** Undefined when `raw` does not parse. */
  parsed: EsVersion | undefined;
}

/**
 * `spec.version`, then `status.version` when it is set and differs (an
 * upgrade in progress: ECK reads the running version from `status.version`).
 */
export function declaredVersions(es: Elasticsearch): DeclaredVersion[] {
  const out: DeclaredVersion[] = [];
  const spec = es.spec?.version;
  const status = es.status?.version;
  if (spec) out.push({ source: 'spec', raw: spec, parsed: parseEsVersion(spec) });
  if (status && status !== spec) out.push({ source: 'status', raw: status, parsed: parseEsVersion(status) });
  return out;
}

/** `9.1.0` or `9.1.0 (running; upgrade in progress)`, for messages. */
export function describeDeclared(v: DeclaredVersion): string {
  return v.source === 'spec' ? v.raw : `${v.raw} (running, upgrade in progress)`;
}

/** A referrer of `key` and its entries that point at `key`. */
export interface Referrer {
  es: Elasticsearch;
  key: ObjectKey;
  entries: RemoteEntry[];
}

/**
 * The Elasticsearch resources in the state that reference `key` through
 * `spec.remoteClusters`, with the matching entries; `key` itself is left out
 * (a self-reference is `es-remote-ref`'s business).
 */
export function referrersOf(state: { elasticsearchesReferencing(key: ObjectKey): Elasticsearch[] }, key: ObjectKey): Referrer[] {
  const out: Referrer[] = [];
  for (const es of state.elasticsearchesReferencing(key)) {
    const rk = keyOf(es);
    if (sameKey(rk, key)) continue;
    const entries = remoteEntries(es, rk.namespace).filter((e) => e.target && sameKey(e.target, key));
    if (entries.length > 0) out.push({ es, key: rk, entries });
  }
  return out.sort((a, b) => formatKey(a.key).localeCompare(formatKey(b.key)));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One `add` operation setting `segments` (object keys) to `value` in `root`,
 * creating the missing parents: it targets the deepest existing parent and
 * adds the rest as a nested value, so it applies cleanly to the raw object
 * (whose declared fields are those of the decoded `root`).
 */
export function addWithParents(root: unknown, segments: readonly string[], value: unknown): PatchOperation {
  let node: unknown = root;
  let depth = 0; // segments[0..depth) exist as objects
  while (depth < segments.length - 1) {
    const next: unknown = isRecord(node) ? node[segments[depth] ?? ''] : undefined;
    if (!isRecord(next)) break;
    node = next;
    depth += 1;
  }
  let nested: unknown = value;
  for (let i = segments.length - 1; i > depth; i -= 1) nested = { [segments[i] ?? '']: nested };
  return { op: 'add', path: jsonPointer(segments.slice(0, depth + 1)), value: nested };
}
