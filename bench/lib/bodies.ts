/**
 * The AdmissionReview bodies the benchmarks send, built from the test
 * fixtures the way the kube-apiserver sends them on `kubectl apply` of a new
 * object (uid, creationTimestamp, managedFields, the last-applied annotation,
 * userInfo, options), and the small state they are evaluated against.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './procs.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export function fixtureDocs(path: string): Obj[] {
  return parseAllDocuments(readFileSync(join(ROOT, 'test/fixtures', path), 'utf-8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function fixtureObject(path: string, kind: string, name: string): Obj {
  const o = fixtureDocs(path).find((d) => d.kind === kind && d.metadata.name === name);
  if (!o) throw new Error(`${kind} ${name} not in test/fixtures/${path}`);
  return o;
}

export interface Resource {
  group: string;
  version: string;
  kind: string;
  resource: string;
}

export const ES_RESOURCE: Resource = {
  group: 'elasticsearch.k8s.elastic.co',
  version: 'v1',
  kind: 'Elasticsearch',
  resource: 'elasticsearches',
};
export const IPPOOL_RESOURCE: Resource = { group: 'projectcalico.org', version: 'v3', kind: 'IPPool', resource: 'ippools' };

/** The object as the API server hands it to admission on create: server-set metadata added. */
function asCreated(o: Obj): Obj {
  const lastApplied = JSON.stringify(o);
  const { name, namespace, ...rest } = o.metadata;
  return {
    ...o,
    metadata: {
      ...rest,
      name,
      ...(namespace ? { namespace } : {}),
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: '2026-06-01T10:00:00Z',
      annotations: {
        ...((rest['annotations'] as Record<string, string> | undefined) ?? {}),
        'kubectl.kubernetes.io/last-applied-configuration': lastApplied + '\n',
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: o.apiVersion,
          time: '2026-06-01T10:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } },
            'f:spec': { '.': {} },
          },
        },
      ],
    },
  };
}

/** A CREATE AdmissionReview (admission.k8s.io/v1) for `object`. */
export function admissionReview(object: Obj, r: Resource, uid: string = randomUUID()): string {
  const created = asCreated(object);
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const gvr = { group: r.group, version: r.version, resource: r.resource };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: object.metadata.name,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
      object: created,
      oldObject: null,
      dryRun: false,
      options: {
        kind: 'CreateOptions',
        apiVersion: 'meta.k8s.io/v1',
        fieldManager: 'kubectl-client-side-apply',
        fieldValidation: 'Strict',
      },
    },
  });
}

/** The ECK docs' Elasticsearch `cluster-one` (API-key model, remoteClusters to ns-two/cluster-two). */
export function clusterOne(): Obj {
  return fixtureObject('eck/api-key-model.yaml', 'Elasticsearch', 'cluster-one');
}

/** The federation IPPool `cluster1-main-pool` (labelled for RCC cluster1). */
export function federationPool(): Obj {
  return fixtureObject('calico/federation-example.yaml', 'IPPool', 'cluster1-main-pool');
}

export interface Body {
  /** `es` or `ippool`. */
  id: 'es' | 'ippool';
  label: string;
  text: string;
  bytes: number;
}

export function benchBodies(): Body[] {
  const es = admissionReview(clusterOne(), ES_RESOURCE, 'b1f2c3d4-0000-4000-8000-000000000001');
  const pool = admissionReview(federationPool(), IPPOOL_RESOURCE, 'b1f2c3d4-0000-4000-8000-000000000002');
  return [
    { id: 'es', label: 'Elasticsearch cluster-one (remoteClusters + apiKey)', text: es, bytes: Buffer.byteLength(es) },
    { id: 'ippool', label: 'IPPool cluster1-main-pool (federation pool)', text: pool, bytes: Buffer.byteLength(pool) },
  ];
}

/**
 * The state the bodies are evaluated against: the enterprise licence
 * ConfigMap and cluster-two; the federation example's pools (all but
 * cluster1-main-pool itself) and RemoteClusterConfiguration cluster1.
 */
export function baseStateObjects(): Obj[] {
  return [
    ...fixtureDocs('eck/license-enterprise.yaml'),
    fixtureObject('eck/api-key-model.yaml', 'Elasticsearch', 'cluster-two'),
    ...fixtureDocs('calico/federation-example.yaml').filter((o) => !(o.kind === 'IPPool' && o.metadata.name === 'cluster1-main-pool')),
  ];
}

/** Writes objects as one JSON `List` file (a manifest `--state` reads). */
export function writeList(file: string, items: readonly unknown[]): string {
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return file;
}
