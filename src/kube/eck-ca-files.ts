/**
 * Which files an Elasticsearch nodeSet trusts as transport CAs, and where each
 * comes from: the paths a nodeSet's `config` lists in
 * `xpack.security.transport.ssl.certificate_authorities`, resolved through the
 * volume mounts of the nodeSet's `elasticsearch` container to the Secret or
 * ConfigMap key behind each file. Pure, on the object alone (the rules and the
 * live state's on-demand reads both use it); never throws on bad input.
 *
 * Sources: Elasticsearch "Security settings", `xpack.security.transport.ssl.certificate_authorities`
 * (a list; a string is split on commas; a relative path resolves against the
 * config directory, /usr/share/elasticsearch/config in the image);
 * ECK docs "Remote clusters", connecting to a cluster of another ECK
 * (https://www.elastic.co/guide/en/cloud-on-k8s/1.2/k8s-remote-clusters.html,
 * current: https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters-to-external):
 * a Secret `remote-certs` mounted at /usr/share/elasticsearch/config/other;
 * ECK pkg/controller/elasticsearch/volume/names.go for ECK's own mounts and
 * pkg/controller/elasticsearch/nodespec/volumes.go (the config directory is
 * an emptyDir filled from the image's at start);
 * Kubernetes `SecretVolumeSource.items` / `ConfigMapVolumeSource.items`
 * (a key not listed is not projected) and `VolumeMount.subPath`.
 */
import { posix } from 'node:path';
import { fieldPath, type PathSegment } from '../common/field-path.js';
import type { Elasticsearch, NodeSet } from './elasticsearch.js';
import type { ObjectKey } from './meta.js';
import { PodTemplate, type KeyToPath, type Volume } from './pod.js';

/** The config directory of the Elasticsearch image, against which relative SSL paths resolve. */
export const ES_CONFIG_DIR = '/usr/share/elasticsearch/config';
export const CA_SETTING = 'xpack.security.transport.ssl.certificate_authorities';
/** The container ECK runs Elasticsearch in. */
export const ES_CONTAINER = 'elasticsearch';

