/**
 * The CIDR index as CalicoStore keeps it: roles of pools and remote CIDRs,
 * roles following RemoteClusterConfigurations added later, removals, the
 * VXLAN counter, and queries over 10,000 pools.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION } from '../../../src/kube/calico.js';
import type { CidrEntry } from '../../../src/state/calico-state.js';
import { MemoryClusterState } from '../../../src/state/memory-state.js';
import { stateOf } from '../../helpers/engine.js';

const V3 = 'projectcalico.org/v3';
const pool = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({
  apiVersion: V3,
  kind: 'IPPool',
  metadata: { name, ...(labels ? { labels } : {}) },
  spec,
});
const rcc = (name: string, remoteCidrs?: string) => ({
  apiVersion: 'crd.projectcalico.org/v1',
  kind: 'RemoteClusterConfiguration',
  metadata: { name, ...(remoteCidrs !== undefined ? { annotations: { [REMOTE_CIDRS_ANNOTATION]: remoteCidrs } } : {}) },
  spec: { datastoreType: 'kubernetes', kubeconfig: '/etc/k' },
});

const brief = (entries: CidrEntry[]) => entries.map((e) => `${e.ownerKind}/${e.ownerName} ${e.canonical} ${e.role}`).sort();

describe('CalicoStore CIDR index', () => {
  it('indexes pools and remote CIDRs with their roles, IPv4 and IPv6', () => {
    const s = stateOf(
      pool('local', { cidr: '10.244.0.0/16' }),
      pool('local6', { cidr: 'fd00:10:244::/56' }),
      pool('spare', { cidr: '10.99.0.0/16', disabled: true }),
      pool('fed-label', { cidr: '192.168.0.0/18', disabled: true }, { [FEDERATION_POOL_LABEL]: 'cluster1' }),
      pool('fed-cidr', { cidr: 'fd00:20:244::/60', disabled: true }),
      rcc('cluster2', 'fd00:20:244::/56, 172.16.0.0/12'),
    );
    assert.deepEqual(brief(s.overlappingCidrs('0.0.0.0/0')), [
      'IPPool/fed-label 192.168.0.0/18 federation-pool',
      'IPPool/local 10.244.0.0/16 enabled-pool',
      'IPPool/spare 10.99.0.0/16 disabled-pool',
      'RemoteClusterConfiguration/cluster2 172.16.0.0/12 remote-cidr',
    ]);
    assert.deepEqual(brief(s.overlappingCidrs('fd00::/8')), [
      'IPPool/fed-cidr fd00:20:244::/60 federation-pool',
      'IPPool/local6 fd00:10:244::/56 enabled-pool',
      'RemoteClusterConfiguration/cluster2 fd00:20:244::/56 remote-cidr',
    ]);
    assert.deepEqual(brief(s.overlappingCidrs('10.244.3.0/24')), ['IPPool/local 10.244.0.0/16 enabled-pool']);
    assert.deepEqual(s.overlappingCidrs('10.245.0.0/16'), []);
    assert.deepEqual(s.overlappingCidrs('not a cidr'), []);
  });

  it('keeps the CIDR as written next to the canonical form', () => {
    const s = stateOf(pool('p', { cidr: 'FD00:0010::/32' }));
    const [e] = s.overlappingCidrs('fd00:10::/32');
    assert.equal(e?.cidr, 'FD00:0010::/32');
    assert.equal(e?.canonical, 'fd00:10::/32');
    assert.equal(e?.family, 6);
    assert.equal(e?.prefixLength, 32);
  });

  it('makes a disabled pool a federation pool when an RCC declaring its range arrives later, and back when it goes', () => {
    const s = stateOf(pool('p', { cidr: '192.168.0.0/18', disabled: true }));
    const role = () => s.overlappingCidrs('192.168.0.0/18').find((e) => e.ownerKind === 'IPPool')?.role;
    assert.equal(role(), 'disabled-pool');
    s.apply(rcc('cluster1', '192.168.0.0/16'));
    assert.equal(role(), 'federation-pool');
    s.apply(rcc('cluster1', '10.0.0.0/8'));
    assert.equal(role(), 'disabled-pool', 'the changed annotation no longer covers the pool');
    s.apply(rcc('cluster1', '192.168.0.0/18'));
    assert.equal(role(), 'federation-pool');
    s.remove('RemoteClusterConfiguration', { namespace: '', name: 'cluster1' });
    assert.equal(role(), 'disabled-pool');
  });

  it('re-indexes a pool whose CIDR or state changes, and forgets deleted pools', () => {
    const s = stateOf(pool('p', { cidr: '10.0.0.0/16' }));
    s.apply(pool('p', { cidr: '10.1.0.0/16', disabled: true }));
    assert.deepEqual(s.overlappingCidrs('10.0.0.0/16'), []);
    assert.deepEqual(brief(s.overlappingCidrs('10.1.0.0/16')), ['IPPool/p 10.1.0.0/16 disabled-pool']);
    s.remove('IPPool', { namespace: '', name: 'p' });
    assert.deepEqual(s.overlappingCidrs('10.0.0.0/8'), []);
    assert.equal(s.getIPPool('p'), undefined);
  });

  it('keeps pools and RCCs with unparseable CIDRs without indexing them', () => {
    const s = stateOf(pool('bad', { cidr: '10.0.0.0/40' }), rcc('r', '10.1.0.0/16, nonsense'));
    assert.ok(s.getIPPool('bad'));
    assert.deepEqual(brief(s.overlappingCidrs('10.0.0.0/8')), ['RemoteClusterConfiguration/r 10.1.0.0/16 remote-cidr']);
  });

  it('counts VXLAN pools in O(1): unset vxlanMode counts, Never does not, updates and deletes adjust', () => {
    const s = new MemoryClusterState();
    assert.equal(s.anyIPPoolWithVXLAN(), false);
    s.apply(pool('never', { cidr: '10.0.0.0/16', vxlanMode: 'Never' }));
    assert.equal(s.anyIPPoolWithVXLAN(), false);
    s.apply(pool('unset', { cidr: '10.1.0.0/16' }));
    assert.equal(s.anyIPPoolWithVXLAN(), true);
    s.apply(pool('unset', { cidr: '10.1.0.0/16', vxlanMode: 'Never' }));
    assert.equal(s.anyIPPoolWithVXLAN(), false);
    s.apply(pool('always', { cidr: '10.2.0.0/16', vxlanMode: 'Always' }));
    s.apply(pool('always', { cidr: '10.2.0.0/16', vxlanMode: 'CrossSubnet' }));
    assert.equal(s.anyIPPoolWithVXLAN(), true);
    s.remove('IPPool', { namespace: '', name: 'always' });
    assert.equal(s.anyIPPoolWithVXLAN(), false);
    s.remove('IPPool', { namespace: '', name: 'always' });
    assert.equal(s.anyIPPoolWithVXLAN(), false, 'deleting twice does not go negative');
  });

  it('answers overlap queries over 10,000 pools without scanning them', () => {
    const s = new MemoryClusterState();
    for (let i = 0; i < 5000; i++) {
      s.apply(pool(`v4-${i}`, { cidr: `10.${i >> 8}.${i & 255}.0/24` }));
      s.apply(pool(`v6-${i}`, { cidr: `fd00:${i.toString(16)}::/48`, disabled: i % 2 === 0 }));
    }
    s.apply(rcc('remote', '172.16.0.0/12, fd01::/16'));
    assert.equal(s.counts().IPPool, 10_000);
    const start = performance.now();
    let hits = 0;
    for (let i = 0; i < 2000; i++) {
      hits += s.overlappingCidrs(`10.${i % 19}.${i & 255}.128/25`).length;
      hits += s.overlappingCidrs(`fd00:${((i * 7) % 5000).toString(16)}:0:1::/64`).length;
    }
    const perQuery = (performance.now() - start) / 4000;
    assert.equal(hits, 4000);
    assert.equal(s.overlappingCidrs('10.0.0.0/8').length, 5000);
    // A scan re-parsing 10,000 pools takes milliseconds per query; the index answers in microseconds.
    assert.ok(perQuery < 0.5, `${perQuery.toFixed(3)} ms per query`);
  });
});
