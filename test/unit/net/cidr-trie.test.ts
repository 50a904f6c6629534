/**
 * The CIDR trie against a brute-force oracle: random IPv4 and IPv6 CIDR sets,
 * inserts, removes and queries, every answer compared with a scan that checks
 * overlap (and containment, and "within a marker block") pair by pair. The
 * oracle masks the blocks' integers (`bits`), independently of the prefix
 * strings the trie and `cidrContains` compare.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cidrOf, FAMILY_WIDTH, maskBits, mustParse, type Cidr, type IpFamily } from '../../../src/net/cidr/cidr.js';
import { CidrTrie } from '../../../src/net/cidr/cidr-trie.js';

/**
 * Random CIDRs that collide often: the address is a string of nibbles drawn
 * from a skewed four-letter alphabet, so random blocks share long prefixes and
 * nest at every depth; the prefix length covers the whole range, /0 and the
 * full length included.
 */
function cidrArb(family: IpFamily): fc.Arbitrary<Cidr> {
  const width = FAMILY_WIDTH[family];
  return fc
    .record({
      nibbles: fc.array(fc.constantFrom(0, 0, 0, 8, 15, 4), { minLength: width / 4, maxLength: width / 4 }),
      prefixLength: fc.oneof(fc.integer({ min: 0, max: width }), fc.constantFrom(0, 1, width - 1, width)),
    })
    .map(({ nibbles, prefixLength }) =>
      cidrOf(
        family,
        nibbles.reduce((acc, n) => (acc << 4n) | BigInt(n), 0n),
        prefixLength,
      ),
    );
}

/** The oracle's containment: same family, and `inner`'s network masked to `outer`'s length is `outer`'s. */
function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefixLength <= inner.prefixLength &&
    maskBits(inner.bits, FAMILY_WIDTH[inner.family], outer.prefixLength) === outer.bits
  );
}
const overlaps = (a: Cidr, b: Cidr) => contains(a, b) || contains(b, a);

const anyCidr = fc.oneof(cidrArb(4), cidrArb(6));

type Cmd =
  | { op: 'insert'; cidr: Cidr; marker: boolean }
  | { op: 'remove'; pick: number }
  | { op: 'query'; cidr: Cidr }
  /** A query derived from a stored block: its prefix moved by `delta` bits (a supernet or a subnet of it). */
  | { op: 'queryNear'; pick: number; delta: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ cidr: anyCidr, marker: fc.boolean() }).map((r) => ({ op: 'insert' as const, ...r })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ op: 'remove' as const, pick })) },
  { weight: 2, arbitrary: anyCidr.map((cidr) => ({ op: 'query' as const, cidr })) },
  {
    weight: 3,
    arbitrary: fc.record({ pick: fc.nat(), delta: fc.integer({ min: -40, max: 40 }) }).map((r) => ({ op: 'queryNear' as const, ...r })),
  },
);

interface Item {
  id: number;
  cidr: Cidr;
  /** Markers stand for remote CIDRs in overlappingMarked(). */
  marker: boolean;
}

const ids = (items: Item[]) => items.map((i) => i.id).sort((a, b) => a - b);

describe('CidrTrie', () => {
  it('answers overlapping(), containing() and overlappingMarked() like a brute-force scan, through inserts and removes', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 120, size: 'max' }), (cmds) => {
        const trie = new CidrTrie<Item>();
        const model: Item[] = [];
        let next = 0;
        const check = (q: Cidr) => {
          assert.deepEqual(ids(trie.overlapping(q)), ids(model.filter((i) => overlaps(i.cidr, q))), `overlapping ${q.canonical}`);
          assert.deepEqual(ids(trie.containing(q)), ids(model.filter((i) => contains(i.cidr, q))), `containing ${q.canonical}`);
          const marked = trie
            .overlappingMarked(
              q,
              (i) => i.marker,
              (i, m) => `${i.id}:${m}`,
            )
            .sort();
          const expected = model
            .filter((i) => overlaps(i.cidr, q))
            .map((i) => `${i.id}:${model.some((u) => u.marker && contains(u.cidr, i.cidr))}`)
            .sort();
          assert.deepEqual(marked, expected, `overlappingMarked ${q.canonical}`);
        };
        for (const cmd of cmds) {
          if (cmd.op === 'insert') {
            const item = { id: next++, cidr: cmd.cidr, marker: cmd.marker };
            trie.insert(item.cidr, item);
            model.push(item);
          } else if (cmd.op === 'remove') {
            if (model.length === 0) {
              assert.equal(trie.remove(mustParse('10.0.0.0/8'), { id: -1, cidr: mustParse('10.0.0.0/8'), marker: false }), false);
              continue;
            }
            const [item] = model.splice(cmd.pick % model.length, 1);
            assert.equal(trie.remove(item!.cidr, item!), true);
            assert.equal(trie.remove(item!.cidr, item!), false, 'a removed value is gone');
          } else if (cmd.op === 'query') {
            check(cmd.cidr);
          } else if (model.length > 0) {
            const base = model[cmd.pick % model.length]!.cidr;
            const width = FAMILY_WIDTH[base.family];
            check(cidrOf(base.family, base.bits, Math.max(0, Math.min(width, base.prefixLength + cmd.delta))));
          }
          assert.equal(trie.size, model.length);
        }
        // Every stored block finds itself, and everything overlapping it.
        for (const item of model) check(item.cidr);
        // Emptying the trie leaves nothing behind.
        for (const item of [...model]) assert.equal(trie.remove(item.cidr, item), true);
        assert.equal(trie.size, 0);
        assert.deepEqual(trie.overlapping(mustParse('0.0.0.0/0')), []);
        assert.deepEqual(trie.overlapping(mustParse('::/0')), []);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the two families apart', () => {
    const trie = new CidrTrie<string>();
    trie.insert(mustParse('0.0.0.0/0'), 'v4-all');
    trie.insert(mustParse('::/0'), 'v6-all');
    trie.insert(mustParse('::/96'), 'v6-low');
    assert.deepEqual(trie.overlapping(mustParse('10.0.0.0/8')), ['v4-all']);
    assert.deepEqual(trie.overlapping(mustParse('::a00:0/104')).sort(), ['v6-all', 'v6-low']);
  });

  it('holds several values on one block and removes by identity', () => {
    const trie = new CidrTrie<{ n: string }>();
    const a = { n: 'a' };
    const b = { n: 'b' };
    const c = mustParse('fd00::/48');
    trie.insert(c, a);
    trie.insert(c, b);
    assert.equal(trie.remove(c, { n: 'a' }), false);
    assert.equal(trie.remove(c, a), true);
    assert.deepEqual(trie.overlapping(mustParse('fd00::/64')), [b]);
    assert.equal(trie.remove(mustParse('fd00::/49'), b), false);
  });
});
