/**
 * What discovery keeps of a remote IPPool or Node (src/state/federation/remote-objects.ts):
 * name, resource version and ranges; a disabled pool and a Node's host name
 * give none, and what does not parse is left out, never an error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeRanges, poolRanges, type RemoteObject } from '../../../../src/state/federation/remote-objects.js';

/** The ranges as `canonical` (pod ranges) or `canonical node` (a node's own address). */
const brief = (o: RemoteObject | undefined): string[] | undefined =>
  o?.ranges.map((r) => `${r.cidr.canonical}${r.nodeAddress ? ' node' : ''}`);

describe('poolRanges', () => {
  it('an enabled pool gives its CIDR, with its name and resource version', () => {
    const o = poolRanges(
      { metadata: { name: 'default-ipv4-ippool', resourceVersion: '42', uid: 'u' }, spec: { cidr: '10.8.0.0/16', blockSize: 26 } },
      'crd.projectcalico.org/v1',
    );
    assert.deepEqual(o?.metadata, { name: 'default-ipv4-ippool', resourceVersion: '42' });
    assert.deepEqual(brief(o), ['10.8.0.0/16']);
    assert.deepEqual(brief(poolRanges({ metadata: { name: 'v6' }, spec: { cidr: 'fd00:8::/56' } }, 'projectcalico.org/v3')), [
      'fd00:8::/56',
    ]);
    assert.deepEqual(poolRanges({ metadata: { name: 'v6' }, spec: { cidr: 'fd00:8::/56' } }, 'projectcalico.org/v3')?.metadata, {
      name: 'v6',
    });
  });

  it('a disabled pool hands out no address: kept, with no range', () => {
    const o = poolRanges({ metadata: { name: 'federation' }, spec: { cidr: '192.168.0.0/16', disabled: true } }, 'projectcalico.org/v3');
    assert.deepEqual(o?.metadata, { name: 'federation' });
    assert.deepEqual(brief(o), []);
    assert.deepEqual(
      brief(poolRanges({ metadata: { name: 'on' }, spec: { cidr: '192.168.0.0/16', disabled: false } }, 'projectcalico.org/v3')),
      ['192.168.0.0/16'],
    );
  });

  it('a bare address is a host prefix; a CIDR that does not parse, or none, gives no range', () => {
    assert.deepEqual(brief(poolRanges({ metadata: { name: 'one' }, spec: { cidr: '10.9.0.7' } }, 'projectcalico.org/v3')), ['10.9.0.7/32']);
    assert.deepEqual(brief(poolRanges({ metadata: { name: 'bad' }, spec: { cidr: '10.9.0.0/33' } }, 'projectcalico.org/v3')), []);
    assert.deepEqual(brief(poolRanges({ metadata: { name: 'bad2' }, spec: { cidr: 'not-a-cidr' } }, 'projectcalico.org/v3')), []);
    assert.deepEqual(brief(poolRanges({ metadata: { name: 'none' } }, 'projectcalico.org/v3')), []);
  });

  it('a legacy crd.projectcalico.org/v1 pool (Calico API v1 spellings) is read like any other', () => {
    const legacy = {
      metadata: { name: 'legacy' },
      spec: { cidr: '10.10.0.0/16', ipip: { enabled: true, mode: 'cross-subnet' }, 'nat-outgoing': true },
    };
    assert.deepEqual(brief(poolRanges(legacy, 'crd.projectcalico.org/v1')), ['10.10.0.0/16']);
  });

  it('what is not an IPPool (no name, a spec of the wrong shape, not an object) is undefined', () => {
    assert.equal(poolRanges({ metadata: {}, spec: { cidr: '10.0.0.0/8' } }, 'projectcalico.org/v3'), undefined);
    assert.equal(poolRanges({ metadata: { name: 'x' }, spec: { cidr: 10 } }, 'projectcalico.org/v3'), undefined);
    assert.equal(poolRanges({ spec: { cidr: '10.0.0.0/8' } }, 'projectcalico.org/v3'), undefined);
    assert.equal(poolRanges(null, 'projectcalico.org/v3'), undefined);
    assert.equal(poolRanges('garbage', 'projectcalico.org/v3'), undefined);
  });
});

describe('nodeRanges', () => {
  it('a dual-stack Node gives each podCIDRs entry, and its InternalIP and ExternalIP as node addresses; Hostname is ignored', () => {
    const o = nodeRanges({
      metadata: { name: 'node-a', resourceVersion: '7', labels: { 'kubernetes.io/os': 'linux' } },
      spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:244:1::/64'], providerID: 'x' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '172.18.0.3' },
          { type: 'InternalIP', address: 'fc00:f853::3' },
          { type: 'ExternalIP', address: '203.0.113.9' },
          // A host name override may be written as an address: still a name, not one of the node's IPs.
          { type: 'Hostname', address: '10.0.0.99' },
          { type: 'InternalDNS', address: 'node-a.internal' },
        ],
        capacity: { cpu: '4' },
      },
    });
    assert.deepEqual(o?.metadata, { name: 'node-a', resourceVersion: '7' });
    assert.deepEqual(brief(o), ['10.244.1.0/24', 'fd00:244:1::/64', '172.18.0.3/32 node', 'fc00:f853::3/128 node', '203.0.113.9/32 node']);
  });

  it('spec.podCIDR is read when podCIDRs is absent or empty', () => {
    assert.deepEqual(brief(nodeRanges({ metadata: { name: 'old' }, spec: { podCIDR: '10.244.2.0/24' } })), ['10.244.2.0/24']);
    assert.deepEqual(brief(nodeRanges({ metadata: { name: 'old' }, spec: { podCIDR: '10.244.2.0/24', podCIDRs: [] } })), ['10.244.2.0/24']);
  });

  it('a Node with nothing, or with values that do not parse, gives no range', () => {
    assert.deepEqual(brief(nodeRanges({ metadata: { name: 'bare' } })), []);
    assert.deepEqual(
      brief(
        nodeRanges({
          metadata: { name: 'odd' },
          spec: { podCIDRs: ['10.244.0.0/99'] },
          status: { addresses: [{ type: 'InternalIP', address: 'not-an-ip' }] },
        }),
      ),
      [],
    );
  });

  it('garbage is undefined', () => {
    assert.equal(nodeRanges({ metadata: {} }), undefined);
    assert.equal(nodeRanges({ metadata: { name: 'n' }, spec: { podCIDRs: '10.0.0.0/24' } }), undefined);
    assert.equal(nodeRanges({ metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP' }] } }), undefined);
    assert.equal(nodeRanges(undefined), undefined);
    assert.equal(nodeRanges(17), undefined);
  });
});
