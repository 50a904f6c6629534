import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { uncoveredBlocks } from '../../../src/net/cidr/cidr-cover.js';
import { cidrContains, cidrOf, cidrOverlaps, mustParse, type Cidr } from '../../../src/net/cidr/cidr.js';

const texts = (blocks: Cidr[]) => blocks.map((b) => b.canonical);

describe('uncoveredBlocks', () => {
  it('returns the range when nothing covers it, and nothing when a block contains it', () => {
    const r = mustParse('192.168.0.0/18');
    assert.deepEqual(texts(uncoveredBlocks(r, [])), ['192.168.0.0/18']);
    assert.deepEqual(texts(uncoveredBlocks(r, [mustParse('10.0.0.0/8'), mustParse('fd00::/8')])), ['192.168.0.0/18']);
    assert.deepEqual(uncoveredBlocks(r, [mustParse('192.168.0.0/18')]), []);
    assert.deepEqual(uncoveredBlocks(r, [mustParse('192.168.0.0/16')]), []);
    assert.deepEqual(uncoveredBlocks(mustParse('0.0.0.0/0'), [mustParse('0.0.0.0/0')]), []);
  });

  it('gives the largest blocks left by the covers, in address order (IPv4 and IPv6)', () => {
    assert.deepEqual(texts(uncoveredBlocks(mustParse('192.168.0.0/18'), [mustParse('192.168.0.0/19')])), ['192.168.32.0/19']);
    assert.deepEqual(texts(uncoveredBlocks(mustParse('192.168.0.0/18'), [mustParse('192.168.16.0/20')])), [
      '192.168.0.0/20',
      '192.168.32.0/19',
    ]);
    assert.deepEqual(texts(uncoveredBlocks(mustParse('fd00:20::/48'), [mustParse('fd00:20::/49')])), ['fd00:20:0:8000::/49']);
    assert.deepEqual(texts(uncoveredBlocks(mustParse('10.0.0.0/30'), [mustParse('10.0.0.1/32')])), ['10.0.0.0/32', '10.0.0.2/31']);
  });

  // Random IPv4 ranges inside 10.0.0.0/16 and covers of /16 to /28 near them: small enough to count addresses.
  const block = (min: number, max: number) =>
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min, max })).map(([low, len]) => cidrOf(4, (10n << 24n) | BigInt(low), len));
  const cases = fc.tuple(block(16, 24), fc.array(block(16, 28), { maxLength: 12 }));

  /** Addresses of `range` inside at least one cover (covers nest or are disjoint: count the outermost ones). */
  function coveredCount(range: Cidr, covers: Cidr[]): bigint {
    const inside = covers.filter((c) => cidrOverlaps(c, range)).map((c) => (cidrContains(c, range) ? range : c));
    const outer = inside.filter(
      (c, i) => !inside.some((d, j) => j !== i && cidrContains(d, c) && (d.prefixLength < c.prefixLength || j < i)),
    );
    return outer.reduce((n, c) => n + (1n << BigInt(32 - c.prefixLength)), 0n);
  }

  it('covers exactly the uncovered addresses: disjoint blocks inside the range, none touching a cover', () => {
    fc.assert(
      fc.property(cases, ([range, covers]) => {
        const out = uncoveredBlocks(range, covers);
        for (const [i, b] of out.entries()) {
          assert.ok(cidrContains(range, b), `${b.canonical} lies within ${range.canonical}`);
          for (const c of covers) assert.ok(!cidrOverlaps(b, c), `${b.canonical} includes covered space (${c.canonical})`);
          for (const other of out.slice(i + 1)) assert.ok(!cidrOverlaps(b, other), 'blocks are disjoint');
        }
        const size = (c: Cidr) => 1n << BigInt(32 - c.prefixLength);
        assert.equal(out.reduce((n, b) => n + size(b), 0n) + coveredCount(range, covers), size(range), 'uncovered + covered = range');
      }),
      { numRuns: 500 },
    );
  });

  it('is minimal: no block could merge with its sibling, since each parent inside the range touches a cover', () => {
    fc.assert(
      fc.property(cases, ([range, covers]) => {
        for (const b of uncoveredBlocks(range, covers)) {
          if (b.prefixLength === range.prefixLength) continue;
          const parent = cidrOf(4, b.bits, b.prefixLength - 1);
          assert.ok(
            covers.some((c) => cidrOverlaps(c, parent)),
            `${b.canonical}'s parent ${parent.canonical} is uncovered too, so a larger block would do`,
          );
        }
      }),
      { numRuns: 500 },
    );
  });
});
