/**
 * The Calico API v1 spellings of a crd.projectcalico.org/v1 IPPool (`ipip`,
 * `nat-outgoing`), read as Calico v3.31's Kubernetes backend reads them
 * (libcalico-go/lib/backend/k8s/resources/ippool.go
 * `IPPoolv1v3Converter.ConvertFromK8s`). The table is the one of Calico's
 * own test, libcalico-go/lib/clientv3/ippool_kdd_conversion_test.go (v3.31.7,
 * "IPPool CRD with v1 IPIP field tests"): backend object in, v3 spec out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEDERATION_POOL_LABEL, IPPool } from '../../../src/kube/calico.js';
import { FEDERATION_POOL_DISABLED_RULE } from '../../../src/rules/calico/federation-pool-disabled.js';
import { POOL_SPEC_RULE } from '../../../src/rules/calico/pool-spec.js';
import { assertAllowed, assertDenied, assertNoFindings, pool, run } from '../rules/calico/_helpers.js';

const CRD = 'crd.projectcalico.org/v1';
const V3 = 'projectcalico.org/v3';

/** [Calico's entry name, backend spec, expected ipipMode, expected natOutgoing]. */
const CALICO_TABLE: [string, Record<string, unknown>, string, boolean][] = [
  [
    'IPv4 IPPool CRD with v1 IPIP field and IPIP Enabled set to true and Mode CrossSubnet',
    { cidr: '1.2.3.0/24', natOutgoing: true, vxlanMode: 'Never', ipip: { enabled: true, mode: 'cross-subnet' } },
    'CrossSubnet',
    true,
  ],
  [
    'IPv6 IPPool CRD with v1 IPIP field and IPIP Enabled set to false and Mode Never',
    { cidr: '2001::/120', natOutgoing: true, blockSize: 122, vxlanMode: 'Never', ipip: { enabled: false } },
    'Never',
    true,
  ],
  [
    'IPv4 IPPool CRD with v1 IPIP field and IPIP Enabled set to true and Mode Always',
    { cidr: '1.1.1.0/24', vxlanMode: 'Never', ipip: { enabled: true } },
    'Always',
    false,
  ],
  [
    'IPv4 IPPool CRD with v1 NATOutgoingV1 field set to false and v3 NATOutgoing set to true',
    { cidr: '1.2.3.0/24', vxlanMode: 'Never', ipip: { enabled: true, mode: 'always' }, natOutgoing: true, 'nat-outgoing': false },
    'Always',
    true,
  ],
  [
    'IPv4 IPPool CRD with v1 NATOutgoingV1 field set to true (v1 IPIP set to nil) and v3 NATOutgoing set to false',
    { cidr: '1.2.3.0/24', vxlanMode: 'Never', ipipMode: 'CrossSubnet', natOutgoing: false, 'nat-outgoing': true, nodeSelector: 'has(x)' },
    'CrossSubnet',
    true,
  ],
];

function decode(apiVersion: string, spec: Record<string, unknown>): IPPool {
  return IPPool.parse({ apiVersion, kind: 'IPPool', metadata: { name: 'ippool-1' }, spec });
}

describe('IPPool legacy spellings (crd.projectcalico.org/v1)', () => {
  for (const [name, spec, ipipMode, natOutgoing] of CALICO_TABLE) {
    it(`maps them as Calico does: ${name}`, () => {
      const raw = structuredClone(spec);
      const p = decode(CRD, spec);
      assert.equal(p.spec?.ipipMode, ipipMode);
      assert.equal(p.spec?.natOutgoing ?? false, natOutgoing);
      assert.deepEqual(spec, raw, 'the raw object is not changed');
      assert.deepEqual(IPPool.parse(p), p, 'decoding the result again changes nothing');
    });
  }

  it('lets a legacy ipip override ipipMode, and any mode but cross-subnet mean Always', () => {
    assert.equal(decode(CRD, { cidr: '1.2.3.0/24', ipipMode: 'Always', ipip: { enabled: false } }).spec?.ipipMode, 'Never');
    assert.equal(decode(CRD, { cidr: '1.2.3.0/24', ipipMode: 'Never', ipip: { enabled: true, mode: 'x' } }).spec?.ipipMode, 'Always');
    assert.equal(decode(CRD, { cidr: '1.2.3.0/24', ipipMode: 'Always', ipip: {} }).spec?.ipipMode, 'Never');
  });

  it('leaves projectcalico.org/v3 objects and objects without legacy fields as written', () => {
    const v3 = decode(V3, { cidr: '1.2.3.0/24', ipipMode: 'Never', ipip: { enabled: true }, 'nat-outgoing': true });
    assert.equal(v3.spec?.ipipMode, 'Never');
    assert.equal(v3.spec?.natOutgoing, undefined);
    const plain = decode(CRD, { cidr: '1.2.3.0/24', ipipMode: 'Always' });
    assert.equal(plain.spec?.ipipMode, 'Always');
  });

  it('lets every rule see the mapped value: a federation pool with nat-outgoing is denied at that field', () => {
    const fed = (apiVersion: typeof CRD | typeof V3) =>
      pool(
        apiVersion,
        'cluster1-main-pool',
        { cidr: '192.168.0.0/18', disabled: true, 'nat-outgoing': true },
        {
          labels: { [FEDERATION_POOL_LABEL]: 'cluster1' },
        },
      );
    assertDenied(run(fed(CRD)), FEDERATION_POOL_DISABLED_RULE, 'spec.nat-outgoing', 'remove nat-outgoing', 'natOutgoing on');
    const d = run(fed(V3));
    assert.ok(!d.findings.some((f) => f.rule === FEDERATION_POOL_DISABLED_RULE && f.action === 'deny'), JSON.stringify(d.findings));
  });

  it('lets pool-spec see a legacy IPIP on an IPv6 pool, and report it at spec.ipip', () => {
    const v6 = { cidr: 'fd00:10::/64', ipip: { enabled: true } };
    assertDenied(run(pool(CRD, 'v6', v6)), POOL_SPEC_RULE, 'spec.ipip', 'IPIP is not supported on an IPv6 pool', 'ipip.enabled');
    assertNoFindings(run(pool(V3, 'v6', v6)), POOL_SPEC_RULE);
    assertAllowed(run(pool(CRD, 'v6', { cidr: 'fd00:10::/64', ipip: { enabled: false }, ipipMode: 'Always' })));
    assertDenied(
      run(pool(CRD, 'both', { cidr: '10.9.0.0/16', vxlanMode: 'Always', ipip: { enabled: true, mode: 'cross-subnet' } })),
      POOL_SPEC_RULE,
      'spec.ipip',
      'IPIP (CrossSubnet) and VXLAN (Always)',
    );
  });

  it('makes no patch from the mapping', () => {
    const d = run(pool(CRD, 'p', { cidr: '10.9.0.0/16', ipip: { enabled: true }, 'nat-outgoing': true }));
    assertAllowed(d);
    assert.deepEqual(d.patch, []);
  });
});
