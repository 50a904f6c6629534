/**
 * Federation discovery (src/state/federation/federation-discovery.ts): one
 * remote cluster watcher per RemoteClusterConfiguration, started, rebuilt
 * and stopped as RCCs and their Secrets come, change and go. The local
 * cluster's API (the clusterAccessSecret reads) and the remote clusters'
 * are plain-HTTP stand-ins on 127.0.0.1; the ranges and sync status land in
 * a MemoryClusterState's Calico store, as in `serve`.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { RemoteClusterConfiguration } from '../../../../src/kube/calico.js';
import { createLogger } from '../../../../src/log/logger.js';
import { FederationDiscovery, type RccSource } from '../../../../src/state/federation/federation-discovery.js';
import type { FileAccess } from '../../../../src/state/federation/remote-access.js';
import { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { kubeConfigFor } from '../../../helpers/kubeconfig.js';
import { CRD_IPPOOLS, NODES, RemoteApiServer } from './remote-apiserver.js';
import { eventually } from '../../../helpers/eventually.js';
import { logSink } from '../../../helpers/logs.js';

const TOKEN = 'SENTINEL-TOKEN-098f6bcd4621d373';
const NS = 'calico-system';
const SECRET_PATH = `/api/v1/namespaces/${NS}/secrets/x`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The local cluster's API as discovery uses it: GET of a Secret by name. */
class LocalApiServer {
  /** Secrets by path, their `data` as plain text (base64-encoded when served). */
  readonly secrets = new Map<string, Record<string, string>>();
  /** HTTP status forced for a path (403: RBAC denies it). */
  readonly status = new Map<string, number>();
  readonly requests: string[] = [];
  private readonly server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push(`${req.method} ${path}`);
    const data = this.secrets.get(path);
    const code = this.status.get(path) ?? (data ? 200 : 404);
    res.writeHead(code, { 'content-type': 'application/json' });
    if (code !== 200) return void res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code }));
    const name = path.split('/').pop();
    const encoded = Object.fromEntries(Object.entries(data!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, data: encoded }));
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * The kubeconfig a clusterAccessSecret holds for a remote API server on `port`
 * (client-node refuses a plain-HTTP server unless TLS verification is off).
 */
const remoteKubeconfig = (port: number, token = TOKEN) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'remote', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'remote', user: 'u' } }],
    'current-context': 'c',
  });

type Spec = NonNullable<RemoteClusterConfiguration['spec']>;
const rcc = (name: string, spec: Spec): RemoteClusterConfiguration => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'RemoteClusterConfiguration',
  metadata: { name },
  spec,
});
const bySecret = (name: string, secret = 'x', namespace?: string) =>
  rcc(name, { datastoreType: 'kubernetes', clusterAccessSecret: { kind: 'Secret', name: secret, ...(namespace ? { namespace } : {}) } });

const NO_FILES: FileAccess = {
  exists: () => false,
  read: () => {
    throw new Error('no file may be read');
  },
};

