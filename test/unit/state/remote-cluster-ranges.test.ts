/**
 * Remote cluster ranges as CalicoStore keeps them: declared by the annotation,
 * set by a discovery component, both in the overlap index; and the per-family
 * set of NAT-outgoing pools.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REMOTE_CIDRS_ANNOTATION } from '../../../src/kube/calico.js';
import { mustParse } from '../../../src/net/cidr/cidr.js';
import type { RemoteRange } from '../../../src/state/remote-cluster-ranges.js';
import { stateOf } from '../../helpers/engine.js';

const rcc = (name: string, remoteCidrs?: string) => ({
  apiVersion: 'crd.projectcalico.org/v1',
  kind: 'RemoteClusterConfiguration',
  metadata: { name, ...(remoteCidrs !== undefined ? { annotations: { [REMOTE_CIDRS_ANNOTATION]: remoteCidrs } } : {}) },
  spec: { datastoreType: 'kubernetes', kubeconfig: '/etc/k' },
});
const pool = (name: string, spec: Record<string, unknown>, apiVersion = 'projectcalico.org/v3') => ({
  apiVersion,
  kind: 'IPPool',
  metadata: { name },
  spec,
});
const brief = (ranges: readonly RemoteRange[]) =>
  ranges.map((r) => `${r.cluster} ${r.cidr.canonical} ${r.source} ${r.object.kind}/${r.object.name}`);

describe('remote cluster ranges', () => {
  it('are declared by the annotation, each block once, and follow updates and deletes of the RemoteClusterConfiguration', () => {
    const s = stateOf(rcc('cluster2', '172.16.0.0/12'), rcc('cluster1', '192.168.0.0/18, 192.168.0.5/18, fd00:20::/48'), rcc('plain'));
    assert.deepEqual(brief(s.allRemoteRanges()), [
      'cluster1 192.168.0.0/18 declared RemoteClusterConfiguration/cluster1',
      'cluster1 fd00:20::/48 declared RemoteClusterConfiguration/cluster1',
      'cluster2 172.16.0.0/12 declared RemoteClusterConfiguration/cluster2',
    ]);
    assert.deepEqual(s.remoteRangesOf('plain'), []);
    s.apply(rcc('cluster1', '10.8.0.0/16'));
    assert.deepEqual(brief(s.remoteRangesOf('cluster1')), ['cluster1 10.8.0.0/16 declared RemoteClusterConfiguration/cluster1']);
    assert.deepEqual(s.overlappingCidrs('192.168.0.0/16'), [], 'the old ranges left the index');
    s.remove('RemoteClusterConfiguration', { namespace: '', name: 'cluster1' });
    assert.deepEqual(brief(s.allRemoteRanges()), ['cluster2 172.16.0.0/12 declared RemoteClusterConfiguration/cluster2']);
  });

  it('take discovered ranges beside the declared ones, in the overlap index too, without touching the declared ones', () => {
    const s = stateOf(rcc('cluster1', '192.168.0.0/18'));
    s.calico.setRemoteRanges('cluster1', 'discovered', [
      { cidr: mustParse('10.8.0.0/16'), object: { kind: 'IPPool', name: 'default-ipv4-ippool' } },
    ]);
    assert.deepEqual(brief(s.remoteRangesOf('cluster1')), [
      'cluster1 192.168.0.0/18 declared RemoteClusterConfiguration/cluster1',
      'cluster1 10.8.0.0/16 discovered IPPool/default-ipv4-ippool',
    ]);
    const hit = s.overlappingCidrs('10.8.1.0/24');
    assert.equal(hit.length, 1);
    assert.equal(hit[0]!.role, 'remote-cidr');
    assert.equal(hit[0]!.remote?.source, 'discovered');
    s.apply(rcc('cluster1', '192.168.64.0/18'));
    assert.equal(s.remoteRangesOf('cluster1').length, 2, 'an RCC update replaces the declared ranges only');
    s.calico.setRemoteRanges('cluster1', 'discovered', []);
    assert.deepEqual(s.overlappingCidrs('10.8.1.0/24'), []);
  });

  it('NAT-outgoing pools are kept per family, legacy spelling and disabled pools included, and leave with the pool', () => {
    const s = stateOf(
      pool('v4', { cidr: '10.244.0.0/16', natOutgoing: true }),
      pool('legacy', { cidr: '10.245.0.0/16', 'nat-outgoing': true }, 'crd.projectcalico.org/v1'),
      pool('off', { cidr: '10.246.0.0/16', disabled: true, natOutgoing: true }),
      pool('v6', { cidr: 'fd00::/48' }),
    );
    assert.deepEqual([...s.natOutgoingPools(4)].sort(), ['legacy', 'off', 'v4']);
    assert.deepEqual([...s.natOutgoingPools(6)], []);
    s.apply(pool('v4', { cidr: '10.244.0.0/16' }));
    s.remove('IPPool', { namespace: '', name: 'legacy' });
    assert.deepEqual([...s.natOutgoingPools(4)], ['off']);
  });
});
