/**
 * The watch of one remote cluster (src/state/federation/remote-cluster-watcher.ts)
 * against a stand-in remote API server (remote-apiserver.ts): paged lists,
 * watch events, the projectcalico.org/v3 fallback, an RBAC denial, a server
 * that goes away and comes back, a compacted resource version, and stop().
 * Ranges land in a MemoryClusterState's Calico store, as in `serve`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { createLogger } from '../../../../src/log/logger.js';
import { RemoteClusterWatcher, type RemoteWatcherOptions } from '../../../../src/state/federation/remote-cluster-watcher.js';
import { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { CRD_IPPOOLS, NODES, RemoteApiServer, V3_IPPOOLS } from './remote-apiserver.js';
import { eventually } from '../../../helpers/eventually.js';
import { logSink } from '../../../helpers/logs.js';

const TOKEN = 'SENTINEL-TOKEN-5f4dcc3b5aa765d6';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { cidr, ...extra } });
const node = (name: string, podCIDR: string, internalIP: string) => ({
  metadata: { name },
  spec: { podCIDR, podCIDRs: [podCIDR] },
  status: { addresses: [{ type: 'InternalIP', address: internalIP }] },
});

/** Small timings so failures and recoveries show within a test; the list timeout stays generous (a loaded machine). */
const FAST: RemoteWatcherOptions = {
  staleAfterMs: 200,
  probeIntervalMs: 200,
  listTimeoutMs: 5_000,
  watch: { minWatchTimeoutSeconds: 300, marginMs: 5_000, connectTimeoutMs: 5_000 },
};

interface Harness {
  server: RemoteApiServer;
  state: MemoryClusterState;
  watcher: RemoteClusterWatcher;
  logs: () => Record<string, unknown>[];
  rawLogs: () => string;
  ranges: () => string[];
}

const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) {
    h.watcher.stop();
    await h.server.stop();
  }
});

/** A stand-in remote API server with `setup` applied, and a watcher of it (not started). */
async function harness(setup: (s: RemoteApiServer) => void, options: RemoteWatcherOptions = FAST): Promise<Harness> {
  const server = new RemoteApiServer();
  setup(server);
  await server.start();
  const state = new MemoryClusterState();
  const log = logSink();
  const watcher = new RemoteClusterWatcher('cluster1', server.kubeConfig(TOKEN), state.calico, createLogger('info', log.stream), options);
  const h: Harness = {
    server,
    state,
    watcher,
    rawLogs: log.text,
    logs: log.lines,
    ranges: () =>
      state.remoteRangesOf('cluster1').map((r) => `${r.object.kind}/${r.object.name} ${r.cidr.canonical}${r.nodeAddress ? ' node' : ''}`),
  };
  running.push(h);
  return h;
}

const synced = (h: Harness) => h.watcher.status().synced;

