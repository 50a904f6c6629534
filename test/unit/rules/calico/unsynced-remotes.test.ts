/**
 * Remote clusters under federation discovery that are not synced: a
 * validating IPPool rule whose check reads such a remote (its `remotes`
 * hook) answers the policy's `unsynced` naming it, through the engine; an
 * object that involves no unsynced remote is checked as usual, and the RCC
 * rules never wait on a remote. Also the node addresses discovery finds:
 * local pools must not overlap them, but NAT coverage does not ask for them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../../../../src/config/policy.js';
import type { Decision } from '../../../../src/engine/decision.js';
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION } from '../../../../src/kube/calico.js';
import { mustParse } from '../../../../src/net/cidr/cidr.js';
import { FEDERATION_POOL_DISABLED_RULE } from '../../../../src/rules/calico/federation-pool-disabled.js';
import { NAT_COVERAGE_RULE } from '../../../../src/rules/calico/nat-coverage.js';
import { POOL_OVERLAP_RULE } from '../../../../src/rules/calico/pool-overlap.js';
import type { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { stateOf } from '../../../helpers/engine.js';
import { assertAllowed, assertDenied, assertNoFindings, assertWarned, findingsOf, GROUPS, pool, rcc, run } from './_helpers.js';

const B = 'cluster-b';
const REASON = 'its API server does not answer (ECONNREFUSED)';
const CANNOT = `cannot verify yet: the discovered ranges of remote cluster ${B} (${REASON}) are not current; retry once it is reachable`;
const K8S = { datastoreType: 'kubernetes', kubeconfig: '/etc/k/cluster-b', syncOptions: { overlayRoutingMode: 'Disabled' } };
const WARN_POLICY = { ...DEFAULT_POLICY, unsynced: 'warn' as const };

/** Findings (of any rule) answering "cannot verify yet" because of a remote cluster. */
const unsyncedAnswers = (d: Decision) => d.findings.filter((f) => f.message.includes('discovered ranges of remote cluster'));

/**
 * A state where `cluster-b` is under discovery with IPPool `b-pool`
 * (10.8.0.0/16) and Node `b-node-1` (pod CIDR 10.9.1.0/24, address
 * 192.168.50.10) known from its last sync; then unsynced unless `synced`.
 */
function remoteB(synced = false, ...objects: unknown[]): MemoryClusterState {
  const state = stateOf(...objects);
  state.calico.setRemoteObjectRanges(B, { kind: 'IPPool', name: 'b-pool' }, [{ cidr: mustParse('10.8.0.0/16') }]);
  state.calico.setRemoteObjectRanges(B, { kind: 'Node', name: 'b-node-1' }, [
    { cidr: mustParse('10.9.1.0/24') },
    { cidr: mustParse('192.168.50.10/32'), nodeAddress: true },
  ]);
  state.calico.setRemoteSync(B, { synced: true });
  if (!synced) state.calico.setRemoteSync(B, { synced: false, reason: REASON });
  return state;
}

