/**
 * The per remote cluster gauges of federation discovery, read from the
 * `remoteClusters` source at scrape time: one series per remote cluster (and
 * kind), labelled by its RemoteClusterConfiguration's name only, and gone
 * from the scrape once the remote is no longer under discovery.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../src/server/metrics.js';
import type { RemoteStatus } from '../../../src/state/federation/remote-cluster-watcher.js';
import { parseMetrics, sample } from '../operations/support.js';

const P = 'remote_cluster_guard_';
const SYNCED = `${P}remote_cluster_synced`;
const OBJECTS = `${P}remote_cluster_objects`;
const LAST_ERROR = `${P}remote_cluster_last_error_timestamp_seconds`;
const REASON = 'listing its IPPools: connect ECONNREFUSED 10.0.0.9:6443';

/** The samples of the remote cluster gauges, as `name{labels} value` lines sorted. */
function remoteSeries(text: string): string[] {
  return parseMetrics(text)
    .filter((s) => [SYNCED, OBJECTS, LAST_ERROR].includes(s.name))
    .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
    .sort();
}

describe('remote cluster metrics', () => {
  it('show, per remote cluster, whether it is synced, its objects by kind and when it last failed', async () => {
    const remotes = new Map<string, RemoteStatus>([
      ['cluster-a', { synced: true, objects: { IPPool: 2, Node: 3 } }],
      ['cluster-b', { synced: false, reason: REASON, objects: { IPPool: 1, Node: 0 }, lastErrorTime: 1_780_000_000_500 }],
    ]);
    const metrics = new Metrics({ remoteClusters: () => remotes });
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, SYNCED, { remote_cluster: 'cluster-a' }), 1);
    assert.equal(sample(text, SYNCED, { remote_cluster: 'cluster-b' }), 0);
    assert.equal(sample(text, OBJECTS, { remote_cluster: 'cluster-a', kind: 'IPPool' }), 2);
    assert.equal(sample(text, OBJECTS, { remote_cluster: 'cluster-a', kind: 'Node' }), 3);
    assert.equal(sample(text, OBJECTS, { remote_cluster: 'cluster-b', kind: 'IPPool' }), 1);
    assert.equal(sample(text, OBJECTS, { remote_cluster: 'cluster-b', kind: 'Node' }), 0);
    assert.equal(sample(text, LAST_ERROR, { remote_cluster: 'cluster-b' }), 1_780_000_000.5, 'Unix seconds');
    assert.equal(sample(text, LAST_ERROR, { remote_cluster: 'cluster-a' }), undefined, 'absent when it never failed');
    assert.equal(remoteSeries(text).length, 7, remoteSeries(text).join('\n'));
    // Labelled by the RCC name only: why a remote is down (addresses, maybe more) stays in the logs.
    assert.ok(!text.includes('ECONNREFUSED') && !text.includes('10.0.0.9'), 'the reason is not exported');
  });

  it('follow the source: a remote that disappears from it disappears from the scrape, one that comes back returns', async () => {
    const remotes = new Map<string, RemoteStatus>([
      ['cluster-a', { synced: true, objects: { IPPool: 2, Node: 3 } }],
      ['cluster-b', { synced: false, reason: REASON, objects: { IPPool: 1, Node: 0 }, lastErrorTime: 1_780_000_000_000 }],
    ]);
    const metrics = new Metrics({ remoteClusters: () => remotes });
    assert.equal(remoteSeries(await metrics.registry.metrics()).length, 7);

    remotes.delete('cluster-b');
    const after = await metrics.registry.metrics();
    assert.deepEqual(
      remoteSeries(after).filter((l) => l.includes('cluster-b')),
      [],
      'no series of cluster-b is left behind',
    );
    assert.equal(sample(after, SYNCED, { remote_cluster: 'cluster-a' }), 1);
    assert.equal(remoteSeries(after).length, 3);

    remotes.set('cluster-a', { synced: false, reason: REASON, objects: { IPPool: 0, Node: 3 }, lastErrorTime: 1_780_000_100_000 });
    const changed = await metrics.registry.metrics();
    assert.equal(sample(changed, SYNCED, { remote_cluster: 'cluster-a' }), 0);
    assert.equal(sample(changed, OBJECTS, { remote_cluster: 'cluster-a', kind: 'IPPool' }), 0);
    assert.equal(sample(changed, LAST_ERROR, { remote_cluster: 'cluster-a' }), 1_780_000_100);

    remotes.clear();
    assert.deepEqual(remoteSeries(await metrics.registry.metrics()), []);
  });

  it('have no series without federation discovery', async () => {
    assert.deepEqual(remoteSeries(await new Metrics().registry.metrics()), []);
  });
});