describe('RemoteClusterWatcher', () => {
  it('lists IPPools and Nodes read-only with its token, then is synced with their ranges in the state', async () => {
    const h = await harness((s) => {
      s.put(CRD_IPPOOLS, pool('default-ipv4-ippool', '10.8.0.0/16'));
      s.put(CRD_IPPOOLS, pool('federation', '192.168.0.0/16', { disabled: true }));
      s.put(NODES, node('node-a', '10.8.1.0/24', '172.18.0.3'));
    });
    assert.deepEqual(h.watcher.status(), { synced: false, reason: 'listing its IPPools and Nodes', objects: { IPPool: 0, Node: 0 } });
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    assert.deepEqual(h.ranges().sort(), [
      'IPPool/default-ipv4-ippool 10.8.0.0/16',
      'Node/node-a 10.8.1.0/24',
      'Node/node-a 172.18.0.3/32 node',
    ]);
    assert.deepEqual(h.watcher.status().objects, { IPPool: 2, Node: 1 }, 'the disabled pool is known, with no range');
    assert.ok(h.server.requests.length > 0);
    for (const r of h.server.requests) {
      assert.equal(r.method, 'GET', `${r.method} ${r.path}: read-only`);
      assert.equal(r.authorization, `Bearer ${TOKEN}`);
    }
    await eventually('both watched', 5_000, () => h.server.seen(CRD_IPPOOLS, true).length >= 1 && h.server.seen(NODES, true).length >= 1);
    assert.equal(h.server.seen(CRD_IPPOOLS, true)[0]!.query.get('resourceVersion'), h.server.resourceVersion, 'watched from the list');
  });

  it('a paged list (pageSize 2) gets every object, following continue', async () => {
    const h = await harness(
      (s) => {
        for (let i = 0; i < 5; i++) s.put(CRD_IPPOOLS, pool(`p${i}`, `10.${i}.0.0/16`));
        for (let i = 0; i < 3; i++) s.put(NODES, node(`n${i}`, `10.100.${i}.0/24`, `172.18.0.${i + 1}`));
      },
      { ...FAST, pageSize: 2 },
    );
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    assert.equal(h.ranges().filter((r) => r.startsWith('IPPool/')).length, 5);
    assert.equal(h.ranges().filter((r) => r.startsWith('Node/')).length, 6);
    const pages = h.server.seen(CRD_IPPOOLS, false).map((r) => `${r.query.get('limit')} ${r.query.get('continue') ?? ''}`);
    assert.deepEqual(pages, ['2 ', '2 2', '2 4']);
  });

  it('a remote with more IPPools than maxObjects is unsynced with the count after one page, indexes none of them, and recovers when it shrinks', async () => {
    const h = await harness(
      (s) => {
        for (let i = 0; i < 5; i++) s.put(CRD_IPPOOLS, pool(`p${i}`, `10.${i}.0.0/16`));
        s.put(NODES, node('n0', '10.100.0.0/24', '172.18.0.1'));
      },
      { ...FAST, pageSize: 2, maxObjects: 3 },
    );
    h.watcher.start();
    await eventually('unsynced with the count', 5_000, () => /it has 5 IPPools, more than the 3/.test(h.watcher.status().reason ?? ''));
    assert.equal(h.ranges().filter((r) => r.startsWith('IPPool/')).length, 0, 'no pool of that remote indexed');
    assert.ok(h.ranges().includes('Node/n0 172.18.0.1/32 node'), 'its Nodes are, being under the cap');
    assert.ok(
      h.server.seen(CRD_IPPOOLS, false).every((r) => !r.query.get('continue')),
      'each try stops at the first page',
    );
    assert.equal(h.logs().filter((l) => /more than the 3/.test(String(l['cause']))).length, 1, 'logged once');
    h.server.remove(CRD_IPPOOLS, 'p3');
    h.server.remove(CRD_IPPOOLS, 'p4');
    await eventually('synced once under the cap', 15_000, () => synced(h));
    assert.equal(h.ranges().filter((r) => r.startsWith('IPPool/')).length, 3);
  });

  it('watch events taking a remote past maxObjects drop its ranges of that kind and make it unsynced', async () => {
    const h = await harness(
      (s) => {
        for (let i = 0; i < 3; i++) s.put(CRD_IPPOOLS, pool(`p${i}`, `10.${i}.0.0/16`));
      },
      { ...FAST, maxObjects: 3 },
    );
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    await eventually('the IPPool watch open', 5_000, () => (h.server.watches.get(CRD_IPPOOLS) ?? []).length > 0);
    h.server.put(CRD_IPPOOLS, pool('p3', '10.3.0.0/16'));
    await eventually('unsynced with the cap', 5_000, () => /more than the 3/.test(h.watcher.status().reason ?? ''));
    await eventually('its pools dropped', 2_000, () => h.ranges().every((r) => !r.startsWith('IPPool/')));
  });

  it('applies watch events: ADDED within 1 s, MODIFIED replaces, DELETED removes', async () => {
    const h = await harness((s) => s.put(CRD_IPPOOLS, pool('a', '10.8.0.0/16')));
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    await eventually('the IPPool watch open', 5_000, () => (h.server.watches.get(CRD_IPPOOLS) ?? []).length > 0);
    h.server.put(CRD_IPPOOLS, pool('b', '10.9.0.0/16'));
    await eventually('the ADDED pool in the state', 1_000, () => h.state.overlappingCidrs('10.9.1.0/24').length === 1);
    h.server.put(CRD_IPPOOLS, pool('a', '10.10.0.0/16'));
    await eventually('the MODIFIED pool in the state', 1_000, () => h.state.overlappingCidrs('10.10.0.0/24').length === 1);
    assert.deepEqual(h.state.overlappingCidrs('10.8.0.0/24'), [], 'its old range left');
    h.server.put(NODES, node('n', '10.244.0.0/24', '172.18.0.9'));
    await eventually('the ADDED node in the state', 1_000, () => h.ranges().includes('Node/n 172.18.0.9/32 node'));
    h.server.remove(CRD_IPPOOLS, 'b');
    h.server.remove(NODES, 'n');
    await eventually('the DELETED objects gone', 1_000, () => h.ranges().join() === 'IPPool/a 10.10.0.0/16');
    assert.deepEqual(h.watcher.status().objects, { IPPool: 1, Node: 0 });
    assert.equal(h.server.seen(CRD_IPPOOLS, false).length, 1, 'no relist: the watch carried it all');
  });

  it('falls back to projectcalico.org/v3 when crd.projectcalico.org is not served (404)', async () => {
    const h = await harness((s) => {
      s.status.set(CRD_IPPOOLS, 404);
      s.put(V3_IPPOOLS, pool('v3-pool', 'fd00:8::/56'));
    });
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    assert.deepEqual(h.ranges(), ['IPPool/v3-pool fd00:8::/56']);
    await eventually('the v3 watch open', 5_000, () => (h.server.watches.get(V3_IPPOOLS) ?? []).length > 0);
    h.server.put(V3_IPPOOLS, pool('v3-two', '10.20.0.0/16'));
    await eventually('a v3 watch event applied', 1_000, () => h.ranges().includes('IPPool/v3-two 10.20.0.0/16'));
    assert.equal(h.server.seen(CRD_IPPOOLS, true).length, 0, 'the unserved group is not watched');
  });

  it('a remote serving no IPPool resource at all is synced on its Nodes', async () => {
    const h = await harness((s) => {
      s.status.set(CRD_IPPOOLS, 404);
      s.status.set(V3_IPPOOLS, 404);
      s.put(NODES, node('n', '10.244.0.0/24', '172.18.0.9'));
    });
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    assert.deepEqual(h.ranges().sort(), ['Node/n 10.244.0.0/24', 'Node/n 172.18.0.9/32 node']);
  });

  it('403 makes it unsynced with a reason naming 403, logged once without the token, and it recovers when granted', async () => {
    const h = await harness((s) => {
      s.status.set(CRD_IPPOOLS, 403);
      s.put(CRD_IPPOOLS, pool('a', '10.8.0.0/16'));
      s.put(NODES, node('n', '10.244.0.0/24', '172.18.0.9'));
    });
    h.watcher.start();
    await eventually('three refused lists', 10_000, () => h.server.seen(CRD_IPPOOLS, false).length >= 3);
    const status = h.watcher.status();
    assert.equal(status.synced, false);
    assert.match(status.reason ?? '', /HTTP 403/);
    assert.match(status.reason ?? '', /grant get, list and watch on ippools/);
    assert.equal(typeof status.lastErrorTime, 'number');
    const failing = h.logs().filter((l) => l['msg'] === 'remote cluster discovery failing');
    assert.equal(failing.length, 1, JSON.stringify(failing));
    assert.equal(failing[0]!['level'], 'warn');
    assert.equal(failing[0]!['remoteCluster'], 'cluster1');
    assert.equal(failing[0]!['source'], 'IPPool');
    assert.match(String(failing[0]!['cause']), /403/);
    h.server.status.delete(CRD_IPPOOLS);
    await eventually('synced once granted', 15_000, () => synced(h));
    assert.ok(h.ranges().includes('IPPool/a 10.8.0.0/16'));
    assert.ok(h.logs().some((l) => l['msg'] === 'remote cluster discovery recovered' && l['source'] === 'IPPool'));
    assert.ok(!h.rawLogs().includes(TOKEN), 'no token in the log');
  });

  it('a server that goes away makes it unsynced within staleAfterMs, ranges kept; back on its port, synced again by itself', async () => {
    const h = await harness((s) => s.put(CRD_IPPOOLS, pool('a', '10.8.0.0/16')));
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    await h.server.stop();
    const stoppedAt = Date.now();
    // staleAfterMs 200 after the first failure; the bound is generous for a loaded machine.
    await eventually('unsynced', 3_000, () => !synced(h));
    assert.ok(Date.now() - stoppedAt >= 200, 'not before staleAfterMs');
    assert.match(h.watcher.status().reason ?? '', /cannot be reached \(ECONN(REFUSED|RESET)\)|does not answer|watch is not open/);
    assert.deepEqual(h.ranges(), ['IPPool/a 10.8.0.0/16'], 'the last known ranges are kept');
    await sleep(300);
    assert.equal(synced(h), false, 'stays unsynced while away');
    await h.server.start();
    h.server.put(CRD_IPPOOLS, pool('b', '10.9.0.0/16'));
    await eventually('synced again', 20_000, () => synced(h));
    await eventually('the change made while it was away', 5_000, () => h.ranges().includes('IPPool/b 10.9.0.0/16'));
    assert.ok(!h.rawLogs().includes(TOKEN), 'no token in the log');
  });

  it('a watch answered 410 Gone (compacted resource version) lists again and finds what changed', async () => {
    const h = await harness((s) => {
      s.put(CRD_IPPOOLS, pool('a', '10.8.0.0/16'));
      s.put(CRD_IPPOOLS, pool('b', '10.9.0.0/16'));
    });
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    await eventually('the IPPool watch open', 5_000, () => (h.server.watches.get(CRD_IPPOOLS) ?? []).length > 0);
    const lists = h.server.seen(CRD_IPPOOLS, false).length;
    // The watch ends; while it is closed, pools change and the history is compacted: no watch can tell of it.
    h.server.endWatches(CRD_IPPOOLS);
    h.server.remove(CRD_IPPOOLS, 'a');
    h.server.put(CRD_IPPOOLS, pool('c', '10.11.0.0/16'));
    h.server.compact();
    await eventually('relisted with the changes', 10_000, () => h.ranges().sort().join() === 'IPPool/b 10.9.0.0/16,IPPool/c 10.11.0.0/16');
    assert.equal(h.server.seen(CRD_IPPOOLS, false).length, lists + 1, 'one more list');
    await eventually('synced', 10_000, () => synced(h));
  });

  it('stop() ends the watches, the probe and the retries', async () => {
    const h = await harness((s) => s.put(CRD_IPPOOLS, pool('a', '10.8.0.0/16')));
    h.watcher.start();
    await eventually('synced', 10_000, () => synced(h));
    h.watcher.stop();
    await eventually('no watch open at the server', 5_000, () => [...h.server.watches.values()].every((w) => w.length === 0));
    const seen = h.server.requests.length;
    await sleep(700); // more than three probe periods
    assert.equal(h.server.requests.length, seen, 'no request after stop()');
    assert.deepEqual(h.ranges(), ['IPPool/a 10.8.0.0/16'], 'stop() leaves the ranges to the caller');
  });

  it('stop() leaves nothing open: a process running a watcher exits by itself, even with a list under way to a server that does not answer it', async () => {
    const h = await harness((s) => {
      s.put(CRD_IPPOOLS, pool('a', '10.8.0.0/16'));
      s.hung.add(NODES);
    });
    const script = fileURLToPath(new URL('./watcher-exit.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(h.server.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += String(c)));
    child.stderr.on('data', (c: Buffer) => (out += String(c)));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 25_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, `the process did not exit by itself within 25 s after stop():\n${out}`);
    assert.match(out, /stopped/);
    assert.ok(h.server.seen(NODES, false).length >= 1, 'its Node list was under way');
  });
});
