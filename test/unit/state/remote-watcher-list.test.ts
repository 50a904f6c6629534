/**
 * A remote cluster's list as RemoteClusterWatcher applies it (federation
 * discovery): every page's objects reach the state, and a complete list
 * removes the objects it no longer returns, whether this watcher knew them
 * (a relist after 410 Gone) or an earlier watcher of the remote left them
 * (a watcher rebuilt with new credentials). Against a plain-HTTP stand-in
 * serving IPPools page by page (2 per page) and no Nodes.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../../src/log/logger.js';
import { RemoteClusterWatcher } from '../../../src/state/federation/remote-cluster-watcher.js';
import { CalicoStore } from '../../../src/state/memory/calico-store.js';
import { kubeConfigFor } from '../../helpers/kubeconfig.js';

const IPPOOLS = '/apis/crd.projectcalico.org/v1/ippools';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

/** Polls `check` every 25 ms; fails with `what` after `ms`. */
async function eventually(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(25);
  }
}

/** Serves `pools` (name → spec) in pages of `limit`, and no Nodes; with `watchGone`, the next IPPool watch ends at once with 410 Gone. */
class PagedPools {
  pools = new Map<string, { cidr: string; disabled?: boolean }>();
  watchGone = false;
  lists = 0;
  private readonly open = new Set<http.ServerResponse>();
  private readonly server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/version') return void res.end('{}');
    if (url.pathname !== IPPOOLS && url.pathname !== '/api/v1/nodes') {
      res.writeHead(404);
      return void res.end('{}');
    }
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (this.watchGone && url.pathname === IPPOOLS) {
        this.watchGone = false;
        return void res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410 } }) + '\n');
      }
      res.flushHeaders();
      this.open.add(res);
      return;
    }
    const all = url.pathname === IPPOOLS ? [...this.pools] : [];
    if (url.pathname === IPPOOLS && !url.searchParams.get('continue')) this.lists++;
    const from = Number(url.searchParams.get('continue') ?? 0);
    const to = Math.min(all.length, from + Number(url.searchParams.get('limit')));
    const items = all
      .slice(from, to)
      .map(([name, spec]) => ({ metadata: { name, uid: `uid-${name}`, labels: { zone: 'a' } }, spec: { ...spec, blockSize: 26 } }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        apiVersion: 'crd.projectcalico.org/v1',
        metadata: { resourceVersion: '5', ...(to < all.length ? { continue: String(to) } : {}) },
        items,
      }),
    );
  });

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  /** Ends the open watches (the server's timeout): the watcher watches again, or lists first after a 410. */
  endWatches(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const poolNames = (store: CalicoStore) =>
  store
    .remoteObjectsOf('remote-a')
    .map((o) => o.name)
    .sort();

describe('RemoteClusterWatcher lists', () => {
  const server = new PagedPools();
  const watchers: RemoteClusterWatcher[] = [];
  after(async () => {
    for (const w of watchers) w.stop();
    await server.stop();
  });
  const watcher = (store: CalicoStore, port: number) => {
    const w = new RemoteClusterWatcher('remote-a', kubeConfigFor(port), store, log, { pageSize: 2 });
    watchers.push(w);
    w.start();
    return w;
  };

  it('applies every page, then removes what a relist (after 410 Gone) or a rebuilt watcher no longer finds', async () => {
    const port = await server.start();
    const store = new CalicoStore();
    for (let i = 1; i <= 5; i++) server.pools.set(`p${i}`, { cidr: `10.0.${i}.0/24` });
    server.pools.set('off', { cidr: '10.0.9.0/24', disabled: true });
    const first = watcher(store, port);
    await eventually('synced with 5 pools', 5000, () => first.status().synced);
    assert.deepEqual(poolNames(store), ['p1', 'p2', 'p3', 'p4', 'p5']);
    assert.equal(store.overlappingCidrs('10.0.5.0/24')[0]?.remote?.object.name, 'p5');
    // A disabled remote pool hands out no address: no range.
    assert.deepEqual(store.overlappingCidrs('10.0.9.0/24'), []);

    // Relist: p2 gone, p6 new; the watch ends with 410 Gone, so the watcher lists again.
    server.pools.delete('p2');
    server.pools.set('p6', { cidr: '10.0.6.0/24' });
    server.watchGone = true;
    const lists = server.lists;
    server.endWatches();
    await eventually('relisted', 5000, () => server.lists > lists && poolNames(store).includes('p6'));
    await eventually('p2 removed', 5000, () => !poolNames(store).includes('p2'));
    assert.deepEqual(poolNames(store), ['p1', 'p3', 'p4', 'p5', 'p6']);
    assert.deepEqual(store.overlappingCidrs('10.0.2.0/24'), []);

    // A rebuilt watcher (new credentials) on the same state: what the first one held and is gone is removed.
    first.stop();
    server.pools.delete('p1');
    const second = watcher(store, port);
    await eventually('rebuilt watcher synced', 5000, () => second.status().synced && !poolNames(store).includes('p1'));
    assert.deepEqual(poolNames(store), ['p3', 'p4', 'p5', 'p6']);
    assert.deepEqual(second.status().objects, { IPPool: 5, Node: 0 });
  });
});
