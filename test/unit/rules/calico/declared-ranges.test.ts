/**
 * `calico-declared-ranges`: the remote CIDRs an RCC declares agree with what
 * federation discovery found in that remote cluster, checked only while the
 * remote is under discovery and synced, and never more than a warning.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditState } from '../../../../src/cli/audit.js';
import { Engine } from '../../../../src/engine/engine.js';
import { REMOTE_CIDRS_ANNOTATION } from '../../../../src/kube/calico.js';
import { mustParse } from '../../../../src/net/cidr/cidr.js';
import { DECLARED_RANGES_RULE } from '../../../../src/rules/calico/declared-ranges.js';
import { calicoRules } from '../../../../src/rules/calico/index.js';
import type { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { stateOf } from '../../../helpers/engine.js';
import { assertAllowed, assertNoFindings, assertWarned, findingsOf, GROUPS, rcc, run } from './_helpers.js';

const R = DECLARED_RANGES_RULE;
const ANNOTATION_FIELD = `metadata.annotations[${REMOTE_CIDRS_ANNOTATION}]`;
const K8S = { datastoreType: 'kubernetes', kubeconfig: '/etc/k/cluster1', syncOptions: { overlayRoutingMode: 'Disabled' } };

/** A state holding discovered ranges of remote cluster `cluster1` (its IPPools and Nodes as given): synced unless told, `null`: not under discovery. */
function discovered(
  pools: Record<string, string>,
  nodes: Record<string, { podCIDRs?: string[]; addresses?: string[] }> = {},
  sync: { synced: true } | { synced: false; reason: string } | null = { synced: true },
): MemoryClusterState {
  const state = stateOf();
  for (const [name, cidr] of Object.entries(pools)) {
    state.calico.setRemoteObjectRanges('cluster1', { kind: 'IPPool', name }, [{ cidr: mustParse(cidr) }]);
  }
  for (const [name, n] of Object.entries(nodes)) {
    state.calico.setRemoteObjectRanges('cluster1', { kind: 'Node', name }, [
      ...(n.podCIDRs ?? []).map((c) => ({ cidr: mustParse(c) })),
      ...(n.addresses ?? []).map((c) => ({ cidr: mustParse(c), nodeAddress: true })),
    ]);
  }
  if (sync) state.calico.setRemoteSync('cluster1', sync);
  return state;
}

