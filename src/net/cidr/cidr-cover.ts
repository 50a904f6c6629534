/**
 * What part of a CIDR block a set of other blocks leaves uncovered, as the
 * smallest list of CIDR blocks: the IPPools to create so that a remote
 * cluster's range is inside the local pools (calico-nat-coverage).
 *
 * Blocks nest or are disjoint, so the uncovered part of `range` is found by
 * halving it: a half no cover touches is uncovered whole, a half inside a
 * cover is covered, anything else is halved again. The halves emitted are the
 * largest aligned blocks with no covered address, which is the one minimal
 * CIDR list of that set (merging two of them would need their common parent
 * to be uncovered too, and it was halved because it is not). Cost: at most
 * (prefix bits) steps per cover inside `range`.
 */
import { cidrOf, FAMILY_WIDTH, type Cidr } from './cidr.js';

/** The Cidr whose prefix bits are `prefix` (a `0`/`1` string) in `like`'s family. */
function fromPrefix(like: Cidr, prefix: string): Cidr {
  const width = FAMILY_WIDTH[like.family];
  return cidrOf(like.family, prefix === '' ? 0n : BigInt('0b' + prefix) << BigInt(width - prefix.length), prefix.length);
}

/**
 * The blocks of `range` no block of `covers` contains, fewest first-to-last
 * in address order; [] when `range` is covered. Covers of the other family,
 * or disjoint from `range`, do not count.
 */
export function uncoveredBlocks(range: Cidr, covers: readonly Cidr[]): Cidr[] {
  const prefixes: string[] = [];
  for (const c of covers) {
    if (c.family !== range.family) continue;
    if (range.prefix.startsWith(c.prefix)) return []; // a cover contains the whole range
    if (c.prefix.startsWith(range.prefix)) prefixes.push(c.prefix);
  }
  const out: Cidr[] = [];
  walk(range.prefix, prefixes, range, out);
  return out;
}

/** `inside`: the cover prefixes lying within `prefix` (never equal to or containing it). */
function walk(prefix: string, inside: readonly string[], like: Cidr, out: Cidr[]): void {
  if (inside.length === 0) {
    out.push(fromPrefix(like, prefix));
    return;
  }
  const depth = prefix.length;
  for (const bit of ['0', '1'] as const) {
    const half = prefix + bit;
    const within: string[] = [];
    let covered = false;
    for (const p of inside) {
      if (p.charAt(depth) !== bit) continue;
      if (p.length === half.length) {
        covered = true;
        break;
      }
      within.push(p);
    }
    if (!covered) walk(half, within, like, out);
  }
}
