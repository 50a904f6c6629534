import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION } from '../../../../src/kube/calico.js';
import { POOL_OVERLAP_RULE } from '../../../../src/rules/calico/pool-overlap.js';
import { stateOf } from '../../../helpers/engine.js';
import { mustParse } from '../../../../src/net/cidr/cidr.js';
import { assertAllowed, assertDenied, assertNoFindings, assertWarned, findingsOf, GROUPS, pool, rcc, run } from './_helpers.js';

const R = POOL_OVERLAP_RULE;
const ANNOTATION_FIELD = `metadata.annotations[${REMOTE_CIDRS_ANNOTATION}]`;
const K8S = {
  datastoreType: 'kubernetes',
  kubeconfig: '/etc/tigera-federation-remotecluster/kubeconfig-rem-cluster-1',
  syncOptions: { overlayRoutingMode: 'Disabled' },
};

for (const g of GROUPS) {
  describe(`${R} (${g})`, () => {
    const remote = (name: string, cidrs: string) => rcc(g, name, K8S, { annotations: { [REMOTE_CIDRS_ANNOTATION]: cidrs } });
    const fedPool = (name: string, cidr: string, rccName = 'cluster1') =>
      pool(g, name, { cidr, disabled: true }, { labels: { [FEDERATION_POOL_LABEL]: rccName } });

    describe('an enabled IPPool', () => {
      it('denies overlap with another enabled pool, naming both objects and both CIDRs (IPv4)', () => {
        const state = stateOf(pool(g, 'a', { cidr: '10.0.0.0/16' }));
        const d = run(pool(g, 'b', { cidr: '10.0.128.0/17' }), { state });
        const f = assertDenied(d, R, 'spec.cidr', 'IPPool b (10.0.128.0/17)', 'enabled IPPool a (10.0.0.0/16)');
        assert.ok(!f.message.includes('spec.cidr'));
        assertDenied(
          run(pool(g, 'b', { cidr: '10.0.0.0/8' }), { state }),
          R,
          'spec.cidr',
          'IPPool b (10.0.0.0/8)',
          'IPPool a (10.0.0.0/16)',
        );
        assertDenied(run(pool(g, 'b', { cidr: '10.0.0.0/16' }), { state }), R, 'spec.cidr', 'IPPool a (10.0.0.0/16)');
      });

      it('denies overlap with another enabled pool (IPv6), whatever the spelling', () => {
        const state = stateOf(pool(g, 'a6', { cidr: 'fd00:10:244::/56' }));
        assertDenied(
          run(pool(g, 'b6', { cidr: 'fd00:10:244:ff::/64' }), { state }),
          R,
          'spec.cidr',
          'IPPool b6 (fd00:10:244:ff::/64)',
          'IPPool a6 (fd00:10:244::/56)',
        );
        assertDenied(run(pool(g, 'b6', { cidr: 'FD00:0010::/32' }), { state }), R, 'spec.cidr', 'IPPool b6 (fd00:10::/32)');
      });

      it('allows disjoint and adjacent pools, and the other family', () => {
        const state = stateOf(pool(g, 'a', { cidr: '10.0.0.0/16' }), pool(g, 'a6', { cidr: 'fd00:10:244::/56' }));
        for (const p of [
          pool(g, 'b', { cidr: '10.1.0.0/16' }),
          pool(g, 'b', { cidr: '9.255.255.0/24' }),
          pool(g, 'b6', { cidr: 'fd00:10:245::/56' }),
          pool(g, 'b6', { cidr: 'fd00:10:243:ff00::/56' }),
          pool(g, 'c6', { cidr: '::ffff:10.0.0.0/120' }),
        ]) {
          const d = run(p, { state });
          assertNoFindings(d, R);
        }
      });

      it('denies overlap with a plain disabled pool on CREATE, as Calico refuses it, and warns on UPDATE', () => {
        const state = stateOf(
          pool(g, 'old', { cidr: '10.0.0.0/16', disabled: true }),
          pool(g, 'old6', { cidr: 'fd00::/48', disabled: true }),
        );
        assertDenied(
          run(pool(g, 'new', { cidr: '10.0.0.0/17' }), { state }),
          R,
          'spec.cidr',
          'IPPool new (10.0.0.0/17) overlaps disabled IPPool old (10.0.0.0/16)',
          'Calico refuses to create an IPPool that overlaps another one',
        );
        assertDenied(run(pool(g, 'new6', { cidr: 'fd00::/56' }), { state }), R, 'spec.cidr', 'disabled IPPool old6 (fd00::/48)');
        const updated = pool(g, 'new', { cidr: '10.0.0.0/17', natOutgoing: true });
        const d = run(updated, { state, oldObject: pool(g, 'new', { cidr: '10.0.0.0/17' }) });
        assertAllowed(d);
        assertWarned(d, R, 'spec.cidr', 'disabled IPPool old (10.0.0.0/16)', 'Calico checks IPPool overlaps on create only');
      });

      it("Calico's table: identical, larger and smaller CIDRs are refused on create; the same name is not an overlap", () => {
        // libcalico-go/lib/clientv3/ippool_e2e_test.go "should prevent the creation of a pool with an identical or overlapping CIDR"
        const state = stateOf(pool(g, 'ippool1', { cidr: '1.2.3.0/24' }));
        assertNoFindings(run(pool(g, 'ippool1', { cidr: '1.2.3.0/24' }), { state }), R);
        for (const [name, cidr] of [
          ['ippool2', '1.2.3.0/24'],
          ['ippool3', '1.2.0.0/16'],
          ['ippool4', '1.2.3.128/25'],
        ] as const) {
          assertDenied(
            run(pool(g, name, { cidr, blockSize: 26 }), { state }),
            R,
            'spec.cidr',
            `IPPool ${name} (${cidr})`,
            'IPPool ippool1 (1.2.3.0/24)',
          );
        }
        // "... using block sizes": a /31 disabled pool (smaller than a block) inside ippool1 with blockSize 25.
        const bs = stateOf(pool(g, 'ippool1', { cidr: '1.2.3.0/24', blockSize: 25 }));
        assertDenied(
          run(pool(g, 'ippool3', { cidr: '1.2.3.8/31', disabled: true }), { state: bs }),
          R,
          'spec.cidr',
          'IPPool ippool1 (1.2.3.0/24)',
        );
      });

      it('on UPDATE, denies enabling a pool that overlaps an enabled one (Calico would not allocate from it)', () => {
        const state = stateOf(pool(g, 'a', { cidr: '10.0.0.0/16' }), pool(g, 'b', { cidr: '10.0.0.0/17', disabled: true }));
        const d = run(pool(g, 'b', { cidr: '10.0.0.0/17' }), { state, oldObject: pool(g, 'b', { cidr: '10.0.0.0/17', disabled: true }) });
        assertDenied(d, R, 'spec.cidr', 'IPPool b (10.0.0.0/17) overlaps enabled IPPool a (10.0.0.0/16)');
      });

      it('denies overlap with a federation pool, labelled or within a remote CIDR', () => {
        const state = stateOf(
          fedPool('cluster1-main-pool', '192.168.0.0/18'),
          remote('cluster2', 'fd00:20::/48'),
          pool(g, 'cluster2-v6', { cidr: 'fd00:20::/56', disabled: true }),
        );
        assertDenied(
          run(pool(g, 'local', { cidr: '192.168.0.0/16' }), { state }),
          R,
          'spec.cidr',
          'IPPool local (192.168.0.0/16)',
          'federation IPPool cluster1-main-pool (192.168.0.0/18)',
        );
        const d6 = run(pool(g, 'local6', { cidr: 'fd00:20::/64' }), { state });
        assertDenied(d6, R, 'spec.cidr', 'federation IPPool cluster2-v6 (fd00:20::/56)');
        assertDenied(
          d6,
          R,
          'spec.cidr',
          'lies within remote CIDR fd00:20::/48 declared by RemoteClusterConfiguration cluster2',
          'set disabled: true',
        );
      });

      it('denies overlap with a declared remote CIDR', () => {
        const state = stateOf(remote('cluster1', '192.168.0.0/18, fd00:20::/48'));
        assertDenied(
          run(pool(g, 'local', { cidr: '192.168.32.0/19' }), { state }),
          R,
          'spec.cidr',
          'IPPool local (192.168.32.0/19) lies within remote CIDR 192.168.0.0/18',
          'cluster1',
        );
        assertDenied(
          run(pool(g, 'local', { cidr: '192.168.0.0/16' }), { state }),
          R,
          'spec.cidr',
          'IPPool local (192.168.0.0/16) overlaps remote CIDR 192.168.0.0/18',
          'choose a CIDR outside it',
        );
        assertDenied(run(pool(g, 'local6', { cidr: 'fd00::/16' }), { state }), R, 'spec.cidr', 'overlaps remote CIDR fd00:20::/48');
        assertNoFindings(run(pool(g, 'local', { cidr: '192.168.64.0/18' }), { state }), R);
      });

      it('on UPDATE (and a re-CREATE of the same name), is not an overlap with its stored self', () => {
        const a = pool(g, 'a', { cidr: '10.0.0.0/16', vxlanMode: 'Always' });
        const state = stateOf(a, pool(g, 'a6', { cidr: 'fd00::/48' }));
        assertAllowed(run(pool(g, 'a', { cidr: '10.0.0.0/16', vxlanMode: 'Never' }), { state, oldObject: a }));
        assertAllowed(run(a, { state }));
        assertAllowed(
          run(pool(g, 'a6', { cidr: 'fd00::/48', natOutgoing: true }), { state, oldObject: pool(g, 'a6', { cidr: 'fd00::/48' }) }),
        );
      });

      it('lists at most five overlaps, then counts the rest', () => {
        const state = stateOf(...Array.from({ length: 8 }, (_, i) => pool(g, `p${i}`, { cidr: `10.0.${i}.0/24`, blockSize: 26 })));
        const d = run(pool(g, 'big', { cidr: '10.0.0.0/16' }), { state });
        const fs = findingsOf(d, R, 'deny');
        assert.equal(fs.length, 6);
        assert.ok(fs[0]!.message.includes('IPPool p0 (10.0.0.0/24)'), 'sorted by CIDR');
        assert.ok(fs[5]!.message.includes('also overlaps 3 more CIDRs'));
      });
    });

    describe('a federation pool', () => {
      it('denies overlap with an enabled pool, IPv4 and IPv6', () => {
        const state = stateOf(
          pool(g, 'local', { cidr: '192.168.0.0/16' }),
          pool(g, 'local6', { cidr: 'fd00:20::/64' }),
          remote('cluster2', 'fd00:20::/48'),
        );
        assertDenied(
          run(fedPool('cluster1-main-pool', '192.168.0.0/18'), { state }),
          R,
          'spec.cidr',
          'federation IPPool cluster1-main-pool (192.168.0.0/18)',
          'enabled IPPool local (192.168.0.0/16)',
        );
        assertDenied(
          run(pool(g, 'cluster2-v6', { cidr: 'fd00:20::/56', disabled: true }), { state }),
          R,
          'spec.cidr',
          'federation IPPool cluster2-v6 (fd00:20::/56)',
          'enabled IPPool local6 (fd00:20::/64)',
        );
      });

      it('may coincide with its remote CIDR, but not overlap another pool on create', () => {
        const state = stateOf(remote('cluster1', '192.168.0.0/18'));
        assertNoFindings(run(fedPool('cluster1-main-pool', '192.168.0.0/18'), { state }), R);
        const withPools = stateOf(
          remote('cluster1', '192.168.0.0/18'),
          fedPool('other', '192.168.0.0/17'),
          pool(g, 'spare', { cidr: '192.168.0.0/20', disabled: true }),
        );
        const d = run(fedPool('cluster1-main-pool', '192.168.0.0/18'), { state: withPools });
        assertDenied(
          d,
          R,
          'spec.cidr',
          'federation IPPool cluster1-main-pool (192.168.0.0/18) overlaps federation IPPool other (192.168.0.0/17)',
        );
        assertDenied(d, R, 'spec.cidr', 'overlaps federation IPPool spare (192.168.0.0/20)', 'delete the other pool first');
        // The same pools on UPDATE: Calico accepts it, so warnings only.
        const old = fedPool('cluster1-main-pool', '192.168.0.0/18');
        const u = run(fedPool('cluster1-main-pool', '192.168.0.0/18'), { state: withPools, oldObject: old });
        assertAllowed(u);
        assert.equal(findingsOf(u, R, 'warn').length, 2);
      });

      it('a plain disabled pool overlapping an enabled pool is denied on create, warned on update', () => {
        const state = stateOf(pool(g, 'local', { cidr: '10.0.0.0/16' }));
        const spare = pool(g, 'spare', { cidr: '10.0.0.0/20', disabled: true });
        assertDenied(
          run(spare, { state }),
          R,
          'spec.cidr',
          'disabled IPPool spare (10.0.0.0/20) overlaps enabled IPPool local (10.0.0.0/16)',
        );
        assertWarned(run(spare, { state, oldObject: spare }), R, 'spec.cidr', 'enabled IPPool local');
      });

      it('denies overlapping a range or a federation pool of another remote cluster, on create and update', () => {
        const state = stateOf(remote('cluster2', '192.168.0.0/16'), fedPool('cluster2-pool', '10.8.0.0/16', 'cluster2'));
        // On UPDATE, relabelled from cluster2 (ratcheting would let an unchanged object through).
        const mine = fedPool('cluster1-main-pool', '192.168.0.0/18', 'cluster1');
        for (const oldObject of [undefined, fedPool('cluster1-main-pool', '192.168.0.0/18', 'cluster2')]) {
          assertDenied(
            run(mine, { state, oldObject }),
            R,
            'spec.cidr',
            'federation IPPool cluster1-main-pool (192.168.0.0/18), which covers remote cluster "cluster1", overlaps remote CIDR 192.168.0.0/16 declared by RemoteClusterConfiguration cluster2',
            'two remote clusters whose ranges overlap cannot both be federated',
          );
        }
        const other = fedPool('cluster1-b', '10.8.0.0/20', 'cluster1');
        for (const oldObject of [undefined, fedPool('cluster1-b', '10.8.0.0/20', 'cluster2')]) {
          assertDenied(
            run(other, { state, oldObject }),
            R,
            'spec.cidr',
            'overlaps federation IPPool cluster2-pool (10.8.0.0/16), a federation pool for another remote cluster',
          );
        }
      });

      it('names a discovered remote range by the remote cluster and object it came from', () => {
        const state = stateOf();
        state.calico.setRemoteRanges('cluster9', 'discovered', [
          { cidr: mustParse('10.99.0.0/16'), object: { kind: 'IPPool', name: 'default-ipv4-ippool' } },
        ]);
        assertDenied(
          run(pool(g, 'local', { cidr: '10.99.0.0/20' }), { state }),
          R,
          'spec.cidr',
          'lies within remote CIDR 10.99.0.0/16 discovered in remote cluster cluster9 (IPPool default-ipv4-ippool)',
        );
      });
    });

    describe('a RemoteClusterConfiguration', () => {
      it('denies remote CIDRs overlapping enabled pools, naming both objects and both CIDRs', () => {
        const state = stateOf(
          pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16' }),
          pool(g, 'default-ipv6-ippool', { cidr: 'fd00:10:244::/56' }),
        );
        const d = run(remote('cluster1', '10.244.128.0/17, fd00:10::/32'), { state });
        assertDenied(
          d,
          R,
          ANNOTATION_FIELD,
          'remote CIDR 10.244.128.0/17 of RemoteClusterConfiguration cluster1',
          'enabled IPPool default-ipv4-ippool (10.244.0.0/16)',
        );
        assertDenied(d, R, ANNOTATION_FIELD, 'remote CIDR fd00:10::/32', 'enabled IPPool default-ipv6-ippool (fd00:10:244::/56)');
        assert.equal(findingsOf(d, R).length, 2);
      });

      it('allows remote CIDRs covered by federation and disabled pools only', () => {
        const state = stateOf(
          pool(g, 'local', { cidr: '10.244.0.0/16' }),
          fedPool('cluster1-main-pool', '192.168.0.0/18'),
          pool(g, 'cluster1-v6', { cidr: 'fd00:20::/48', disabled: true }),
        );
        const d = run(remote('cluster1', '192.168.0.0/18, fd00:20::/48'), { state });
        assertAllowed(d);
        assertNoFindings(d, R);
      });

      it('denies a second remote cluster whose ranges overlap the first one, or its federation pool', () => {
        const state = stateOf(remote('cluster1', '192.168.0.0/18, fd00:20::/48'), fedPool('cluster1-extra', '10.8.0.0/16', 'cluster1'));
        const d = run(remote('cluster2', '192.168.32.0/19, fd00::/16, 10.8.1.0/24'), { state });
        assertDenied(
          d,
          R,
          ANNOTATION_FIELD,
          'remote CIDR 192.168.32.0/19 of RemoteClusterConfiguration cluster2 overlaps remote CIDR 192.168.0.0/18 declared by RemoteClusterConfiguration cluster1',
          'cannot both be federated',
        );
        assertDenied(d, R, ANNOTATION_FIELD, 'remote CIDR fd00::/16', 'fd00:20::/48 declared by RemoteClusterConfiguration cluster1');
        assertDenied(
          d,
          R,
          ANNOTATION_FIELD,
          'overlaps federation IPPool cluster1-extra (10.8.0.0/16), labelled for remote cluster "cluster1"',
        );
        assertNoFindings(run(remote('cluster2', '192.168.64.0/18'), { state }), R);
        // Its own stored ranges and federation pools are not an overlap.
        assertNoFindings(run(remote('cluster1', '192.168.0.0/18, fd00:20::/48, 10.8.0.0/16'), { state }), R);
      });

      it('ignores an RCC without the annotation and entries that do not parse', () => {
        const state = stateOf(pool(g, 'local', { cidr: '10.244.0.0/16' }));
        assertNoFindings(run(rcc(g, 'cluster1', K8S), { state }), R);
        assertNoFindings(run(remote('cluster1', '10.244.0.0/99'), { state }), R);
      });
    });
  });
}
