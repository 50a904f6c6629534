import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditState } from '../../../../src/cli/audit.js';
import { Engine } from '../../../../src/engine/engine.js';
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION } from '../../../../src/kube/calico.js';
import { mustParse } from '../../../../src/net/cidr/cidr.js';
import { calicoRules } from '../../../../src/rules/calico/index.js';
import { NAT_COVERAGE_RULE } from '../../../../src/rules/calico/nat-coverage.js';
import { stateOf } from '../../../helpers/engine.js';
import { assertAllowed, assertDenied, assertNoFindings, assertWarned, findingsOf, GROUPS, pool, rcc, run } from './_helpers.js';

const R = NAT_COVERAGE_RULE;
const ANNOTATION_FIELD = `metadata.annotations[${REMOTE_CIDRS_ANNOTATION}]`;
const K8S = { datastoreType: 'kubernetes', kubeconfig: '/etc/k/cluster1', syncOptions: { overlayRoutingMode: 'Disabled' } };

for (const g of GROUPS) {
  describe(`${R} (${g})`, () => {
    const remote = (name: string, cidrs: string) => rcc(g, name, K8S, { annotations: { [REMOTE_CIDRS_ANNOTATION]: cidrs } });
    const fedPool = (name: string, cidr: string, extra: Record<string, unknown> = {}, cluster = 'cluster1') =>
      pool(g, name, { cidr, disabled: true, ...extra }, { labels: { [FEDERATION_POOL_LABEL]: cluster } });
    const natPool = (name = 'default-ipv4-ippool', natOutgoing = true) => pool(g, name, { cidr: '10.244.0.0/16', natOutgoing });

    describe('a RemoteClusterConfiguration', () => {
      it('warns about each uncovered range while NAT is on, naming the fewest CIDRs to create', () => {
        const state = stateOf(natPool(), fedPool('cluster1-part', '192.168.16.0/20'));
        const d = run(remote('cluster1', '192.168.0.0/18, fd00:20::/48'), { state });
        assertAllowed(d);
        const f = assertWarned(
          d,
          R,
          ANNOTATION_FIELD,
          'remote CIDR 192.168.0.0/18 of remote cluster cluster1 (declared on it) is only partly covered by local IPPools (192.168.0.0/20 and 192.168.32.0/19 is not)',
          'IPPool default-ipv4-ippool has natOutgoing on',
          'SNATed',
          `create a disabled IPPool (disabled: true, natOutgoing: false, label ${FEDERATION_POOL_LABEL}: cluster1) for each of 192.168.0.0/20 and 192.168.32.0/19`,
        );
        assert.ok(!f.message.includes('fd00'), 'no IPv6 pool has NAT on, so the IPv6 range needs no cover');
        assert.equal(findingsOf(d, R).length, 1);
      });

      it('says nothing while no pool has NAT on, or once the ranges are covered (by any pool but a LoadBalancer-only one)', () => {
        assertNoFindings(run(remote('cluster1', '192.168.0.0/18'), { state: stateOf(natPool('default', false)) }), R);
        assertNoFindings(run(remote('cluster1', '192.168.0.0/18'), { state: stateOf(natPool(), fedPool('p', '192.168.0.0/18')) }), R);
        assertNoFindings(run(remote('cluster1', '192.168.0.0/18'), { state: stateOf(natPool(), fedPool('p', '192.168.0.0/16')) }), R);
        const lb = stateOf(natPool(), fedPool('lb', '192.168.0.0/18', { allowedUses: ['LoadBalancer'] }));
        assertWarned(run(remote('cluster1', '192.168.0.0/18'), { state: lb }), R, ANNOTATION_FIELD, 'with CIDR 192.168.0.0/18');
      });

      it('counts NAT per family and on disabled pools, as Felix does', () => {
        const v6 = stateOf(pool(g, 'v6', { cidr: 'fd00:10::/48', natOutgoing: true, disabled: true }));
        assertWarned(
          run(remote('cluster1', '192.168.0.0/18, fd00:20::/48'), { state: v6 }),
          R,
          ANNOTATION_FIELD,
          'remote CIDR fd00:20::/48',
        );
        assert.equal(findingsOf(run(remote('cluster1', '192.168.0.0/18, fd00:20::/48'), { state: v6 }), R).length, 1);
      });

      it('waits for the IPPools only when it declares ranges', () => {
        const state = stateOf(natPool());
        state.setSynced('IPPool', false);
        assertNoFindings(run(rcc(g, 'cluster1', K8S), { state }), R);
        assertDenied(run(remote('cluster1', '192.168.0.0/18'), { state }), R, '', 'cannot verify yet');
      });

      it('checks discovered ranges of the cluster too', () => {
        const state = stateOf(natPool());
        state.calico.setRemoteRanges('cluster1', 'discovered', [
          { cidr: mustParse('10.8.0.0/16'), object: { kind: 'IPPool', name: 'default-ipv4-ippool' } },
        ]);
        assertWarned(
          run(rcc(g, 'cluster1', K8S), { state }),
          R,
          '',
          'remote CIDR 10.8.0.0/16 of remote cluster cluster1 (discovered from its IPPool default-ipv4-ippool)',
        );
      });

      it('is reported by the audit once a federation pool is gone (DELETE is not admitted)', () => {
        const state = stateOf(natPool(), remote('cluster1', '192.168.0.0/18'), fedPool('cluster1-main-pool', '192.168.0.0/18'));
        const engine = new Engine(calicoRules, { operatorNamespace: 'elastic-system' });
        const rccFindings = () =>
          auditState(state, engine)
            .results.filter((r) => r.kind === 'RemoteClusterConfiguration')
            .flatMap((r) => findingsOf(r.decision, R));
        assert.deepEqual(rccFindings(), []);
        state.remove('IPPool', { namespace: '', name: 'cluster1-main-pool' });
        const after = rccFindings();
        assert.equal(after.length, 1);
        assert.match(
          after[0]!.message,
          /remote CIDR 192\.168\.0\.0\/18 .* is not covered by any local IPPool .*with CIDR 192\.168\.0\.0\/18/,
        );
      });
    });

    describe('an IPPool', () => {
      it('turning NAT on: warns on CREATE and denies on UPDATE while a remote range is uncovered', () => {
        const state = stateOf(remote('cluster1', '192.168.0.0/18, fd00:20::/48'), fedPool('half', '192.168.0.0/19'));
        const c = run(natPool(), { state });
        assertAllowed(c);
        assertWarned(
          c,
          R,
          'spec.natOutgoing',
          'IPPool default-ipv4-ippool (10.244.0.0/16) turns on natOutgoing for IPv4',
          'remote CIDR 192.168.0.0/18 of remote cluster cluster1',
          'first create a disabled IPPool',
          'with CIDR 192.168.32.0/19',
        );
        assert.equal(findingsOf(c, R).length, 1, 'the IPv6 range is not affected');
        const u = run(natPool(), { state, oldObject: natPool('default-ipv4-ippool', false) });
        assertDenied(u, R, 'spec.natOutgoing', 'turns on natOutgoing', '192.168.32.0/19');
      });

      it('turning NAT on is fine once the ranges are covered, or when NAT is already on', () => {
        const covered = stateOf(remote('cluster1', '192.168.0.0/18'), fedPool('main', '192.168.0.0/18'));
        assertNoFindings(run(natPool(), { state: covered, oldObject: natPool('default-ipv4-ippool', false) }), R);
        const already = stateOf(remote('cluster1', '192.168.0.0/18'), pool(g, 'other', { cidr: '10.1.0.0/16', natOutgoing: true }));
        assertNoFindings(run(natPool(), { state: already, oldObject: natPool('default-ipv4-ippool', false) }), R);
        assertNoFindings(run(natPool(), { state: stateOf() }), R);
        // The only NAT pool edited with NAT still on: it turns nothing on (the RemoteClusterConfiguration carries the warning).
        const uncovered = stateOf(remote('cluster1', '192.168.0.0/18'), natPool());
        const edited = pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true, nodeSelector: 'all()' });
        assertNoFindings(run(edited, { state: uncovered, oldObject: natPool() }), R);
      });

      it('turning NAT on through the legacy nat-outgoing spelling is reported at that field (crd group only)', () => {
        const state = stateOf(remote('cluster1', '192.168.0.0/18'));
        const legacy = pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', 'nat-outgoing': true });
        const d = run(legacy, { state });
        if (g === 'crd.projectcalico.org/v1') assertWarned(d, R, 'spec.nat-outgoing', 'turns on natOutgoing');
        else assertNoFindings(d, R);
      });

      it('denies an UPDATE that stops covering a remote range while NAT is on', () => {
        const state = stateOf(natPool(), remote('cluster1', '192.168.0.0/18'), fedPool('main', '192.168.0.0/18'));
        const d = run(fedPool('main', '192.168.0.0/18', { allowedUses: ['LoadBalancer'] }), {
          state,
          oldObject: fedPool('main', '192.168.0.0/18'),
        });
        assertDenied(
          d,
          R,
          'spec.allowedUses',
          'no longer covers 192.168.0.0/18',
          'it becomes LoadBalancer-only',
          'with CIDR 192.168.0.0/18',
        );
        const off = stateOf(natPool('default', false), remote('cluster1', '192.168.0.0/18'), fedPool('main', '192.168.0.0/18'));
        assertNoFindings(
          run(fedPool('main', '192.168.0.0/18', { allowedUses: ['LoadBalancer'] }), {
            state: off,
            oldObject: fedPool('main', '192.168.0.0/18'),
          }),
          R,
        );
        // Another pool still covers the range: nothing is lost.
        const twice = stateOf(
          natPool(),
          remote('cluster1', '192.168.0.0/18'),
          fedPool('main', '192.168.0.0/18'),
          fedPool('big', '192.168.0.0/16'),
        );
        assertNoFindings(
          run(fedPool('main', '192.168.0.0/18', { allowedUses: ['LoadBalancer'] }), {
            state: twice,
            oldObject: fedPool('main', '192.168.0.0/18'),
          }),
          R,
        );
      });
    });
  });
}