interface Harness {
  local: LocalApiServer;
  state: MemoryClusterState;
  rccs: RemoteClusterConfiguration[];
  source: RccSource & { synced: boolean };
  discovery: FederationDiscovery;
  remote(setup: (s: RemoteApiServer) => void): Promise<RemoteApiServer>;
  ranges(cluster?: string): string[];
  logs(): Record<string, unknown>[];
  rawLogs(): string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(): Promise<Harness> {
  const local = new LocalApiServer();
  await local.start();
  cleanups.push(() => local.stop());
  const state = new MemoryClusterState();
  const rccs: RemoteClusterConfiguration[] = [];
  const source = { synced: true, listRemoteClusterConfigurations: () => rccs, rccsSynced: () => source.synced };
  const log = logSink();
  const discovery = new FederationDiscovery(kubeConfigFor(local.port), source, state.calico, createLogger('info', log.stream), {
    secretNamespace: NS,
    reconcileIntervalMs: 50,
    secretRefreshMs: 300,
    files: NO_FILES,
    remote: { staleAfterMs: 500, probeIntervalMs: 500, listTimeoutMs: 5_000 },
  });
  cleanups.push(() => discovery.stop());
  return {
    local,
    state,
    rccs,
    source,
    discovery,
    async remote(setup) {
      const s = new RemoteApiServer();
      setup(s);
      await s.start();
      cleanups.push(() => s.stop());
      return s;
    },
    ranges: (cluster = 'cluster1') =>
      state
        .remoteRangesOf(cluster)
        .map((r) => `${r.object.kind}/${r.object.name} ${r.cidr.canonical}`)
        .sort(),
    rawLogs: log.text,
    logs: log.lines,
  };
}

const pool = (name: string, cidr: string) => ({ metadata: { name }, spec: { cidr } });
const synced = (h: Harness, cluster = 'cluster1') => h.state.discoveredRemotes().has(cluster) && !h.state.unsyncedRemotes().has(cluster);

/** A harness whose RCC cluster1 reaches, through the Secret, a remote with one IPPool p (10.8.0.0/16); synced. */
async function syncedWithOneRemote(): Promise<{ h: Harness; remote: RemoteApiServer }> {
  const h = await harness();
  const remote = await h.remote((s) => s.put(CRD_IPPOOLS, pool('p', '10.8.0.0/16')));
  h.local.secrets.set(SECRET_PATH, { kubeconfig: remoteKubeconfig(remote.port) });
  h.rccs.push(bySecret('cluster1'));
  h.discovery.start();
  await eventually('synced', 10_000, () => synced(h));
  return { h, remote };
}

describe('FederationDiscovery', () => {
  it('an RCC whose Secret gives a kubeconfig gets a watcher: its remote ranges discovered, synced, logged without the token', async () => {
    const h = await harness();
    const remote = await h.remote((s) => s.put(CRD_IPPOOLS, pool('default-ipv4-ippool', '10.8.0.0/16')));
    h.local.secrets.set(SECRET_PATH, { datastoreType: 'kubernetes', kubeconfig: remoteKubeconfig(remote.port) });
    h.discovery.start();
    await sleep(150);
    assert.equal(h.discovery.statuses().size, 0, 'no RCC, nothing under discovery');
    assert.equal(h.local.requests.length, 0, 'no Secret read without an RCC naming it');

    h.rccs.push(bySecret('cluster1'));
    await eventually('synced', 10_000, () => synced(h));
    assert.deepEqual(h.ranges(), ['IPPool/default-ipv4-ippool 10.8.0.0/16']);
    assert.equal(typeof h.state.discoveredRemotes().get('cluster1'), 'number', 'the time it synced');
    assert.deepEqual([...h.discovery.statuses()], [['cluster1', { synced: true, objects: { IPPool: 1, Node: 0 } }]]);
    assert.ok(
      remote.requests.every((r) => r.authorization === `Bearer ${TOKEN}`),
      'the remote is called with the token of the Secret',
    );
    assert.ok(h.local.requests.includes(`GET ${SECRET_PATH}`));
    const started = h.logs().filter((l) => l['msg'] === 'remote cluster discovery started');
    assert.equal(started.length, 1);
    assert.equal(started[0]!['via'], `clusterAccessSecret ${NS}/x key kubeconfig`);
    assert.equal(started[0]!['rebuilt'], false);
    assert.deepEqual(
      h.logs().filter((l) => l['level'] !== 'info'),
      [],
      'no warning on a start that goes well',
    );
    assert.ok(!h.rawLogs().includes(TOKEN), 'no token in the log');
  });

  it('does nothing until the RCCs are listed', async () => {
    const h = await harness();
    h.source.synced = false;
    h.rccs.push(bySecret('cluster1'));
    h.discovery.start();
    await sleep(200);
    assert.equal(h.discovery.statuses().size, 0);
    assert.equal(h.local.requests.length, 0);
    assert.equal(h.state.discoveredRemotes().size, 0);
    h.source.synced = true;
    await eventually('under discovery once listed', 5_000, () => h.state.discoveredRemotes().has('cluster1'));
  });

  it('a Secret changed to another server rebuilds the client within secretRefreshMs: the new ranges replace the old', async () => {
    const h = await harness();
    const first = await h.remote((s) => {
      s.put(CRD_IPPOOLS, pool('first', '10.8.0.0/16'));
      s.put(NODES, { metadata: { name: 'n1' }, spec: { podCIDR: '10.8.1.0/24' } });
    });
    const second = await h.remote((s) => s.put(CRD_IPPOOLS, pool('second', '10.9.0.0/16')));
    h.local.secrets.set(SECRET_PATH, { kubeconfig: remoteKubeconfig(first.port) });
    h.rccs.push(bySecret('cluster1'));
    h.discovery.start();
    await eventually('the first server listed', 10_000, () => h.ranges().includes('IPPool/first 10.8.0.0/16'));

    h.local.secrets.set(SECRET_PATH, { kubeconfig: remoteKubeconfig(second.port, 'second-token') });
    const changed = Date.now();
    await eventually('the second server listed, the first one forgotten', 10_000, () => h.ranges().join() === 'IPPool/second 10.9.0.0/16');
    // secretRefreshMs 300 plus a list; the bound is loose for a loaded machine.
    assert.ok(Date.now() - changed < 5_000);
    await eventually('synced', 10_000, () => synced(h));
    assert.ok(second.requests.every((r) => r.authorization === 'Bearer second-token'));
    await eventually('the first server no longer watched', 5_000, () => [...first.watches.values()].every((w) => w.length === 0));
    const rebuilt = h.logs().filter((l) => l['msg'] === 'remote cluster discovery started' && l['rebuilt'] === true);
    assert.equal(rebuilt.length, 1);

    // The same Secret read again builds nothing.
    await sleep(700);
    assert.equal(h.logs().filter((l) => l['msg'] === 'remote cluster discovery started').length, 2);
  });

  it('a Secret deleted: unsynced "not found", the last ranges kept; back: synced again', async () => {
    const { h, remote } = await syncedWithOneRemote();

    h.local.secrets.delete(SECRET_PATH);
    await eventually('unsynced', 5_000, () => /not found/.test(h.state.unsyncedRemotes().get('cluster1') ?? ''));
    assert.equal(h.state.unsyncedRemotes().get('cluster1'), `clusterAccessSecret ${NS}/x not found`);
    assert.deepEqual(h.ranges(), ['IPPool/p 10.8.0.0/16'], 'the last known ranges are kept');
    assert.equal(typeof h.state.discoveredRemotes().get('cluster1'), 'number', 'the last sync time is kept');
    assert.deepEqual(h.discovery.statuses().get('cluster1'), {
      synced: false,
      reason: `clusterAccessSecret ${NS}/x not found`,
      objects: { IPPool: 0, Node: 0 },
    });
    await eventually('the remote no longer watched', 5_000, () => [...remote.watches.values()].every((w) => w.length === 0));
    await sleep(500);
    const warned = h.logs().filter((l) => l['msg'] === 'remote cluster discovery cannot connect');
    assert.deepEqual(
      warned.map((l) => l['reason']),
      [`clusterAccessSecret ${NS}/x not found`],
      'logged once, and not while the first read was under way',
    );

    h.local.secrets.set(SECRET_PATH, { kubeconfig: remoteKubeconfig(remote.port) });
    await eventually('synced again', 10_000, () => synced(h));
  });

  it('a Secret holding garbage, or forbidden to read: unsynced with the reason, which repeats nothing of it', async () => {
    const h = await harness();
    h.local.secrets.set(SECRET_PATH, { kubeconfig: `{{ ${TOKEN} [[` });
    h.rccs.push(bySecret('cluster1'));
    h.discovery.start();
    await eventually('not a valid kubeconfig', 5_000, () => /not a valid kubeconfig/.test(h.state.unsyncedRemotes().get('cluster1') ?? ''));
    assert.equal(h.state.unsyncedRemotes().get('cluster1'), `clusterAccessSecret ${NS}/x key kubeconfig is not a valid kubeconfig`);
    assert.equal(h.state.discoveredRemotes().get('cluster1'), undefined, 'under discovery, never synced');

    h.local.status.set(SECRET_PATH, 403);
    await eventually('forbidden', 5_000, () => /forbidden/.test(h.state.unsyncedRemotes().get('cluster1') ?? ''));
    assert.match(h.state.unsyncedRemotes().get('cluster1')!, /grant get on Secrets in calico-system/);
    assert.ok(!h.rawLogs().includes(TOKEN), 'no token (nor the garbage around it) in the log');
  });

  it('a clusterAccessSecret outside the allowed namespace is never read', async () => {
    const h = await harness();
    h.rccs.push(bySecret('cluster1', 'x', 'kube-system'));
    h.discovery.start();
    await eventually('unsynced', 5_000, () => /outside calico-system/.test(h.state.unsyncedRemotes().get('cluster1') ?? ''));
    await sleep(200);
    assert.deepEqual(h.local.requests, []);
  });

  it('an RCC deleted takes its discovered ranges and its status with it, and its watcher stops', async () => {
    const { h, remote } = await syncedWithOneRemote();
    assert.equal(h.state.overlappingCidrs('10.8.0.0/24').length, 1);

    h.rccs.splice(0);
    await eventually('gone', 5_000, () => !h.state.discoveredRemotes().has('cluster1'));
    assert.deepEqual(h.ranges(), []);
    assert.deepEqual(h.state.overlappingCidrs('10.8.0.0/24'), []);
    assert.equal(h.state.unsyncedRemotes().size, 0);
    assert.equal(h.discovery.statuses().size, 0);
    await eventually('the remote no longer watched', 5_000, () => [...remote.watches.values()].every((w) => w.length === 0));
    assert.ok(h.logs().some((l) => l['msg'] === 'remote cluster discovery stopped: its RemoteClusterConfiguration is gone'));
  });

  it('an etcdv3 RCC, or one with no access fields, is not under discovery: no status, logged once', async () => {
    const h = await harness();
    h.rccs.push(
      rcc('etcd', { datastoreType: 'etcdv3', etcdEndpoints: 'https://etcd:2379' }),
      rcc('nothing', { datastoreType: 'kubernetes' }),
    );
    h.discovery.start();
    await sleep(400); // several reconciles
    assert.equal(h.state.unsyncedRemotes().size, 0, 'no rule waits for them');
    assert.equal(h.state.discoveredRemotes().size, 0);
    assert.equal(h.discovery.statuses().size, 0);
    const skipped = h.logs().filter((l) => l['msg'] === 'remote cluster not discovered');
    assert.deepEqual(skipped.map((l) => l['remoteCluster']).sort(), ['etcd', 'nothing']);
    assert.match(String(skipped.find((l) => l['remoteCluster'] === 'etcd')!['reason']), /etcdv3/);
  });

  it('an RCC turned etcdv3 leaves discovery: its discovered ranges and status go', async () => {
    const { h } = await syncedWithOneRemote();
    h.local.secrets.set(SECRET_PATH, { datastoreType: 'etcdv3', etcdEndpoints: 'https://etcd:2379' });
    await eventually('out of discovery', 5_000, () => !h.state.discoveredRemotes().has('cluster1'));
    assert.deepEqual(h.ranges(), []);
    assert.equal(h.discovery.statuses().size, 0);
  });

  it('statuses() lists every remote under discovery by name, synced or not, for the metrics', async () => {
    const h = await harness();
    const remote = await h.remote((s) => {
      s.put(CRD_IPPOOLS, pool('p', '10.8.0.0/16'));
      s.put(NODES, { metadata: { name: 'n1' }, spec: { podCIDR: '10.8.1.0/24' } });
      s.put(NODES, { metadata: { name: 'n2' }, spec: { podCIDR: '10.8.2.0/24' } });
    });
    h.local.secrets.set(SECRET_PATH, { kubeconfig: remoteKubeconfig(remote.port) });
    h.rccs.push(rcc('zeta', { kubeconfig: '/etc/remote/zeta' }), bySecret('alpha'), rcc('etcd', { datastoreType: 'etcdv3' }));
    h.discovery.start();
    await eventually('alpha synced', 10_000, () => synced(h, 'alpha'));
    const statuses = h.discovery.statuses();
    assert.deepEqual([...statuses.keys()], ['alpha', 'zeta']);
    assert.deepEqual(statuses.get('alpha'), { synced: true, objects: { IPPool: 1, Node: 2 } });
    assert.equal(statuses.get('zeta')!.synced, false);
    assert.match(statuses.get('zeta')!.reason!, /the file spec\.kubeconfig names does not exist/);
  });
});
