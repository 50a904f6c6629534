import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  cidrContains,
  cidrOf,
  cidrOverlaps,
  FAMILY_WIDTH,
  maskBits,
  mustParse,
  parseCidr,
  parseCidrList,
  type IpFamily,
} from '../../../src/net/cidr/cidr.js';

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 CIDRs into family, masked bits and prefix length', () => {
    const v4 = mustParse('10.244.0.0/16');
    assert.equal(v4.family, 4);
    assert.equal(v4.prefixLength, 16);
    assert.equal(v4.bits, (10n << 24n) | (244n << 16n));
    assert.equal(v4.canonical, '10.244.0.0/16');
    assert.equal(v4.strictlyMasked, true);

    const v6 = mustParse('2001:DB8:0::/32');
    assert.equal(v6.family, 6);
    assert.equal(v6.prefixLength, 32);
    assert.equal(v6.bits, 0x20010db8n << 96n);
    assert.equal(v6.canonical, '2001:db8::/32');
  });

  it('masks host bits and reports them', () => {
    const r = parseCidr('10.0.0.5/24');
    assert.ok(r.ok);
    assert.equal(r.cidr.canonical, '10.0.0.0/24');
    assert.equal(r.cidr.strictlyMasked, false);
    const r6 = parseCidr('fd00::1/64');
    assert.ok(r6.ok);
    assert.equal(r6.cidr.canonical, 'fd00::/64');
    assert.equal(r6.cidr.strictlyMasked, false);
  });

  it('accepts the extremes /0, /32 and /128', () => {
    assert.equal(mustParse('0.0.0.0/0').bits, 0n);
    assert.equal(mustParse('::/0').prefixLength, 0);
    assert.equal(mustParse('255.255.255.255/32').bits, 0xffffffffn);
    assert.equal(mustParse('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128').bits, (1n << 128n) - 1n);
  });

  it('accepts a bare address as a host prefix only when asked', () => {
    assert.equal(parseCidr('10.0.0.1').ok, false);
    const r = parseCidr('10.0.0.1', { allowBareAddress: true });
    assert.ok(r.ok);
    assert.equal(r.cidr.canonical, '10.0.0.1/32');
    const r6 = parseCidr('fd00::1', { allowBareAddress: true });
    assert.ok(r6.ok);
    assert.equal(r6.cidr.canonical, 'fd00::1/128');
  });

  it('rejects what Go net.ParseCIDR rejects and ipaddr.js would accept', () => {
    for (const bad of [
      '10.1/16',
      '010.0.0.0/8',
      '0x0a.0.0.0/8',
      'fe80::1%eth0/64',
      '10.0.0.0/08',
      '10.0.0.0/ 8',
      ' 10.0.0.0/8',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/-1',
      '',
      '/24',
      'abc/8',
      '10.0.0.0/8/8',
    ]) {
      assert.equal(parseCidr(bad, { allowBareAddress: true }).ok, false, bad);
    }
  });

  it('treats an IPv4-mapped IPv6 prefix as IPv6', () => {
    const r = mustParse('::ffff:10.0.0.0/104');
    assert.equal(r.family, 6);
  });
});

describe('containment and overlap', () => {
  it('overlap is containment either way, within one family', () => {
    const a = mustParse('10.0.0.0/8');
    const b = mustParse('10.244.0.0/16');
    const c = mustParse('11.0.0.0/8');
    assert.ok(cidrContains(a, b));
    assert.ok(!cidrContains(b, a));
    assert.ok(cidrOverlaps(a, b) && cidrOverlaps(b, a));
    assert.ok(!cidrOverlaps(a, c));
    assert.ok(cidrContains(a, a));
    assert.ok(!cidrOverlaps(mustParse('0.0.0.0/0'), mustParse('::/0')));
    assert.ok(cidrOverlaps(mustParse('fd00::/8'), mustParse('fd00:10::/32')));
    assert.ok(!cidrOverlaps(mustParse('fd00::/16'), mustParse('fd01::/16')));
  });

  it('keeps the prefix bits as text: the network, masked, one character per bit', () => {
    assert.equal(mustParse('10.0.0.0/8').prefix, '00001010');
    assert.equal(mustParse('10.128.0.0/9').prefix, '000010101');
    assert.equal(mustParse('0.0.0.0/0').prefix, '');
    assert.equal(mustParse('::/0').prefix, '');
    assert.equal(mustParse('fd00::/12').prefix, '111111010000');
    assert.equal(mustParse('255.255.255.255/32').prefix, '1'.repeat(32));
    assert.equal(mustParse('::1/128').prefix, `${'0'.repeat(127)}1`);
    // Host bits are cleared first: 10.0.0.5/30 is the block 10.0.0.4/30.
    const r = parseCidr('10.0.0.5/30');
    assert.ok(r.ok);
    assert.equal(r.cidr.prefix, `00001010${'0'.repeat(16)}000001`);
  });

  it('agrees with masking the integers, for random blocks of both families', () => {
    const block = fc.oneof(
      fc.record({
        family: fc.constant<IpFamily>(4),
        raw: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
        len: fc.integer({ min: 0, max: 32 }),
      }),
      fc.record({
        family: fc.constant<IpFamily>(6),
        raw: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        len: fc.integer({ min: 0, max: 128 }),
      }),
    );
    // Pairs often nested: the second block is the first with a longer or shorter prefix.
    const pair = fc.oneof(
      fc.tuple(block, block),
      fc
        .tuple(block, fc.integer({ min: -8, max: 8 }))
        .map(([b, d]) => [b, { ...b, len: Math.max(0, Math.min(FAMILY_WIDTH[b.family], b.len + d)) }] as const),
    );
    fc.assert(
      fc.property(pair, ([x, y]) => {
        const a = cidrOf(x.family, x.raw, x.len);
        const b = cidrOf(y.family, y.raw, y.len);
        const width = FAMILY_WIDTH[b.family];
        assert.equal(
          a.prefix,
          a.prefixLength === 0 ? '' : (a.bits >> BigInt(FAMILY_WIDTH[a.family] - a.prefixLength)).toString(2).padStart(a.prefixLength, '0'),
        );
        const masked = a.family === b.family && a.prefixLength <= b.prefixLength && maskBits(b.bits, width, a.prefixLength) === a.bits;
        assert.equal(cidrContains(a, b), masked);
        assert.equal(mustParse(a.canonical).prefix, a.prefix, 'the canonical text parses back to the same block');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseCidrList', () => {
  it('splits, trims, skips empty entries and reports bad ones by position', () => {
    const r = parseCidrList(' 10.8.0.0/16,fd00:8::/56 , ,nope, 10.9.0.0/40,');
    assert.deepEqual(
      r.cidrs.map((c) => [c.written, c.cidr.canonical]),
      [
        ['10.8.0.0/16', '10.8.0.0/16'],
        ['fd00:8::/56', 'fd00:8::/56'],
      ],
    );
    assert.deepEqual(
      r.errors.map((e) => [e.position, e.entry]),
      [
        [4, 'nope'],
        [5, '10.9.0.0/40'],
      ],
    );
  });
});