for (const g of GROUPS) {
  describe(`remote clusters not synced (${g})`, () => {
    const fedPool = (name: string, cidr: string, extra: Record<string, unknown> = {}) =>
      pool(g, name, { cidr, disabled: true, ...extra }, { labels: { [FEDERATION_POOL_LABEL]: B } });

    describe(POOL_OVERLAP_RULE, () => {
      it("an enabled pool overlapping the remote's last known range: cannot verify, denied or warned by the policy's unsynced", () => {
        const state = remoteB();
        // Containing B's range, and within it (which would also make it a federation pool): both wait for B.
        for (const cidr of ['10.0.0.0/8', '10.8.0.0/20']) {
          const denied = run(pool(g, 'local', { cidr }), { state });
          assertDenied(denied, POOL_OVERLAP_RULE, '', CANNOT);
          assert.ok(!denied.findings.some((f) => f.message.includes('remote CIDR 10.8.0.0/16')), 'no rule ran on the stale range');
          const warned = run(pool(g, 'local', { cidr }), { state, policy: WARN_POLICY });
          assertAllowed(warned);
          assertWarned(warned, POOL_OVERLAP_RULE, '', CANNOT);
        }
        // calico-federation-pool-disabled reads the ranges containing the pool, so it waits too instead of denying on them.
        const within = run(pool(g, 'local', { cidr: '10.8.0.0/20' }), { state, policy: WARN_POLICY });
        assertWarned(within, FEDERATION_POOL_DISABLED_RULE, '', CANNOT);
        assert.deepEqual(findingsOf(run(pool(g, 'local', { cidr: '10.0.0.0/8' }), { state }), FEDERATION_POOL_DISABLED_RULE), []);
        // A labelled pool is a federation pool whatever B holds: checked as usual.
        const labelled = pool(g, 'local', { cidr: '10.8.0.0/20' }, { labels: { [FEDERATION_POOL_LABEL]: B } });
        assertDenied(run(labelled, { state, policy: WARN_POLICY }), FEDERATION_POOL_DISABLED_RULE, 'spec.disabled', 'is not disabled');
      });

      it('an enabled pool anywhere while the remote has never synced (its ranges could be anywhere)', () => {
        const state = stateOf();
        state.calico.setRemoteSync(B, { synced: false, reason: 'listing its IPPools and Nodes' });
        assertDenied(
          run(pool(g, 'local', { cidr: '172.30.0.0/16' }), { state }),
          POOL_OVERLAP_RULE,
          '',
          `the discovered ranges of remote cluster ${B} (listing its IPPools and Nodes) are not current`,
        );
        // A remote that synced once is asked only about its last known ranges.
        const known = remoteB();
        const d = run(pool(g, 'local', { cidr: '172.30.0.0/16' }), { state: known });
        assertAllowed(d);
        assert.deepEqual(unsyncedAnswers(d), []);
      });

      it('a disabled pool overlapping the last known range of the remote waits for it too', () => {
        const d = run(fedPool('b-cover', '10.8.0.0/16'), { state: remoteB() });
        assertDenied(d, POOL_OVERLAP_RULE, '', CANNOT);
      });

      it('a disabled pool not overlapping the remote is checked as usual, even when the remote never synced', () => {
        const state = remoteB(false, pool(g, 'local', { cidr: '10.200.0.0/16' }));
        state.calico.setRemoteSync('cluster-c', { synced: false, reason: 'listing its IPPools and Nodes' });
        const d = run(pool(g, 'other', { cidr: '10.200.0.0/17', disabled: true }), { state });
        assert.deepEqual(unsyncedAnswers(d), []);
        // Checked: the overlap with the local pool is denied on create, as Calico does.
        assertDenied(d, POOL_OVERLAP_RULE, 'spec.cidr', 'IPPool other (10.200.0.0/17) overlaps enabled IPPool local (10.200.0.0/16)');
        assertAllowed(run(pool(g, 'other', { cidr: '10.201.0.0/16', disabled: true }), { state }));
      });

      it("once the remote is synced again, the overlap is denied naming the remote's object", () => {
        const state = remoteB();
        state.calico.setRemoteSync(B, { synced: true });
        const d = run(pool(g, 'local', { cidr: '10.8.0.0/20' }), { state });
        assert.deepEqual(unsyncedAnswers(d), []);
        assertDenied(
          d,
          POOL_OVERLAP_RULE,
          'spec.cidr',
          `IPPool local (10.8.0.0/20) lies within remote CIDR 10.8.0.0/16 discovered in remote cluster ${B} (IPPool b-pool)`,
        );
      });

      it('no remote under discovery, or discovery ended: no unsynced answer', () => {
        const state = remoteB();
        state.calico.setRemoteSync(B, undefined);
        const d = run(pool(g, 'local', { cidr: '10.8.0.0/20' }), { state });
        assert.deepEqual(unsyncedAnswers(d), []);
        assertDenied(d, POOL_OVERLAP_RULE, 'spec.cidr', 'lies within remote CIDR 10.8.0.0/16');
      });
    });

    describe(NAT_COVERAGE_RULE, () => {
      it('turning NAT on while a remote is unsynced: cannot verify (every remote range of the family would need covering)', () => {
        const state = remoteB(false, pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16' }));
        const d = run(pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true }), {
          state,
          oldObject: pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16' }),
        });
        assertDenied(d, NAT_COVERAGE_RULE, '', CANNOT);
        // pool-overlap has nothing to ask of B here: the pool is far from B's ranges and B synced once.
        assert.deepEqual(findingsOf(d, POOL_OVERLAP_RULE), []);
        const warned = run(pool(g, 'p', { cidr: '10.244.0.0/16', natOutgoing: true }), { state: remoteB(), policy: WARN_POLICY });
        assertAllowed(warned);
        assertWarned(warned, NAT_COVERAGE_RULE, '', CANNOT);
      });

      it('a pool change that is not about NAT is checked as usual', () => {
        const stored = pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true });
        const state = remoteB(false, stored);
        const relabelled = pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true }, { labels: { team: 'net' } });
        const d = run(relabelled, { state, oldObject: stored });
        assertAllowed(d);
        assert.deepEqual(unsyncedAnswers(d), []);
        // Turning NAT off is not about coverage either.
        const off = run(pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16' }), { state, oldObject: stored });
        assertAllowed(off);
        assert.deepEqual(unsyncedAnswers(off), []);
      });

      it('taking coverage of the remote away while NAT is on waits for it', () => {
        const cover = fedPool('b-cover', '10.8.0.0/16');
        const state = remoteB(false, pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true }), cover);
        const d = run(fedPool('b-cover', '10.8.0.0/16', { allowedUses: ['LoadBalancer'] }), { state, oldObject: cover });
        assertDenied(d, NAT_COVERAGE_RULE, '', CANNOT);
      });
    });

    describe('RemoteClusterConfiguration rules', () => {
      it('never answer unsynced because of a remote: an RCC update for the remote while it is down is allowed', () => {
        const state = remoteB(false, pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true }));
        const old = rcc(g, B, K8S, { annotations: { [REMOTE_CIDRS_ANNOTATION]: '10.8.0.0/16' } });
        const renewed = rcc(
          g,
          B,
          { ...K8S, kubeconfig: '/etc/k/cluster-b-rotated' },
          { annotations: { [REMOTE_CIDRS_ANNOTATION]: '10.8.0.0/16' } },
        );
        for (const policy of [DEFAULT_POLICY, WARN_POLICY]) {
          const d = run(renewed, { state, oldObject: old, policy });
          assertAllowed(d);
          assert.deepEqual(unsyncedAnswers(d), []);
          assert.ok(!d.findings.some((f) => f.message.includes('cannot verify')), JSON.stringify(d.findings));
        }
        const created = run(rcc(g, B, K8S), { state });
        assertAllowed(created);
        assert.deepEqual(unsyncedAnswers(created), []);
      });
    });

    describe('discovered node addresses', () => {
      it("an enabled local pool containing a remote Node's address is denied naming the Node", () => {
        const state = remoteB(true);
        assertDenied(
          run(pool(g, 'local', { cidr: '192.168.50.0/24' }), { state }),
          POOL_OVERLAP_RULE,
          'spec.cidr',
          `IPPool local (192.168.50.0/24) contains 192.168.50.10, a node address discovered in remote cluster ${B} (Node b-node-1)`,
        );
        assertNoFindings(run(pool(g, 'local', { cidr: '192.168.51.0/24' }), { state }), POOL_OVERLAP_RULE);
      });

      it('turning NAT on asks to cover discovered pod ranges (IPPools, podCIDRs), never node addresses', () => {
        const before = pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16' });
        const natOn = pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true });
        // Only B's pod ranges covered: the node address is left uncovered, and that is fine.
        const covered = remoteB(true, before, fedPool('b-pods', '10.8.0.0/16'), fedPool('b-node-pods', '10.9.1.0/24'));
        const ok = run(natOn, { state: covered, oldObject: before });
        assertAllowed(ok);
        assertNoFindings(ok, NAT_COVERAGE_RULE);
        // The pod ranges uncovered: each is asked for, by the object it was discovered from, and the node address still is not.
        const uncovered = remoteB(true, before);
        const d = run(natOn, { state: uncovered, oldObject: before });
        assertDenied(
          d,
          NAT_COVERAGE_RULE,
          'spec.natOutgoing',
          `remote CIDR 10.8.0.0/16 of remote cluster ${B} (discovered from its IPPool b-pool) is not covered by any local IPPool`,
        );
        assertDenied(
          d,
          NAT_COVERAGE_RULE,
          'spec.natOutgoing',
          `remote CIDR 10.9.1.0/24 of remote cluster ${B} (discovered from its Node b-node-1) is not covered by any local IPPool`,
        );
        assert.equal(findingsOf(d, NAT_COVERAGE_RULE).length, 2, JSON.stringify(findingsOf(d, NAT_COVERAGE_RULE), null, 1));
        assert.ok(!d.findings.some((f) => f.message.includes('192.168.50.10')));
      });

      it("the RCC's NAT check and taking coverage away leave node addresses out too", () => {
        const natPool = pool(g, 'default-ipv4-ippool', { cidr: '10.244.0.0/16', natOutgoing: true });
        const state = remoteB(true, natPool, fedPool('b-pods', '10.8.0.0/16'), fedPool('b-node-pods', '10.9.1.0/24'));
        const r = run(rcc(g, B, K8S), { state });
        assertAllowed(r);
        assertNoFindings(r, NAT_COVERAGE_RULE);
        // A pool covering only the node address may stop covering it while NAT is on.
        const nodeCover = fedPool('b-node-addr', '192.168.50.0/24');
        state.apply(nodeCover);
        const lb = run(fedPool('b-node-addr', '192.168.50.0/24', { allowedUses: ['LoadBalancer'] }), { state, oldObject: nodeCover });
        assertNoFindings(lb, NAT_COVERAGE_RULE);
        // While the pod range one is refused.
        const podCover = fedPool('b-node-pods', '10.9.1.0/24');
        assertDenied(
          run(fedPool('b-node-pods', '10.9.1.0/24', { allowedUses: ['LoadBalancer'] }), { state, oldObject: podCover }),
          NAT_COVERAGE_RULE,
          'spec.allowedUses',
          'no longer covers 10.9.1.0/24',
        );
      });
    });
  });
}
