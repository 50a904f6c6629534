/**
 * Discovered remote ranges as CalicoStore keeps them
 * (src/state/memory/calico-store.ts, the RemoteClusterRangeSink of
 * src/state/remote-cluster-ranges.ts): per remote object, in the overlap
 * index, replaced and removed object by object or cluster-wide; and the
 * sync status of each remote under discovery.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REMOTE_CIDRS_ANNOTATION } from '../../../../src/kube/calico.js';
import { mustParse } from '../../../../src/net/cidr/cidr.js';
import type { CidrEntry } from '../../../../src/state/calico-state.js';
import { MemoryClusterState } from '../../../../src/state/memory-state.js';
import type { RemoteRange } from '../../../../src/state/remote-cluster-ranges.js';
import { stateOf } from '../../../helpers/engine.js';

const rcc = (name: string, remoteCidrs: string) => ({
  apiVersion: 'crd.projectcalico.org/v1',
  kind: 'RemoteClusterConfiguration',
  metadata: { name, annotations: { [REMOTE_CIDRS_ANNOTATION]: remoteCidrs } },
  spec: { datastoreType: 'kubernetes', kubeconfig: '/etc/k' },
});
const range = (cidr: string, nodeAddress = false) => ({ cidr: mustParse(cidr), ...(nodeAddress ? { nodeAddress } : {}) });
const brief = (ranges: readonly RemoteRange[]) =>
  ranges.map((r) => `${r.cluster} ${r.cidr.canonical} ${r.source} ${r.object.kind}/${r.object.name}${r.nodeAddress ? ' node' : ''}`);
const hits = (entries: CidrEntry[]) =>
  entries.map((e) =>
    `${e.ownerName} ${e.canonical} ${e.role} ${e.remote ? `${e.remote.source} ${e.remote.object.kind}/${e.remote.object.name}` : ''}`.trim(),
  );

describe('CalicoStore: discovered ranges per remote object', () => {
  it('are in the overlap index with their object, a node address marked as such', () => {
    const s = new MemoryClusterState();
    s.calico.setRemoteObjectRanges('cluster1', { kind: 'IPPool', name: 'default-ipv4-ippool' }, [range('10.8.0.0/16')]);
    s.calico.setRemoteObjectRanges('cluster1', { kind: 'Node', name: 'node-a' }, [range('10.244.1.0/24'), range('172.18.0.3/32', true)]);
    assert.deepEqual(hits(s.overlappingCidrs('10.8.3.0/24')), ['cluster1 10.8.0.0/16 remote-cidr discovered IPPool/default-ipv4-ippool']);
    const node = s.overlappingCidrs('172.18.0.0/16');
    assert.deepEqual(hits(node), ['cluster1 172.18.0.3/32 remote-cidr discovered Node/node-a']);
    assert.equal(node[0]!.remote?.nodeAddress, true);
    assert.equal(s.overlappingCidrs('10.244.0.0/16')[0]!.remote?.nodeAddress, undefined, 'a pod range is no node address');
    assert.deepEqual(brief(s.remoteRangesOf('cluster1')), [
      'cluster1 10.8.0.0/16 discovered IPPool/default-ipv4-ippool',
      'cluster1 10.244.1.0/24 discovered Node/node-a',
      'cluster1 172.18.0.3/32 discovered Node/node-a node',
    ]);
    assert.deepEqual(s.remoteRangesOf('cluster2'), []);
  });

  it("replacing an object's ranges takes the old ones out of the index; each block once per object; [] removes the object", () => {
    const s = new MemoryClusterState();
    const pool = { kind: 'IPPool', name: 'p' };
    s.calico.setRemoteObjectRanges('cluster1', pool, [range('10.8.0.0/16')]);
    s.calico.setRemoteObjectRanges('cluster1', pool, [range('10.9.0.0/16'), range('10.9.0.0/16')]);
    assert.deepEqual(s.overlappingCidrs('10.8.0.0/24'), [], 'the old range left the index');
    assert.deepEqual(hits(s.overlappingCidrs('10.9.0.0/24')), ['cluster1 10.9.0.0/16 remote-cidr discovered IPPool/p']);
    // Another object with the same block is a second entry; removing one leaves the other.
    s.calico.setRemoteObjectRanges('cluster1', { kind: 'Node', name: 'n' }, [range('10.9.0.0/16')]);
    assert.equal(s.overlappingCidrs('10.9.0.0/24').length, 2);
    s.calico.setRemoteObjectRanges('cluster1', pool, []);
    assert.deepEqual(hits(s.overlappingCidrs('10.9.0.0/24')), ['cluster1 10.9.0.0/16 remote-cidr discovered Node/n']);
    assert.deepEqual(s.calico.remoteObjectsOf('cluster1'), [{ kind: 'Node', name: 'n' }]);
    s.calico.setRemoteObjectRanges('cluster1', { kind: 'Node', name: 'n' }, []);
    assert.deepEqual(s.overlappingCidrs('10.0.0.0/8'), []);
    assert.deepEqual(s.allRemoteRanges(), []);
    assert.deepEqual(s.calico.remoteObjectsOf('cluster1'), []);
  });

  it('leave the declared ranges alone, and allRemoteRanges follows each change', () => {
    const s = stateOf(rcc('cluster1', '192.168.0.0/18'));
    assert.equal(s.allRemoteRanges().length, 1);
    s.calico.setRemoteObjectRanges('cluster1', { kind: 'IPPool', name: 'p' }, [range('10.8.0.0/16')]);
    assert.deepEqual(brief(s.allRemoteRanges()), [
      'cluster1 192.168.0.0/18 declared RemoteClusterConfiguration/cluster1',
      'cluster1 10.8.0.0/16 discovered IPPool/p',
    ]);
    assert.deepEqual(s.calico.remoteObjectsOf('cluster1'), [{ kind: 'IPPool', name: 'p' }], 'the RCC itself is no remote object');
    s.calico.setRemoteObjectRanges('cluster1', { kind: 'IPPool', name: 'p' }, []);
    assert.deepEqual(brief(s.allRemoteRanges()), ['cluster1 192.168.0.0/18 declared RemoteClusterConfiguration/cluster1']);
  });

  it("setRemoteRanges('discovered') groups the ranges by object and removes the objects it does not name", () => {
    const s = stateOf(rcc('cluster1', '192.168.0.0/18'));
    s.calico.setRemoteRanges('cluster1', 'discovered', [
      { cidr: mustParse('10.8.0.0/16'), object: { kind: 'IPPool', name: 'a' } },
      { cidr: mustParse('fd00:8::/56'), object: { kind: 'IPPool', name: 'a' } },
      { cidr: mustParse('10.244.1.0/24'), object: { kind: 'Node', name: 'n' } },
    ]);
    assert.deepEqual(
      s.calico.remoteObjectsOf('cluster1').map((o) => `${o.kind}/${o.name}`),
      ['IPPool/a', 'Node/n'],
    );
    assert.equal(s.remoteRangesOf('cluster1').length, 4);
    s.calico.setRemoteRanges('cluster1', 'discovered', [{ cidr: mustParse('10.244.1.0/24'), object: { kind: 'Node', name: 'n' } }]);
    assert.deepEqual(brief(s.remoteRangesOf('cluster1')), [
      'cluster1 192.168.0.0/18 declared RemoteClusterConfiguration/cluster1',
      'cluster1 10.244.1.0/24 discovered Node/n',
    ]);
    assert.deepEqual(s.overlappingCidrs('10.8.0.0/24'), []);
    assert.deepEqual(s.overlappingCidrs('fd00:8::/64'), []);
    s.calico.setRemoteRanges('cluster1', 'discovered', []);
    assert.deepEqual(s.calico.remoteObjectsOf('cluster1'), []);
    assert.equal(s.remoteRangesOf('cluster1').length, 1, 'the declared range stays');
  });
});

describe('CalicoStore: sync status of the remotes under discovery', () => {
  it('never synced, synced, unsynced again, ended', () => {
    const s = new MemoryClusterState();
    assert.equal(s.unsyncedRemotes().size, 0);
    assert.equal(s.discoveredRemotes().size, 0);

    s.calico.setRemoteSync('cluster1', { synced: false, reason: 'listing its IPPools and Nodes' });
    assert.deepEqual([...s.unsyncedRemotes()], [['cluster1', 'listing its IPPools and Nodes']]);
    assert.deepEqual([...s.discoveredRemotes()], [['cluster1', undefined]], 'under discovery, never synced');

    const before = Date.now();
    s.calico.setRemoteSync('cluster1', { synced: true });
    const syncedAt = s.discoveredRemotes().get('cluster1');
    assert.equal(typeof syncedAt, 'number');
    assert.ok(syncedAt! >= before && syncedAt! <= Date.now());
    assert.equal(s.unsyncedRemotes().size, 0);

    s.calico.setRemoteSync('cluster1', { synced: false, reason: 'its API server does not answer' });
    assert.deepEqual([...s.unsyncedRemotes()], [['cluster1', 'its API server does not answer']]);
    assert.equal(s.discoveredRemotes().get('cluster1'), syncedAt, 'the last sync time is kept');

    s.calico.setRemoteSync('cluster2', { synced: true });
    s.calico.setRemoteSync('cluster1', undefined);
    assert.equal(s.unsyncedRemotes().size, 0);
    assert.deepEqual([...s.discoveredRemotes().keys()], ['cluster2']);
  });
});