for (const g of GROUPS) {
  describe(`${R} (${g})`, () => {
    const declaring = (cidrs: string) => rcc(g, 'cluster1', K8S, { annotations: { [REMOTE_CIDRS_ANNOTATION]: cidrs } });

    describe('allows', () => {
      it('a declaration that matches the discovered IPPools and node pod CIDRs, however it is split', () => {
        const state = discovered(
          { 'default-ipv4-ippool': '10.8.0.0/16', 'default-ipv6-ippool': 'fd00:8::/48' },
          { 'node-a': { podCIDRs: ['10.9.1.0/24'] } },
        );
        // The pool's /16 declared as two /17s is declared all the same; the node's /24 lies within the declared /16.
        for (const declared of ['10.8.0.0/16, 10.9.0.0/16, fd00:8::/48', '10.8.0.0/17, 10.8.128.0/17, 10.9.0.0/16, fd00:8::/48']) {
          const d = run(declaring(declared), { state });
          assertAllowed(d);
          assertNoFindings(d, R);
        }
      });

      it('says nothing while the remote cluster is not under discovery, even with ranges held for it', () => {
        const state = discovered({ 'default-ipv4-ippool': '10.8.0.0/16' }, {}, null);
        assertNoFindings(run(declaring('10.50.0.0/16'), { state }), R);
        // Under discovery and synced, the same declaration is reported: the test above is not vacuous.
        state.calico.setRemoteSync('cluster1', { synced: true });
        assertWarned(run(declaring('10.50.0.0/16'), { state }), R, ANNOTATION_FIELD, 'declared remote CIDR 10.50.0.0/16');
      });

      it('says nothing while the remote cluster is unsynced (its ranges may be stale), and does not answer "cannot verify" either', () => {
        const state = discovered({ 'default-ipv4-ippool': '10.8.0.0/16' }, {}, { synced: false, reason: 'its API server does not answer' });
        const d = run(declaring('10.50.0.0/16'), { state });
        assertAllowed(d);
        assertNoFindings(d, R);
        assert.ok(!d.findings.some((f) => f.message.includes('cannot verify')), JSON.stringify(d.findings));
        // Back in sync, the drift shows.
        state.calico.setRemoteSync('cluster1', { synced: true });
        assertWarned(run(declaring('10.50.0.0/16'), { state }), R, ANNOTATION_FIELD, 'declared remote CIDR 10.50.0.0/16');
      });

      it('says nothing about an RCC without the annotation (discovery alone is fine)', () => {
        const state = discovered({ 'default-ipv4-ippool': '10.8.0.0/16' });
        assertNoFindings(run(rcc(g, 'cluster1', K8S), { state }), R);
      });
    });

    describe('warns', () => {
      it('about a declared CIDR that matches nothing discovered, at the annotation, without denying', () => {
        const state = discovered({ 'default-ipv4-ippool': '10.8.0.0/16' });
        const d = run(declaring('10.8.0.0/16, 10.50.0.0/16'), { state });
        assertAllowed(d);
        assertWarned(
          d,
          R,
          ANNOTATION_FIELD,
          `declared remote CIDR 10.50.0.0/16 of remote cluster cluster1 matches no IPPool or node pod CIDR discovered there; remove it from ${REMOTE_CIDRS_ANNOTATION}`,
        );
        assert.equal(findingsOf(d, R).length, 1, JSON.stringify(findingsOf(d, R)));
      });

      it('about a discovered pool or node pod CIDR that is not declared, naming the remote object', () => {
        const state = discovered(
          { 'default-ipv4-ippool': '10.8.0.0/16', 'extra-pool': '10.20.0.0/16' },
          { 'node-b': { podCIDRs: ['10.30.0.0/24'] } },
        );
        const d = run(declaring('10.8.0.0/16'), { state });
        assertAllowed(d);
        assertWarned(
          d,
          R,
          ANNOTATION_FIELD,
          `remote cluster cluster1 uses 10.20.0.0/16 (its IPPool extra-pool), which ${REMOTE_CIDRS_ANNOTATION} does not declare`,
        );
        assertWarned(d, R, ANNOTATION_FIELD, 'remote cluster cluster1 uses 10.30.0.0/24 (its Node node-b)');
        assert.equal(findingsOf(d, R).length, 2);
        assert.ok(findingsOf(d, R).every((f) => f.action === 'warn'));
      });

      it('does not compare node addresses: a Node address outside every declared CIDR is not undeclared, nor does it match a declared CIDR', () => {
        const state = discovered(
          { 'default-ipv4-ippool': '10.8.0.0/16' },
          { 'node-a': { podCIDRs: ['10.8.1.0/24'], addresses: ['192.168.1.10/32', 'fd00:99::10/128'] } },
        );
        assertNoFindings(run(declaring('10.8.0.0/16'), { state }), R);
        // A declared CIDR holding only node addresses matches no pod range there.
        assertWarned(run(declaring('10.8.0.0/16, 192.168.1.0/24'), { state }), R, ANNOTATION_FIELD, 'declared remote CIDR 192.168.1.0/24');
      });

      it('lists at most 5 of each kind, then says how many more', () => {
        const pools: Record<string, string> = {};
        for (let i = 0; i < 8; i++) pools[`pool-${i}`] = `10.${100 + i}.0.0/16`;
        const state = discovered(pools);
        const declared = Array.from({ length: 7 }, (_, i) => `172.16.${i}.0/24`).join(', ');
        const d = run(declaring(declared), { state });
        assertAllowed(d);
        const found = findingsOf(d, R);
        assert.equal(found.length, 12, JSON.stringify(found, null, 1));
        assert.equal(found.filter((f) => f.message.startsWith('declared remote CIDR')).length, 5);
        assert.equal(found.filter((f) => f.message.startsWith('remote cluster cluster1 uses')).length, 5);
        assertWarned(d, R, ANNOTATION_FIELD, 'and 2 more declared CIDRs that match nothing discovered not listed here');
        assertWarned(d, R, ANNOTATION_FIELD, 'and 3 more ranges of remote cluster cluster1 that are not declared not listed here');
      });

      it('is reported by the audit when the remote side changes (nothing local is admitted then)', () => {
        const state = discovered({ 'default-ipv4-ippool': '10.8.0.0/16' });
        const r = state.apply(declaring('10.8.0.0/16'));
        assert.notEqual(r.status, 'invalid');
        const engine = new Engine(calicoRules, { operatorNamespace: 'elastic-system' });
        const audited = () =>
          auditState(state, engine)
            .results.filter((x) => x.kind === 'RemoteClusterConfiguration')
            .flatMap((x) => findingsOf(x.decision, R));
        assert.deepEqual(audited(), []);
        state.calico.setRemoteObjectRanges('cluster1', { kind: 'IPPool', name: 'added-pool' }, [{ cidr: mustParse('10.60.0.0/16') }]);
        const after = audited();
        assert.equal(after.length, 1);
        assert.match(after[0]!.message, /uses 10\.60\.0\.0\/16 \(its IPPool added-pool\)/);
      });
    });
  });
}
