import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fjp from 'fast-json-patch';
import { RCC_DATASTORE_RULE } from '../../../../src/rules/calico/rcc-datastore.js';
import { RCC_OVERLAY_DEFAULT_RULE } from '../../../../src/rules/calico/rcc-overlay-default.js';
import type { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { stateOf } from '../../../helpers/engine.js';
import { assertAllowed, assertDenied, assertNoFindings, findingsOf, GROUPS, pool, rcc, run } from './_helpers.js';

const SPEC = { datastoreType: 'kubernetes', kubeconfig: '/etc/tigera-federation-remotecluster/kubeconfig-rem-cluster-n' };
const FIELD = 'spec.syncOptions.overlayRoutingMode';

for (const g of GROUPS) {
  describe(`${RCC_OVERLAY_DEFAULT_RULE} (${g})`, () => {
    const vxlanState = () =>
      stateOf(pool(g, 'vx', { cidr: '10.244.0.0/16', vxlanMode: 'Always' }), pool(g, 'plain', { cidr: '10.1.0.0/16', vxlanMode: 'Never' }));
    const noVxlanState = () =>
      stateOf(pool(g, 'plain', { cidr: '10.1.0.0/16', vxlanMode: 'Never' }), pool(g, 'v6', { cidr: 'fd00::/48', vxlanMode: 'Never' }));

    /** Applies the patch, checks the result, then re-evaluates the patched object: no second patch. */
    function defaults(
      object: Record<string, unknown>,
      state: MemoryClusterState,
      expectedPatch: unknown,
      expectedMode: string,
      oldObject?: unknown,
    ) {
      const d = run(object, { state, oldObject });
      assertAllowed(d);
      assert.deepEqual(d.patch, expectedPatch);
      const patched = fjp.applyPatch(structuredClone(object), fjp.deepClone(d.patch), true, false).newDocument as {
        spec: { syncOptions: { overlayRoutingMode: string } };
      };
      assert.equal(patched.spec.syncOptions.overlayRoutingMode, expectedMode);
      const again = run(patched, { state, oldObject });
      assertAllowed(again);
      assert.deepEqual(again.patch, [], 'idempotent: a reinvocation yields no patch');
      return patched;
    }

    it('sets Enabled when a local pool uses VXLAN, adding syncOptions', () => {
      const patched = defaults(
        rcc(g, 'cluster-n', { ...SPEC }),
        vxlanState(),
        [{ op: 'add', path: '/spec/syncOptions', value: { overlayRoutingMode: 'Enabled' } }],
        'Enabled',
      );
      assert.equal((patched.spec as unknown as { datastoreType: string }).datastoreType, 'kubernetes', 'the rest of the spec is untouched');
    });

    /** Asserts no patch and the warning that says why (FelixConfiguration's WireGuard decides, and it is not read). */
    function notDefaulted(object: Record<string, unknown>, state: MemoryClusterState) {
      const d = run(object, { state });
      assertAllowed(d);
      assert.deepEqual(d.patch, []);
      const w = findingsOf(d, RCC_OVERLAY_DEFAULT_RULE, 'warn');
      assert.equal(w.length, 1, JSON.stringify(d.findings));
      assert.equal(w[0]!.field, FIELD);
      for (const part of [
        'not defaulted',
        'no local IPPool uses VXLAN',
        'FelixConfiguration default',
        'WireGuard',
        'set overlayRoutingMode',
      ]) {
        assert.ok(w[0]!.message.includes(part), `${part}: ${w[0]!.message}`);
      }
    }

    // Calico Enterprise's own table, the libcalico-go clientv3 tests of `defaultOverlayRoutingMode`
    // ("RemoteClusterConfig defaulting tests": the VXLAN rows are computed exactly; the rows
    // that depend on FelixConfiguration's WireGuard are not defaulted.
    it('Calico: "should default to Enabled when VXLAN pool is present" (10.0.0.0/16, vxlanMode Always)', () => {
      defaults(
        rcc(g, 'cluster-n', { ...SPEC }),
        stateOf(pool(g, 'vxlan-pool', { cidr: '10.0.0.0/16', vxlanMode: 'Always' })),
        [{ op: 'add', path: '/spec/syncOptions', value: { overlayRoutingMode: 'Enabled' } }],
        'Enabled',
      );
    });

    it('Calico: "should default to Disabled when VXLAN pool is not present" is not defaulted, since WireGuard would make it Enabled', () => {
      notDefaulted(rcc(g, 'cluster-n', { ...SPEC }), stateOf(pool(g, 'unencapsulated-pool', { cidr: '10.0.0.0/16', vxlanMode: 'Never' })));
    });

    it('does not default when every pool has vxlanMode Never (IPv6 included) or there is no pool', () => {
      notDefaulted(rcc(g, 'cluster-n', { ...SPEC }), noVxlanState());
      notDefaulted(rcc(g, 'cluster-n', { ...SPEC }), stateOf());
      notDefaulted(rcc(g, 'cluster-n', { ...SPEC, syncOptions: { overlayRoutingMode: '' } }), noVxlanState());
    });

    it('counts a pool with vxlanMode unset (and a disabled one) as VXLAN, as Calico does', () => {
      const state = stateOf(pool(g, 'old', { cidr: '192.168.0.0/18', disabled: true }));
      defaults(
        rcc(g, 'cluster-n', { ...SPEC }),
        state,
        [{ op: 'add', path: '/spec/syncOptions', value: { overlayRoutingMode: 'Enabled' } }],
        'Enabled',
      );
      const v6 = stateOf(pool(g, 'v6', { cidr: 'fd00:10::/48', vxlanMode: 'CrossSubnet' }));
      defaults(
        rcc(g, 'cluster-n', { ...SPEC }),
        v6,
        [{ op: 'add', path: '/spec/syncOptions', value: { overlayRoutingMode: 'Enabled' } }],
        'Enabled',
      );
    });

    it('adds spec when there is none', () => {
      const object = rcc(g, 'cluster-n', undefined);
      const d = run(object, { state: vxlanState(), phase: 'mutate' });
      assert.deepEqual(d.patch, [{ op: 'add', path: '/spec', value: { syncOptions: { overlayRoutingMode: 'Enabled' } } }]);
      const patched = fjp.applyPatch(structuredClone(object), fjp.deepClone(d.patch), true, false).newDocument;
      assert.deepEqual(run(patched, { state: vxlanState(), phase: 'mutate' }).patch, []);
    });

    it('adds only the field when syncOptions exists, and replaces an empty string', () => {
      defaults(
        rcc(g, 'cluster-n', { ...SPEC, syncOptions: {} }),
        vxlanState(),
        [{ op: 'add', path: '/spec/syncOptions/overlayRoutingMode', value: 'Enabled' }],
        'Enabled',
      );
      defaults(
        rcc(g, 'cluster-n', { ...SPEC, syncOptions: { overlayRoutingMode: '' } }),
        vxlanState(),
        [{ op: 'add', path: '/spec/syncOptions/overlayRoutingMode', value: 'Enabled' }],
        'Enabled',
      );
    });

    it('also defaults on UPDATE', () => {
      const old = rcc(g, 'cluster-n', { ...SPEC, syncOptions: { overlayRoutingMode: 'Disabled' } });
      defaults(
        rcc(g, 'cluster-n', { ...SPEC }),
        vxlanState(),
        [{ op: 'add', path: '/spec/syncOptions', value: { overlayRoutingMode: 'Enabled' } }],
        'Enabled',
        old,
      );
    });

    it('never changes a value that is set', () => {
      for (const mode of ['Enabled', 'Disabled']) {
        const d = run(rcc(g, 'cluster-n', { ...SPEC, syncOptions: { overlayRoutingMode: mode } }), {
          state: mode === 'Disabled' ? vxlanState() : noVxlanState(),
        });
        assertAllowed(d);
        assert.deepEqual(d.patch, []);
        assertNoFindings(d, RCC_OVERLAY_DEFAULT_RULE);
      }
    });

    it('does not patch in the validate phase', () => {
      const d = run(rcc(g, 'cluster-n', { ...SPEC }), { state: vxlanState(), phase: 'validate' });
      assertAllowed(d);
      assert.deepEqual(d.patch, []);
    });

    it('leaves an invalid value to calico-rcc-datastore, without patching it', () => {
      for (const mode of ['enabled', 'On', 'VXLAN']) {
        const d = run(rcc(g, 'cluster-n', { ...SPEC, syncOptions: { overlayRoutingMode: mode } }), { state: vxlanState() });
        assertDenied(d, RCC_DATASTORE_RULE, FIELD, JSON.stringify(mode), 'Enabled or Disabled');
        assertNoFindings(d, RCC_OVERLAY_DEFAULT_RULE);
        assert.deepEqual(d.patch, []);
      }
    });

    it('does not guess while the IPPools are not synced: no patch, a warning', () => {
      const state = vxlanState();
      state.setSynced('IPPool', false);
      const d = run(rcc(g, 'cluster-n', { ...SPEC }), { state, phase: 'mutate' });
      assertAllowed(d);
      assert.deepEqual(d.patch, []);
      assert.ok(findingsOf(d, RCC_OVERLAY_DEFAULT_RULE, 'warn').some((f) => f.message.includes('IPPool')));
    });
  });
}
