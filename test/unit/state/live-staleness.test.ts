/**
 * The live state cannot go stale silently (issue 12): bounded watches with
 * the reflector's timeout and bookmarks, a silent watch restarted with a
 * list, a hung API server turning the resources it feeds unsynced past
 * `maxStalenessSeconds` (and back once it answers), the staleness metric, and
 * a CRD installed after start listed at once. Against a plain-HTTP stand-in
 * for the API server (fake-apiserver.ts), with short timings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../../src/log/logger.js';
import { poolOverlapRule } from '../../../src/rules/calico/pool-overlap.js';
import { Metrics } from '../../../src/server/metrics.js';
import { BoundedWatch, DEFAULT_WATCH_TIMING, watchTimeoutSeconds } from '../../../src/state/live/bounded-watch.js';
import { ClusterWatcher, type WatcherOptions } from '../../../src/state/live/cluster-watcher.js';
import { evaluate } from '../../helpers/engine.js';
import { FakeApiServer } from './fake-apiserver.js';
import { eventually } from '../../helpers/eventually.js';

const IPPOOLS = '/apis/crd.projectcalico.org/v1/ippools';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A watcher on a fresh fake server, synced; stopped with the server after the test. */
async function watching(options: WatcherOptions, prepare: (fake: FakeApiServer) => void = () => {}) {
  const fake = new FakeApiServer();
  const kc: KubeConfig = await fake.start();
  prepare(fake);
  const watcher = new ClusterWatcher(kc, 'elastic-system', createLogger('silent'), options);
  void watcher.start();
  await eventually('the initial sync', 5000, () => watcher.unsynced().length === 0);
  return {
    fake,
    watcher,
    stop: async () => {
      fake.resume();
      await watcher.stop();
      await fake.stop();
    },
  };
}