/** ECK's own mounts under the config directory (volume/names.go). */
const ECK_MOUNTS = ['http-certs', 'transport-certs', 'transport-remote-certs'].map((d) => `${ES_CONFIG_DIR}/${d}`);
/** Files ECK itself provides there: its own transport CA and the `configMapName` CAs. */
const ECK_FILES = new Set([`${ES_CONFIG_DIR}/transport-certs/ca.crt`, `${ES_CONFIG_DIR}/transport-remote-certs/ca.crt`]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The value of dotted setting `parts` in an Elasticsearch `config` map, which
 * may spell it flat (`a.b.c: x`), nested (`a: {b: {c: x}}`) or mixed
 * (`a.b: {c: x}`), with the path segments of the key(s) that hold it.
 */
export function findSetting(
  node: unknown,
  parts: readonly string[],
  at: PathSegment[],
): { segments: PathSegment[]; value: unknown } | undefined {
  if (!isRecord(node)) return undefined;
  for (const [key, value] of Object.entries(node)) {
    const kp = key.split('.');
    if (kp.length > parts.length || !kp.every((p, i) => p === parts[i])) continue;
    if (kp.length === parts.length) return { segments: [...at, key], value };
    const inner = findSetting(value, parts.slice(kp.length), [...at, key]);
    if (inner) return inner;
  }
  return undefined;
}

/** One path of the setting, with the field that holds it. */
export interface CaPathEntry {
  field: string;
  /** As written. */
  raw: string;
}

/** The setting's paths, or why they cannot be read (a value that is neither a string nor a list of strings). */
export interface CaSettingPaths {
  nodeSet: number;
  settingField: string;
  paths: CaPathEntry[];
  problems: { field: string; reason: string }[];
}

/** The `certificate_authorities` paths of nodeSet `index`, undefined when its config does not set them. */
export function caSettingPaths(nodeSet: NodeSet, index: number): CaSettingPaths | undefined {
  const base: PathSegment[] = ['spec', 'nodeSets', index, 'config'];
  const found = findSetting(nodeSet.config, CA_SETTING.split('.'), base);
  if (!found) return undefined;
  const settingField = fieldPath(found.segments);
  const out: CaSettingPaths = { nodeSet: index, settingField, paths: [], problems: [] };
  const { value } = found;
  if (typeof value === 'string') {
    // Elasticsearch reads a list setting given as a string as a comma-separated list.
    for (const p of value.split(',').map((s) => s.trim())) if (p) out.paths.push({ field: settingField, raw: p });
  } else if (Array.isArray(value)) {
    value.forEach((v: unknown, i) => {
      const field = fieldPath([...found.segments, i]);
      if (typeof v === 'string' && v.trim()) out.paths.push({ field, raw: v.trim() });
      else out.problems.push({ field, reason: `entry ${i} is ${typeof v === 'string' ? 'empty' : `a ${describeType(v)}`}, not a path` });
    });
  } else if (value !== null && value !== undefined) {
    out.problems.push({ field: settingField, reason: `it is a ${describeType(value)}, not a path or a list of paths` });
  }
  return out;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'map' : typeof v;
}

/** One place a file may come from: key `dataKey` of a Secret or ConfigMap. */
export interface FileCandidate {
  kind: 'Secret' | 'ConfigMap';
  key: ObjectKey;
  dataKey: string;
  /** Named by the volume's `items` (certain); else the file exists only when the object has the key. */
  mapped: boolean;
}

/** Where a CA path leads. */
export type PathResolution =
  /** ECK provides it (its own CA, the configMapName CAs). */
  | { status: 'eck' }
  /** One of these objects provides it (the first that has the key). */
  | { status: 'volume'; volume: string; candidates: FileCandidate[] }
  /** It cannot exist: `reason` says why. */
  | { status: 'missing'; reason: string }
  /** It may exist, but nothing here can tell: `reason` says why. */
  | { status: 'unverifiable'; reason: string };

/** The decoded podTemplate of a nodeSet, or why it cannot be read. */
function podTemplateOf(nodeSet: NodeSet): PodTemplate | string {
  if (nodeSet.podTemplate === undefined) return {};
  const r = PodTemplate.safeParse(nodeSet.podTemplate);
  return r.success ? r.data : 'its podTemplate does not have the shape of a Pod template';
}

/** The file `rel` of a Secret or ConfigMap volume: through `items` when set, else the key of that name at the top level. */
function keyFor(rel: string, items: KeyToPath[] | undefined, volume: string): { dataKey: string; mapped: boolean } | string {
  if (items) {
    const item = items.find((i) => posix.normalize(i.path) === rel);
    return item
      ? { dataKey: item.key, mapped: true }
      : `volume ${volume} projects only ${items.map((i) => i.path).join(', ') || 'no file'} (its items), not ${rel}`;
  }
  if (rel.includes('/')) return `volume ${volume} has files only at its top level (no items), not ${rel}`;
  return { dataKey: rel, mapped: false };
}

function volumeType(v: Volume): string {
  const known = Object.keys(v).filter((k) => k !== 'name');
  return known[0] ?? 'unknown';
}

function resolveInVolume(v: Volume, rel: string, namespace: string): PathResolution {
  const candidates: FileCandidate[] = [];
  if (v.secret) {
    if (!v.secret.secretName) return { status: 'unverifiable', reason: `volume ${v.name} names no secretName` };
    const k = keyFor(rel, v.secret.items, v.name);
    if (typeof k === 'string') return { status: 'missing', reason: k };
    return { status: 'volume', volume: v.name, candidates: [{ kind: 'Secret', key: { namespace, name: v.secret.secretName }, ...k }] };
  }
  if (v.configMap) {
    if (!v.configMap.name) return { status: 'unverifiable', reason: `volume ${v.name} names no ConfigMap` };
    const k = keyFor(rel, v.configMap.items, v.name);
    if (typeof k === 'string') return { status: 'missing', reason: k };
    return { status: 'volume', volume: v.name, candidates: [{ kind: 'ConfigMap', key: { namespace, name: v.configMap.name }, ...k }] };
  }
  if (v.projected) {
    for (const [i, s] of (v.projected.sources ?? []).entries()) {
      const src = s.secret
        ? { kind: 'Secret' as const, ...s.secret }
        : s.configMap
          ? { kind: 'ConfigMap' as const, ...s.configMap }
          : undefined;
      if (!src) {
        // serviceAccountToken, downwardAPI, clusterTrustBundle: their paths are not read here.
        return { status: 'unverifiable', reason: `source ${i} of projected volume ${v.name} is neither a Secret nor a ConfigMap` };
      }
      if (!src.name) return { status: 'unverifiable', reason: `source ${i} of projected volume ${v.name} names no ${src.kind}` };
      const k = keyFor(rel, src.items, v.name);
      if (typeof k !== 'string') candidates.push({ kind: src.kind, key: { namespace, name: src.name }, ...k });
    }
    if (candidates.length === 0) return { status: 'missing', reason: `no source of projected volume ${v.name} provides ${rel}` };
    return { status: 'volume', volume: v.name, candidates };
  }
  return { status: 'unverifiable', reason: `volume ${v.name} is a ${volumeType(v)} volume, whose files are not known before the Pod runs` };
}

/**
 * Where CA path `raw` of `nodeSet` leads. `..` is not normalised: the kernel
 * resolves it through the volume's symlinks (Secret and ConfigMap volumes
 * are links into a timestamped directory), so a lexical answer could be wrong.
 */
export function resolveCaPath(es: Elasticsearch, nodeSet: NodeSet, raw: string, namespace: string): PathResolution {
  if (raw.split('/').includes('..'))
    return { status: 'unverifiable', reason: `${raw} has a '..' segment, which Elasticsearch resolves through the volume's symlinks` };
  const path = posix.resolve(ES_CONFIG_DIR, raw);
  if (ECK_FILES.has(path)) return { status: 'eck' };
  const template = podTemplateOf(nodeSet);
  if (typeof template === 'string') return { status: 'unverifiable', reason: template };
  const container = template.spec?.containers?.find((c) => c.name === ES_CONTAINER);
  let best: { mountPath: string; name: string; subPath?: string | undefined; subPathExpr?: string | undefined } | undefined;
  for (const m of container?.volumeMounts ?? []) {
    const mountPath = posix.resolve('/', m.mountPath);
    if (
      (path === mountPath || path.startsWith(mountPath === '/' ? '/' : `${mountPath}/`)) &&
      (!best || mountPath.length > best.mountPath.length)
    )
      best = { ...m, mountPath };
  }
  if (!best) {
    if (ECK_MOUNTS.some((m) => path.startsWith(`${m}/`))) return { status: 'unverifiable', reason: `${path} is in a volume ECK mounts` };
    const image = container?.image ?? es.spec?.image;
    if (image)
      return {
        status: 'unverifiable',
        reason: `no volume of the ${ES_CONTAINER} container is mounted there, and image ${image} may ship it`,
      };
    if (!path.startsWith(`${ES_CONFIG_DIR}/`))
      return {
        status: 'unverifiable',
        reason: `no volume of the ${ES_CONTAINER} container is mounted there; it would be a file of the image`,
      };
    return {
      status: 'missing',
      reason: `no volume of the ${ES_CONTAINER} container is mounted at ${path} or above it, and the Elasticsearch image has no such file`,
    };
  }
  if (best.subPathExpr !== undefined) return { status: 'unverifiable', reason: `the mount of volume ${best.name} uses subPathExpr` };
  const rest = path === best.mountPath ? '' : path.slice(best.mountPath.length).replace(/^\//, '');
  const rel = best.subPath ? posix.normalize(rest ? `${best.subPath}/${rest}` : best.subPath) : rest;
  if (!rel) return { status: 'missing', reason: `${path} is where volume ${best.name} is mounted, a directory, not a file` };
  const volume = template.spec?.volumes?.find((v) => v.name === best.name);
  if (!volume) return { status: 'unverifiable', reason: `volume ${best.name} is mounted but not declared in the podTemplate` };
  return resolveInVolume(volume, rel, namespace);
}
