/**
 * The real kube-apiserver of the e2e harness (test/e2e/harness/cluster.ts)
 * for the benchmarks: CRDs and namespaces, objects created in bulk over
 * HTTP with the admin token (no kubectl process per object), and plain
 * HTTP requests for latency measurements.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../../test/e2e/harness/cluster.js';
import { baseStateObjects } from './bodies.js';
import { ROOT } from './procs.js';

export type { TestCluster };

export interface ApiClient {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; text: string }>;
  close(): void;
}

/** Keep-alive HTTPS client of the test API server with the admin bearer token. */
export function apiClient(cluster: TestCluster, maxSockets = 32): ApiClient {
  const url = new URL(cluster.server);
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca: readFileSync(cluster.caFile) });
  return {
    request: (method, path, body, contentType = 'application/json') =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        const req = https.request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method,
            agent,
            timeout: 60_000,
            headers: {
              authorization: `Bearer ${cluster.token}`,
              accept: 'application/json',
              ...(data ? { 'content-type': contentType, 'content-length': data.length } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on('error', reject);
        req.end(data);
      }),
    close: () => agent.destroy(),
  };
}

type Obj = { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string } };

const PLURAL: Record<string, string> = {
  Elasticsearch: 'elasticsearches',
  IPPool: 'ippools',
  RemoteClusterConfiguration: 'remoteclusterconfigurations',
  ConfigMap: 'configmaps',
  Namespace: 'namespaces',
};

/** The collection URL of an object (where it is created). */
export function collectionPath(o: Obj): string {
  const plural = PLURAL[o.kind];
  if (!plural) throw new Error(`no plural known for ${o.kind}`);
  const prefix = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  return o.metadata.namespace ? `${prefix}/namespaces/${o.metadata.namespace}/${plural}` : `${prefix}/${plural}`;
}

export function objectPath(o: Obj): string {
  return `${collectionPath(o)}/${o.metadata.name}`;
}

/** Creates every object, `concurrency` requests in flight; throws on the first answer other than 201 (or 409 when `allowExisting`). */
export async function createAll(api: ApiClient, objects: readonly Obj[], concurrency = 32, allowExisting = false): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const o = objects[next++]!;
      const r = await api.request('POST', collectionPath(o), o);
      if (r.status !== 201 && !(allowExisting && r.status === 409))
        throw new Error(`create ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${r.status} ${r.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
}

/** Deletes every object (404 tolerated), `concurrency` requests in flight. */
export async function deleteAll(api: ApiClient, objects: readonly Obj[], concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const o = objects[next++]!;
      const r = await api.request('DELETE', objectPath(o));
      if (r.status !== 200 && r.status !== 202 && r.status !== 404)
        throw new Error(`delete ${o.kind} ${o.metadata.name}: ${r.status} ${r.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
}

export function namespace(name: string): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** A test kube-apiserver with the e2e CRDs, the bench namespaces and the bench's base state. */
export async function startBenchCluster(extraNamespaces: string[] = []): Promise<{ cluster: TestCluster; api: ApiClient }> {
  const cluster = await startTestCluster();
  try {
    for (const f of ['elasticsearch.yaml', 'calico-crd.yaml', 'calico-v3.yaml']) {
      await cluster.kubectlRun(['apply', '-f', join(ROOT, 'test/e2e/crds', f)]);
    }
    await cluster.kubectlRun(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    const api = apiClient(cluster);
    const namespaces = ['ns-one', 'ns-two', 'elastic-system', 'remote-cluster-guard', ...extraNamespaces].map(namespace);
    await createAll(api, namespaces, 16, true);
    await waitForCrds(api);
    await createAll(api, baseStateObjects() as Obj[], 8);
    return { cluster, api };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/** The API server serves a freshly established CRD's endpoints a moment later: wait for each list to answer 200. */
async function waitForCrds(api: ApiClient): Promise<void> {
  const paths = [
    '/apis/elasticsearch.k8s.elastic.co/v1/elasticsearches',
    '/apis/projectcalico.org/v3/ippools',
    '/apis/crd.projectcalico.org/v1/ippools',
    '/apis/projectcalico.org/v3/remoteclusterconfigurations',
  ];
  const deadline = Date.now() + 30_000;
  for (const p of paths) {
    for (;;) {
      const r = await api.request('GET', `${p}?limit=1`);
      if (r.status === 200) break;
      if (Date.now() > deadline) throw new Error(`${p} not served: ${r.status}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}
