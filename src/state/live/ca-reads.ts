/**
 * What the live state reads by name before the CA trust rules judge an
 * Elasticsearch (by-name-fetcher.ts): the objects it trusts CAs from, then
 * the ECK Secrets those copies came from. Mirrors what the rules look up
 * (src/rules/elasticsearch/ca-trust.ts, ca-copy-stale.ts), so the rules find
 * in memory what they need.
 */
import { inspectPemBundle, type BundleReport } from '../../certs/pem-bundle.js';
import { caSettingPaths, resolveCaPath } from '../../kube/eck-ca-files.js';
import {
  CA_SOURCE_ANNOTATION,
  eckCaSourceBySubject,
  parseCaSource,
  publicTransportCertsSecret,
  type Elasticsearch,
} from '../../kube/elasticsearch.js';
import type { ObjectKey, ObjectMeta } from '../../kube/meta.js';
import type { MemoryClusterState } from '../memory-state.js';

export interface ObjectToRead {
  kind: 'ConfigMap' | 'Secret';
  key: ObjectKey;
}

/** The `configMapName` ConfigMap and every Secret or ConfigMap a nodeSet CA file may come from. */
export function filesToRead(es: Elasticsearch, namespace: string): ObjectToRead[] {
  const out: ObjectToRead[] = [];
  const cm = es.spec?.transport?.tls?.certificateAuthorities?.configMapName;
  if (cm) out.push({ kind: 'ConfigMap', key: { namespace, name: cm } });
  (es.spec?.nodeSets ?? []).forEach((nodeSet, i) => {
    for (const p of caSettingPaths(nodeSet, i)?.paths ?? []) {
      const r = resolveCaPath(es, nodeSet, p.raw, namespace);
      if (r.status === 'volume') for (const c of r.candidates) out.push({ kind: c.kind, key: c.key });
    }
  });
  return out;
}

/** The copies of `files` the state now holds, with their metadata and certificates. */
function heldCopies(files: ObjectToRead[], state: MemoryClusterState): { metadata: ObjectMeta; reports: BundleReport[] }[] {
  const out: { metadata: ObjectMeta; reports: BundleReport[] }[] = [];
  for (const f of files) {
    if (f.kind === 'ConfigMap') {
      const cm = state.getConfigMap(f.key);
      if (cm) out.push({ metadata: cm.metadata, reports: Object.values(cm.data ?? {}).map(inspectPemBundle) });
    } else {
      const s = state.getCaSecret(f.key);
      if (s.status === 'found') out.push({ metadata: s.secret.metadata, reports: Object.values(s.secret.keys) });
    }
  }
  return out;
}

/**
 * The `<name>-es-transport-certs-public` Secrets of the clusters the held
 * copies came from: the annotated source, else each Elasticsearch named by an
 * ECK transport CA subject that exactly one Elasticsearch of the state has.
 */
export function caSourcesToRead(es: Elasticsearch, namespace: string, state: MemoryClusterState): ObjectToRead[] {
  const out: ObjectToRead[] = [];
  const add = (k: ObjectKey) => out.push({ kind: 'Secret', key: { namespace: k.namespace, name: publicTransportCertsSecret(k.name) } });
  for (const copy of heldCopies(filesToRead(es, namespace), state)) {
    const annotation = copy.metadata.annotations?.[CA_SOURCE_ANNOTATION];
    const annotated = annotation === undefined ? undefined : parseCaSource(annotation);
    if (annotated) {
      add(annotated);
      continue;
    }
    for (const r of copy.reports)
      for (const c of r.certificates) {
        const source = eckCaSourceBySubject(c.subject, (n) => state.elasticsearchesNamed(n));
        if (source) add(source);
      }
  }
  return out;
}
