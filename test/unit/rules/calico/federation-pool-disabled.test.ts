import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION } from '../../../../src/kube/calico.js';
import { mustParse } from '../../../../src/net/cidr/cidr.js';
import { FEDERATION_POOL_DISABLED_RULE } from '../../../../src/rules/calico/federation-pool-disabled.js';
import { stateOf } from '../../../helpers/engine.js';
import { assertAllowed, assertDenied, assertNoFindings, assertWarned, findingsOf, GROUPS, pool, rcc, run } from './_helpers.js';

const R = FEDERATION_POOL_DISABLED_RULE;
const LABEL_FIELD = `metadata.labels[${FEDERATION_POOL_LABEL}]`;
const ANNOTATION_FIELD = `metadata.annotations[${REMOTE_CIDRS_ANNOTATION}]`;
const K8S = { datastoreType: 'kubernetes', kubeconfig: '/etc/tigera-federation-remotecluster/kubeconfig-rem-cluster-1' };

for (const g of GROUPS) {
  describe(`${R} (${g})`, () => {
    const labelled = (spec: Record<string, unknown>, rccName = 'cluster1') =>
      pool(g, 'cluster1-main-pool', spec, { labels: { [FEDERATION_POOL_LABEL]: rccName } });
    const withRcc = (remoteCidrs?: string, overlay = 'Disabled', name = 'cluster1') =>
      rcc(
        g,
        name,
        { ...K8S, syncOptions: { overlayRoutingMode: overlay } },
        remoteCidrs === undefined ? {} : { annotations: { [REMOTE_CIDRS_ANNOTATION]: remoteCidrs } },
      );

    describe('IPPool', () => {
      it('allows a disabled federation pool, by label or by remote CIDR, IPv4 and IPv6', () => {
        const state = stateOf(withRcc('192.168.0.0/18, fd00:20::/48'));
        for (const p of [
          labelled({ cidr: '192.168.0.0/18', disabled: true }),
          labelled({ cidr: '192.168.0.0/18', disabled: true, natOutgoing: false }),
          pool(g, 'in-remote', { cidr: '192.168.0.0/20', disabled: true }),
          pool(g, 'in-remote-v6', { cidr: 'fd00:20::/56', disabled: true }),
        ]) {
          const d = run(p, { state });
          assertAllowed(d);
          assertNoFindings(d, R);
        }
      });

      it('ignores pools that are not federation pools', () => {
        const state = stateOf(withRcc('192.168.0.0/18'));
        for (const p of [
          pool(g, 'local', { cidr: '10.244.0.0/16', natOutgoing: true }),
          pool(g, 'other', { cidr: '192.168.64.0/18', natOutgoing: true }),
        ]) {
          assertNoFindings(run(p, { state }), R);
        }
      });

      it('denies a labelled federation pool that is not disabled', () => {
        const d = run(labelled({ cidr: '192.168.0.0/18' }), { state: stateOf(withRcc()) });
        assertDenied(
          d,
          R,
          'spec.disabled',
          'federation IPPool cluster1-main-pool (192.168.0.0/18)',
          'labelled for remote cluster "cluster1"',
          'set disabled: true',
        );
        assertDenied(run(labelled({ cidr: '192.168.0.0/18', disabled: false }), { state: stateOf(withRcc()) }), R, 'spec.disabled');
      });

      it('denies a pool within a declared remote CIDR that is not disabled, IPv4 and IPv6', () => {
        const state = stateOf(withRcc('192.168.0.0/16, fd00:20::/48'));
        assertDenied(
          run(pool(g, 'p4', { cidr: '192.168.4.0/24' }), { state }),
          R,
          'spec.disabled',
          'within remote CIDR 192.168.0.0/16 of RemoteClusterConfiguration cluster1',
        );
        assertDenied(run(pool(g, 'p6', { cidr: 'fd00:20:0:1::/64' }), { state }), R, 'spec.disabled', 'within remote CIDR fd00:20::/48');
        assertDenied(run(pool(g, 'same', { cidr: '192.168.0.0/16' }), { state }), R, 'spec.disabled');
      });

      it('names a discovered remote range by the remote cluster and object it came from, not as declared on the RCC', () => {
        const state = stateOf(withRcc());
        state.calico.setRemoteRanges('cluster1', 'discovered', [
          { cidr: mustParse('10.99.0.0/16'), object: { kind: 'IPPool', name: 'default-ipv4-ippool' } },
        ]);
        const d = run(pool(g, 'local', { cidr: '10.99.0.0/20' }), { state });
        assertDenied(
          d,
          R,
          'spec.disabled',
          'within remote CIDR 10.99.0.0/16 discovered in remote cluster cluster1 (IPPool default-ipv4-ippool)',
        );
        assert.doesNotMatch(findingsOf(d, R, 'deny')[0]!.message, /of RemoteClusterConfiguration/);
      });

      it('denies a federation pool with natOutgoing', () => {
        const d = run(labelled({ cidr: '192.168.0.0/18', disabled: true, natOutgoing: true }), { state: stateOf(withRcc()) });
        assertDenied(d, R, 'spec.natOutgoing', 'not NATed', 'natOutgoing to false');
        assert.equal(findingsOf(d, R, 'deny').length, 1);
        const both = run(pool(g, 'p6', { cidr: 'fd00:20::/64', natOutgoing: true }), { state: stateOf(withRcc('fd00:20::/48')) });
        assertDenied(both, R, 'spec.disabled');
        assertDenied(both, R, 'spec.natOutgoing');
      });

      it('warns when the labelled RemoteClusterConfiguration does not exist', () => {
        const d = run(labelled({ cidr: '192.168.0.0/18', disabled: true }, 'cluster9'), { state: stateOf(withRcc()) });
        assertAllowed(d);
        assertWarned(d, R, LABEL_FIELD, '"cluster9"', 'does not exist');
        const empty = run(labelled({ cidr: '192.168.0.0/18', disabled: true }, ''), { state: stateOf() });
        assertWarned(empty, R, LABEL_FIELD, 'is empty');
      });

      it('does not run before the RemoteClusterConfigurations are synced (the engine says "cannot verify yet")', () => {
        const unsynced = stateOf();
        unsynced.setSynced('RemoteClusterConfiguration', false);
        const d = run(labelled({ cidr: '192.168.0.0/18', disabled: true }, 'cluster9'), { state: unsynced });
        assertDenied(d, R, '', 'cannot verify yet');
        assert.equal(findingsOf(d, R).length, 1);
      });

      it('warns that the pool is no longer needed when its RCC has overlayRoutingMode Enabled', () => {
        const byLabel = run(labelled({ cidr: '192.168.0.0/18', disabled: true }), { state: stateOf(withRcc(undefined, 'Enabled')) });
        assertAllowed(byLabel);
        assertWarned(byLabel, R, '', 'RemoteClusterConfiguration cluster1 has overlayRoutingMode Enabled', 'no longer needed');
        const byCidr = run(pool(g, 'p6', { cidr: 'fd00:20::/64', disabled: true }), {
          state: stateOf(withRcc('fd00:20::/48', 'Enabled', 'cluster2')),
        });
        assertWarned(byCidr, R, '', 'cluster2');
        assertNoFindings(run(labelled({ cidr: '192.168.0.0/18', disabled: true }), { state: stateOf(withRcc(undefined, 'Disabled')) }), R);
      });

      it('follows RCCs added after the pool: the stored annotation decides', () => {
        const p = pool(g, 'p', { cidr: '172.16.5.0/24' });
        assertNoFindings(run(p, { state: stateOf() }), R);
        const state = stateOf(p);
        state.apply(withRcc('172.16.0.0/12'));
        assertDenied(run(p, { state }), R, 'spec.disabled');
        // On UPDATE the engine ratchets a problem the stored pool already had down to a warning.
        const update = run(p, { state, oldObject: p });
        assertAllowed(update);
        assertWarned(update, R, 'spec.disabled', 'set disabled: true', 'predates this change');
        assertDenied(run(pool(g, 'p', { cidr: '172.16.5.0/24', natOutgoing: true }), { state, oldObject: p }), R, 'spec.natOutgoing');
      });
    });

    describe('RemoteClusterConfiguration remote-cidrs annotation', () => {
      it('allows IPv4 and IPv6 CIDRs, spaces and a trailing comma', () => {
        for (const v of ['192.168.0.0/18', '192.168.0.0/18, fd00:20::/48,', ' 10.8.0.0/16 ,fd00:8::/56', '', '10.0.0.1']) {
          const d = run(withRcc(v));
          assertAllowed(d);
          assertNoFindings(d, R);
        }
      });

      it('denies an entry that does not parse, naming it', () => {
        const d = run(withRcc('192.168.0.0/18, 10.300.0.0/16, fd00::/200'));
        assertDenied(d, R, ANNOTATION_FIELD, 'entry 2 "10.300.0.0/16"');
        assertDenied(d, R, ANNOTATION_FIELD, 'entry 3 "fd00::/200"', 'more than the 128 bits');
        assert.equal(findingsOf(d, R).length, 2);
        assertDenied(run(withRcc('192.168.0.0/18; 10.8.0.0/16')), R, ANNOTATION_FIELD, '"192.168.0.0/18; 10.8.0.0/16"');
      });

      it('denies an entry with host bits set, giving the masked form', () => {
        assertDenied(run(withRcc('192.168.1.0/16')), R, ANNOTATION_FIELD, '"192.168.1.0/16"', 'write 192.168.0.0/16');
        assertDenied(run(withRcc('fd00:20::1/48')), R, ANNOTATION_FIELD, 'write fd00:20::/48');
      });
    });
  });
}
