/**
 * The CA copies an Elasticsearch trusts, read from the cluster state: the
 * ConfigMap named by `spec.transport.tls.certificateAuthorities.configMapName`,
 * and the Secret or ConfigMap key behind each nodeSet CA file (resolved in
 * src/kube/eck-ca-files.ts). Pure; never throws on bad input.
 *
 * Source: ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 1.2 text: https://www.elastic.co/guide/en/cloud-on-k8s/1.2/k8s-remote-clusters.html).
 */
import { inspectPemBundle, type BundleReport } from '../../certs/pem-bundle.js';
import { fieldPath } from '../../common/field-path.js';
import { caSettingPaths, resolveCaPath, type FileCandidate } from '../../kube/eck-ca-files.js';
import type { Elasticsearch } from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey, type OwnedObjectMeta } from '../../kube/meta.js';
import type { ClusterState } from '../../state/cluster-state.js';
import { CA_KEY } from './transport-ca.js';

/** The content of a resolved file, or why it is not there or cannot be read. */
export type FileContent =
  | { status: 'found'; candidate: FileCandidate; metadata: OwnedObjectMeta; report: BundleReport }
  | { status: 'missing'; reason: string }
  | { status: 'unknown'; reason: string };

/** `key ca.crt of Secret ns/name`, for messages. */
export function describeSource(c: { kind: string; key: ObjectKey; dataKey: string }): string {
  return `key ${c.dataKey} of ${c.kind} ${formatKey(c.key)}`;
}

/**
 * The first candidate that has the file: a mapped candidate whose object or
 * key is absent makes the file missing (a non-optional source stops the Pod;
 * an optional one leaves no file); an unmapped one passes to the next. A
 * Secret that cannot be read makes the answer unknown.
 */
export function readCandidates(candidates: readonly FileCandidate[], state: ClusterState): FileContent {
  const misses: string[] = [];
  for (const c of candidates) {
    let metadata: OwnedObjectMeta;
    let report: BundleReport | undefined;
    let keys: string[];
    if (c.kind === 'ConfigMap') {
      const cm = state.getConfigMap(c.key);
      if (!cm) {
        misses.push(`ConfigMap ${formatKey(c.key)} was not found`);
        if (c.mapped) break;
        continue;
      }
      metadata = cm.metadata;
      keys = Object.keys(cm.data ?? {});
      const text = cm.data?.[c.dataKey];
      report = text === undefined ? undefined : inspectPemBundle(text);
    } else {
      const lookup = state.getCaSecret(c.key);
      if (lookup.status === 'unknown') return { status: 'unknown', reason: `Secret ${formatKey(c.key)}: ${lookup.reason}` };
      if (lookup.status === 'absent') {
        misses.push(`Secret ${formatKey(c.key)} was not found`);
        if (c.mapped) break;
        continue;
      }
      metadata = lookup.secret.metadata;
      keys = Object.keys(lookup.secret.keys);
      report = lookup.secret.keys[c.dataKey];
    }
    if (report) return { status: 'found', candidate: c, metadata, report };
    misses.push(`${c.kind} ${formatKey(c.key)} has no key ${c.dataKey} (${keys.length ? `it has ${keys.join(', ')}` : 'it has no data'})`);
    if (c.mapped) break;
  }
  return { status: 'missing', reason: misses.join('; ') };
}

/** A CA copy an Elasticsearch trusts: the object and key, the field that makes it trusted, and its certificates. */
export interface TrustedCopy {
  kind: 'Secret' | 'ConfigMap';
  key: ObjectKey;
  dataKey: string;
  field: string;
  metadata: OwnedObjectMeta;
  report: BundleReport;
}

const CONFIG_MAP_FIELD = fieldPath(['spec', 'transport', 'tls', 'certificateAuthorities', 'configMapName']);

/**
 * Every CA copy `es` trusts that the state holds: the `configMapName`
 * ConfigMap's `ca.crt`, then each nodeSet CA file that resolves to a Secret
 * or ConfigMap key, each object and key once (at its first field).
 */
export function trustedCopies(es: Elasticsearch, namespace: string, state: ClusterState): TrustedCopy[] {
  const out: TrustedCopy[] = [];
  const seen = new Set<string>();
  const add = (c: TrustedCopy) => {
    const id = `${c.kind}\0${formatKey(c.key)}\0${c.dataKey}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push(c);
  };
  const cmName = es.spec?.transport?.tls?.certificateAuthorities?.configMapName;
  if (cmName) {
    const cm = state.getConfigMap({ namespace, name: cmName });
    const text = cm?.data?.[CA_KEY];
    if (cm && text !== undefined)
      add({
        kind: 'ConfigMap',
        key: { namespace, name: cmName },
        dataKey: CA_KEY,
        field: CONFIG_MAP_FIELD,
        metadata: cm.metadata,
        report: inspectPemBundle(text),
      });
  }
  (es.spec?.nodeSets ?? []).forEach((ns, i) => {
    for (const p of caSettingPaths(ns, i)?.paths ?? []) {
      const r = resolveCaPath(es, ns, p.raw, namespace);
      if (r.status !== 'volume') continue;
      const content = readCandidates(r.candidates, state);
      if (content.status === 'found') add({ ...content.candidate, field: p.field, metadata: content.metadata, report: content.report });
    }
  });
  return out;
}

/** The certificate of a trusted CA copy that expires first, with the Elasticsearch that trusts it. */
export interface EarliestExpiry {
  notAfter: Date;
  elasticsearch: ObjectKey;
  /** `ConfigMap ns-two/remote-certs` */
  copy: string;
}

/**
 * The earliest notAfter of any certificate in a CA copy one of `elasticsearches`
 * trusts (trustedCopies), for the expiry metric; undefined when they trust none.
 */
export function earliestTrustedCaExpiry(elasticsearches: Iterable<Elasticsearch>, state: ClusterState): EarliestExpiry | undefined {
  let earliest: EarliestExpiry | undefined;
  for (const es of elasticsearches) {
    const key = { namespace: es.metadata.namespace ?? '', name: es.metadata.name ?? '' };
    for (const copy of trustedCopies(es, key.namespace, state))
      for (const c of copy.report.certificates)
        if (!earliest || c.notAfter < earliest.notAfter)
          earliest = { notAfter: c.notAfter, elasticsearch: key, copy: `${copy.kind} ${formatKey(copy.key)}` };
  }
  return earliest;
}