describe('watch requests', () => {
  it('the server-side timeout is uniform in [min, 2*min], as client-go reflector.go draws it', () => {
    assert.equal(
      watchTimeoutSeconds(300, () => 0),
      300,
    );
    assert.equal(
      watchTimeoutSeconds(300, () => 0.5),
      450,
    );
    assert.equal(
      watchTimeoutSeconds(300, () => 0.9999),
      599,
    );
  });

  it('every watch sends timeoutSeconds in [300, 600] and allowWatchBookmarks=true by default', async () => {
    const t = await watching({});
    try {
      await eventually('a watch of every source', 5000, () => t.fake.seen(IPPOOLS, true).length > 0);
      const watches = t.fake.requests.filter((r) => r.watch);
      assert.ok(watches.length >= 5, `watches: ${watches.map((w) => w.path).join(', ')}`);
      for (const w of watches) {
        const timeout = Number(w.query.get('timeoutSeconds'));
        assert.ok(timeout >= 300 && timeout <= 600, `${w.path}: timeoutSeconds=${w.query.get('timeoutSeconds')}`);
        assert.equal(w.query.get('allowWatchBookmarks'), 'true', w.path);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('reduced watch objects', () => {
  it('the callback gets the reduced object of each event but ERROR, whose Status (410 Gone) ListWatch reads', async () => {
    const fake = new FakeApiServer();
    const kc = await fake.start();
    const got: [string, unknown][] = [];
    const watch = new BoundedWatch(kc, DEFAULT_WATCH_TIMING, {
      reduce: (o) => ({ name: (o as { metadata: { name: string } }).metadata.name }),
    });
    const controller = await watch.watch(
      '/apis/x/v1/things',
      {},
      (type, obj) => got.push([type, obj]),
      () => {},
    );
    try {
      await eventually('the watch', 3000, () => (fake.watches.get('/apis/x/v1/things')?.length ?? 0) > 0);
      fake.send('/apis/x/v1/things', 'ADDED', { metadata: { name: 'a' }, spec: { big: 'schema' } });
      fake.send('/apis/x/v1/things', 'ERROR', { kind: 'Status', code: 410 });
      await eventually('two events', 3000, () => got.length === 2);
      assert.deepEqual(got, [
        ['ADDED', { name: 'a' }],
        ['ERROR', { kind: 'Status', code: 410 }],
      ]);
    } finally {
      controller.abort();
      await fake.stop();
    }
  });
});

describe('a silent watch', () => {
  it('is aborted once past its timeout plus the margin, and listed and watched again', async () => {
    // timeoutSeconds is 1 or 2 here; the server never closes the watch nor sends anything.
    const t = await watching({ watch: { minWatchTimeoutSeconds: 1, marginMs: 300, connectTimeoutMs: 2000 }, probeIntervalMs: 60_000 });
    try {
      assert.equal(t.fake.seen(IPPOOLS, false).length, 1, 'one list at start');
      await eventually('a second list of IPPools', 6000, () => t.fake.seen(IPPOOLS, false).length >= 2);
      await eventually('a second IPPool watch', 3000, () => t.fake.seen(IPPOOLS, true).length >= 2);
    } finally {
      await t.stop();
    }
  });
});

describe('a hung API server', () => {
  it('makes the watched resources unsynced once stale past maxStalenessSeconds, with the staleness measured; synced again when it answers', async () => {
    const t = await watching({ maxStalenessSeconds: 1, probeIntervalMs: 200, listTimeoutMs: 1000 });
    try {
      assert.equal(t.watcher.state.isSynced('IPPool'), true);
      // A source counts as stale from its start until its watch is open, which may come just after its list.
      await eventually('every IPPool watch open', 3000, () => t.watcher.staleness('IPPool') === 0);
      // Established watches stay open and silent: only the probe can tell.
      t.fake.hang = true;
      const hungAt = Date.now();
      await eventually('IPPool unsynced', 5000, () => !t.watcher.state.isSynced('IPPool'));
      const detectedMs = Date.now() - hungAt;
      assert.ok(detectedMs >= 800, `unsynced after ${detectedMs} ms, before the 1 s limit`);
      assert.ok(t.watcher.staleness('IPPool') > 1, `staleness ${t.watcher.staleness('IPPool')}`);
      assert.equal(t.watcher.state.isSynced('Elasticsearch'), false);
      // Readiness is not withdrawn (see ClusterWatcher.ready); the rules that need IPPools answer the policy's unsynced.
      assert.equal(t.watcher.ready().ready, true);
      const pool = { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.9.0.0/16' } };
      const decision = evaluate(pool, { rules: [poolOverlapRule], state: t.watcher.state, phase: 'validate' });
      assert.equal(decision.allowed, false);
      assert.match(decision.findings[0]?.message ?? '', /cannot verify yet: the webhook is still reading IPPools/);
      t.fake.resume();
      await eventually('IPPool synced again', 15_000, () => t.watcher.state.isSynced('IPPool'));
      // Synced again once listed; no longer stale once its new watch is open too.
      await eventually('IPPool staleness back to 0', 5000, () => t.watcher.staleness('IPPool') === 0);
      // The CRD watch was pinned too: restarted with the others.
      await eventually('a second CRD watch', 5000, () => t.fake.seen('/customresourcedefinitions', true).length >= 2);
    } finally {
      await t.stop();
    }
  });
});

describe('a CRD installed after start', () => {
  it('is listed and watched as soon as the CRD watch reports it, not at the next minute', async () => {
    const t = await watching({}, (fake) => fake.unserved.add(IPPOOLS));
    try {
      assert.equal(t.fake.seen(IPPOOLS, true).length, 0, 'no watch while not served');
      await eventually('the CRD watch', 5000, () => t.fake.seen('/customresourcedefinitions', true).length > 0);
      t.fake.unserved.delete(IPPOOLS);
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'ippools.crd.projectcalico.org', resourceVersion: '2' },
      };
      t.fake.send('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', 'ADDED', crd);
      await eventually('an IPPool watch', 3000, () => t.fake.seen(IPPOOLS, true).length > 0);
    } finally {
      await t.stop();
    }
  });
});

describe('the staleness metric', () => {
  it('remote_cluster_guard_state_staleness_seconds gives each resource the state reports, 0 when none is given', async () => {
    const counts = { Elasticsearch: 0, IPPool: 0, RemoteClusterConfiguration: 0, ConfigMap: 0, Secret: 0 };
    const live = new Metrics({ state: () => ({ counts, synced: () => true, staleness: (r) => (r === 'IPPool' ? 42.5 : 0) }) });
    const text = await live.registry.metrics();
    assert.match(text, /^remote_cluster_guard_state_staleness_seconds\{resource="IPPool"\} 42\.5$/m);
    assert.match(text, /^remote_cluster_guard_state_staleness_seconds\{resource="Elasticsearch"\} 0$/m);
    const manifests = new Metrics({ state: () => ({ counts, synced: () => true }) });
    assert.match(await manifests.registry.metrics(), /^remote_cluster_guard_state_staleness_seconds\{resource="IPPool"\} 0$/m);
  });

  it('a hung server shows in the metric of a running watcher', async () => {
    const t = await watching({ maxStalenessSeconds: 1, probeIntervalMs: 200, listTimeoutMs: 1000 });
    try {
      const metrics = new Metrics({
        state: () => ({
          counts: t.watcher.state.counts(),
          synced: (r) => t.watcher.state.isSynced(r),
          staleness: (r) => t.watcher.staleness(r),
        }),
      });
      t.fake.hang = true;
      await eventually('IPPool unsynced', 5000, () => !t.watcher.state.isSynced('IPPool'));
      const text = await metrics.registry.metrics();
      const line = /^remote_cluster_guard_state_staleness_seconds\{resource="IPPool"\} (\S+)$/m.exec(text);
      assert.ok(line && Number(line[1]) > 1, `staleness line: ${line?.[0]}`);
      assert.match(text, /^remote_cluster_guard_state_synced\{resource="IPPool"\} 0$/m);
    } finally {
      await t.stop();
    }
  });
});

describe('a closed watch', () => {
  it('close() ends the open watches without calling done, and a watch asked for while closing never connects', async () => {
    const fake = new FakeApiServer();
    const kc = await fake.start();
    const path = '/apis/x/v1/things';
    const watch = new BoundedWatch(kc);
    let doneCalls = 0;
    try {
      await watch.watch(
        path,
        {},
        () => {},
        () => doneCalls++,
      );
      await eventually('the first watch', 3000, () => (fake.watches.get(path)?.length ?? 0) === 1);
      // What a relist does just before ListWatch.stop(): ask for a watch, whose controller comes back after the stop.
      const late = watch.watch(
        path,
        {},
        () => {},
        () => doneCalls++,
      );
      watch.close();
      assert.equal((await late).signal.aborted, true, 'the late watch comes back aborted');
      await eventually('no open watch on the server', 3000, () => (fake.watches.get(path)?.length ?? 0) === 0);
      await sleep(200);
      assert.equal(fake.seen(path, true).length, 1, 'the late watch never reached the server');
      assert.equal(doneCalls, 0, 'done is not called for a closed watch (ListWatch would relist)');
    } finally {
      await fake.stop();
    }
  });
});
