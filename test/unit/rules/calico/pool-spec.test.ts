import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POOL_SPEC_RULE } from '../../../../src/rules/calico/pool-spec.js';
import { assertAllowed, assertDenied, assertNoFindings, findingsOf, GROUPS, pool, run } from './_helpers.js';

const R = POOL_SPEC_RULE;

for (const g of GROUPS) {
  describe(`${R} (${g})`, () => {
    const check = (spec: Record<string, unknown>, oldSpec?: Record<string, unknown>) =>
      run(pool(g, 'p', spec), oldSpec ? { oldObject: pool(g, 'p', oldSpec) } : {});

    describe('allows', () => {
      const ok: [string, Record<string, unknown>][] = [
        ['an IPv4 pool with defaults', { cidr: '10.244.0.0/16' }],
        ['an IPv6 pool with defaults', { cidr: 'fd00:10:244::/56' }],
        ['IPv4 block sizes 20 and 32', { cidr: '10.0.0.0/16', blockSize: 20 }],
        ['a /32 block on a /32 pool', { cidr: '10.0.0.1/32', blockSize: 32 }],
        ['IPv6 block sizes 116 and 128', { cidr: 'fd00::/112', blockSize: 116 }],
        ['a /128 block', { cidr: 'fd00::/120', blockSize: 128 }],
        ['blockSize 0 as unset', { cidr: '10.0.0.0/16', blockSize: 0 }],
        ['a disabled pool smaller than its block', { cidr: '192.168.0.0/28', disabled: true }],
        ['a pool exactly one block large', { cidr: '10.0.0.0/26' }],
        ['an IPv6 pool exactly one block large', { cidr: 'fd00::/122' }],
        ['VXLAN with IPIP Never', { cidr: '10.0.0.0/16', vxlanMode: 'Always', ipipMode: 'Never' }],
        ['IPIP CrossSubnet with VXLAN Never', { cidr: '10.0.0.0/16', ipipMode: 'CrossSubnet', vxlanMode: 'Never' }],
        ['VXLAN on IPv6', { cidr: 'fd00::/48', vxlanMode: 'CrossSubnet', ipipMode: 'Never' }],
        ['empty mode strings as unset', { cidr: '10.0.0.0/16', ipipMode: '', vxlanMode: '' }],
        ['known allowedUses and assignmentMode', { cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Tunnel'], assignmentMode: 'Automatic' }],
        ['a LoadBalancer pool with Manual assignment', { cidr: '203.0.113.0/24', allowedUses: ['LoadBalancer'], assignmentMode: 'Manual' }],
        ['a pool next to link-local', { cidr: '169.253.0.0/16' }],
        ['an IPv6 pool next to link-local', { cidr: 'fec0::/10' }],
      ];
      for (const [name, spec] of ok) {
        it(name, () => {
          const d = check(spec);
          assertNoFindings(d, R);
          assertAllowed(d);
        });
      }
    });

    it('requires a CIDR', () => {
      assertDenied(check({}), R, 'spec.cidr', 'needs a CIDR');
      assertDenied(check({ cidr: '' }), R, 'spec.cidr', 'needs a CIDR');
      assertDenied(run({ apiVersion: g, kind: 'IPPool', metadata: { name: 'p' } }), R, 'spec.cidr');
    });

    it('denies a CIDR that does not parse', () => {
      for (const bad of ['10.0.0.0/33', '10.1/16', 'fd00::/129', 'fe80::%eth0/64', 'ten/8']) {
        assertDenied(check({ cidr: bad }), R, 'spec.cidr', JSON.stringify(bad));
      }
    });

    it('denies a CIDR that is not strictly masked and gives the masked form', () => {
      assertDenied(check({ cidr: '10.0.0.5/24' }), R, 'spec.cidr', '"10.0.0.5/24"', 'write 10.0.0.0/24');
      assertDenied(check({ cidr: 'fd00:10:244::1/56' }), R, 'spec.cidr', 'write fd00:10:244::/56');
    });

    it('denies block sizes out of range for the family', () => {
      for (const bs of [19, 33, 122, -1])
        assertDenied(check({ cidr: '10.0.0.0/16', blockSize: bs }), R, 'spec.blockSize', `block size ${bs}`, '20 to 32 (default 26)');
      for (const bs of [115, 129, 26])
        assertDenied(check({ cidr: 'fd00::/48', blockSize: bs }), R, 'spec.blockSize', '116 to 128 (default 122)');
    });

    it('denies an enabled pool smaller than one block (default sizes too)', () => {
      assertDenied(
        check({ cidr: '10.0.0.0/27' }),
        R,
        'spec.cidr',
        'enabled IPPool p (10.0.0.0/27) is smaller than one /26 block',
        'disabled: true',
      );
      assertDenied(check({ cidr: '10.0.0.0/24', blockSize: 20 }), R, 'spec.cidr', '/20 block');
      assertDenied(check({ cidr: 'fd00::/123' }), R, 'spec.cidr', 'smaller than one /122 block');
      assertDenied(check({ cidr: 'fd00::/120', blockSize: 118 }), R, 'spec.cidr', 'blockSize to at least 120');
    });

    it('denies unknown encapsulation modes', () => {
      assertDenied(check({ cidr: '10.0.0.0/16', ipipMode: 'always' }), R, 'spec.ipipMode', '"always"', 'Never, Always and CrossSubnet');
      assertDenied(check({ cidr: '10.0.0.0/16', vxlanMode: 'On' }), R, 'spec.vxlanMode', '"On"');
    });

    it('denies IPIP and VXLAN together', () => {
      assertDenied(
        check({ cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }),
        R,
        'spec.ipipMode',
        'cannot both be enabled',
      );
    });

    it('denies IPIP on IPv6', () => {
      const d = check({ cidr: 'fd00::/48', ipipMode: 'Always' });
      assertDenied(d, R, 'spec.ipipMode', 'IPv6');
    });

    it('denies overlap with the link-local ranges', () => {
      assertDenied(check({ cidr: '169.254.0.0/16' }), R, 'spec.cidr', '169.254.0.0/16');
      assertDenied(check({ cidr: '169.254.10.0/24' }), R, 'spec.cidr', 'IPv4 link-local');
      assertDenied(check({ cidr: '169.0.0.0/8' }), R, 'spec.cidr', 'IPv4 link-local');
      assertDenied(check({ cidr: 'fe80::/64' }), R, 'spec.cidr', 'IPv6 link-local range fe80::/10');
      assertDenied(check({ cidr: 'fe00::/7' }), R, 'spec.cidr', 'IPv6 link-local');
    });

    it('denies unknown allowedUses and assignment modes', () => {
      const d = check({ cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Service'] });
      assertDenied(d, R, 'spec.allowedUses[1]', '"Service"', 'Workload, Tunnel and LoadBalancer');
      assert.equal(findingsOf(d, R).length, 1);
      assertDenied(check({ cidr: '10.0.0.0/16', assignmentMode: 'Auto' }), R, 'spec.assignmentMode', '"Auto"', 'Automatic and Manual');
    });

    describe('on UPDATE', () => {
      it('allows unchanged CIDR and block size, however spelt', () => {
        assertAllowed(check({ cidr: 'fd00:10::/48', blockSize: 122, vxlanMode: 'Always' }, { cidr: 'FD00:0010:0::/48' }));
        assertAllowed(check({ cidr: '10.0.0.0/16' }, { cidr: '10.0.0.0/16', blockSize: 26 }));
        assertAllowed(check({ cidr: '10.0.0.0/16', disabled: true }, { cidr: '10.0.0.0/16' }));
      });

      it('denies a changed CIDR', () => {
        assertDenied(check({ cidr: '10.0.0.0/15' }, { cidr: '10.0.0.0/16' }), R, 'spec.cidr', 'cannot change', '10.0.0.0/16');
        assertDenied(check({ cidr: 'fd00:11::/48' }, { cidr: 'fd00:10::/48' }), R, 'spec.cidr', 'cannot change', 'fd00:10::/48');
      });

      it('denies a changed block size, the default included', () => {
        assertDenied(
          check({ cidr: '10.0.0.0/16', blockSize: 24 }, { cidr: '10.0.0.0/16' }),
          R,
          'spec.blockSize',
          'cannot change (it is 26)',
        );
        assertDenied(check({ cidr: 'fd00::/48' }, { cidr: 'fd00::/48', blockSize: 120 }), R, 'spec.blockSize', 'cannot change (it is 120)');
      });

      it('lets a pool whose stored CIDR never parsed be corrected', () => {
        assertAllowed(check({ cidr: '10.0.0.0/16' }, { cidr: '10.0.0.0/99' }));
      });
    });

    it('never repeats the field path in its messages', () => {
      const d = check({ cidr: '10.0.0.5/27', blockSize: 40, ipipMode: 'x', allowedUses: ['y'], assignmentMode: 'z' });
      assert.ok(findingsOf(d, R).length >= 5);
      for (const f of findingsOf(d, R)) assert.ok(!f.message.includes(f.field), f.message);
    });
  });
}
