/**
 * An index of CIDR blocks answering "which entries overlap X" without looking
 * at the others.
 *
 * Two CIDR blocks overlap iff one contains the other, so in a binary trie
 * keyed by prefix bits (one per family) the entries overlapping X are those on
 * the path from the root to X (its supernets and X itself) plus those in X's
 * subtree (its subnets). The trie is path-compressed (a node exists only where
 * entries sit or where two branches split), so it holds at most 2n nodes for n
 * distinct blocks whatever the prefix lengths, and a query costs one walk of
 * at most 32 / 128 steps plus the size of the answer.
 *
 * Values are compared by identity on removal: insert an object, remove the
 * same object.
 */
import { FAMILY_WIDTH, maskBits, type Cidr, type IpFamily } from './cidr.js';

interface TrieNode<T> {
  /** Network bits of this node's block (masked to `len`). */
  bits: bigint;
  len: number;
  values: T[];
  /** Children by the bit at position `len`; each child's block lies within this node's. */
  children: [TrieNode<T> | undefined, TrieNode<T> | undefined];
}

function newNode<T>(bits: bigint, len: number, values: T[] = []): TrieNode<T> {
  return { bits, len, values, children: [undefined, undefined] };
}

/** Bit `i` (0 = most significant) of a `width`-bit integer. */
function bitAt(bits: bigint, width: number, i: number): 0 | 1 {
  return ((bits >> BigInt(width - 1 - i)) & 1n) === 1n ? 1 : 0;
}

/** Length of the common leading bits of two `width`-bit integers, at most `max`. */
function commonPrefixLength(a: bigint, b: bigint, width: number, max: number): number {
  const diff = a ^ b;
  if (diff === 0n) return max;
  return Math.min(width - diff.toString(2).length, max);
}

export class CidrTrie<T> {
  private readonly roots: Record<IpFamily, TrieNode<T>> = { 4: newNode(0n, 0), 6: newNode(0n, 0) };
  private count = 0;

  /** Number of values held. */
  get size(): number {
    return this.count;
  }

  insert(cidr: Cidr, value: T): void {
    const width = FAMILY_WIDTH[cidr.family];
    const { bits, prefixLength: len } = cidr;
    this.count++;
    let parent = this.roots[cidr.family];
    if (len === 0) {
      parent.values.push(value);
      return;
    }
    for (;;) {
      const b = bitAt(bits, width, parent.len);
      const child = parent.children[b];
      if (!child) {
        parent.children[b] = newNode(bits, len, [value]);
        return;
      }
      const common = commonPrefixLength(bits, child.bits, width, Math.min(len, child.len));
      if (common === child.len) {
        if (child.len === len) {
          child.values.push(value);
          return;
        }
        parent = child;
        continue;
      }
      if (common === len) {
        // The new block is a supernet of the child: it goes between parent and child.
        const node = newNode(bits, len, [value]);
        node.children[bitAt(child.bits, width, len)] = child;
        parent.children[b] = node;
        return;
      }
      // The new block and the child diverge after `common` bits: a branch node splits them.
      const branch = newNode<T>(maskBits(bits, width, common), common);
      branch.children[bitAt(bits, width, common)] = newNode(bits, len, [value]);
      branch.children[bitAt(child.bits, width, common)] = child;
      parent.children[b] = branch;
      return;
    }
  }

  /** Removes `value` inserted under `cidr`; false when it is not there. */
  remove(cidr: Cidr, value: T): boolean {
    const width = FAMILY_WIDTH[cidr.family];
    const { bits, prefixLength: len } = cidr;
    const path: TrieNode<T>[] = [this.roots[cidr.family]];
    let node = path[0]!;
    while (node.len < len) {
      const child = node.children[bitAt(bits, width, node.len)];
      if (!child || child.len > len || maskBits(bits, width, child.len) !== child.bits) return false;
      node = child;
      path.push(node);
    }
    if (node.bits !== bits) return false;
    const i = node.values.indexOf(value);
    if (i < 0) return false;
    node.values.splice(i, 1);
    this.count--;
    this.prune(path);
    return true;
  }

  /** Values whose block overlaps `cidr`: its supernets, itself and its subnets (same family only). */
  overlapping(cidr: Cidr): T[] {
    return this.walk(cidr, true);
  }

  /** Values whose block contains `cidr` (supernets and equal blocks). */
  containing(cidr: Cidr): T[] {
    return this.walk(cidr, false);
  }

  /**
   * `overlapping(cidr)`, each value paired with whether some value satisfying
   * `isMarker` sits on a block containing (or equal to) the value's own block.
   * Computed during the same walk (the flag is carried down the path and the
   * subtree), so it costs no second lookup per value: the store uses it to
   * tell pools lying within a declared remote CIDR.
   */
  overlappingMarked(cidr: Cidr, isMarker: (value: T) => boolean): [T, boolean][] {
    const width = FAMILY_WIDTH[cidr.family];
    const { bits, prefixLength: len } = cidr;
    const out: [T, boolean][] = [];
    const visit = (n: TrieNode<T>, markedAbove: boolean): boolean => {
      const marked = markedAbove || n.values.some(isMarker);
      for (const v of n.values) out.push([v, marked]);
      return marked;
    };
    const subtree = (root: TrieNode<T>, markedAbove: boolean) => {
      const stack: [TrieNode<T>, boolean][] = [[root, markedAbove]];
      while (stack.length > 0) {
        const [n, above] = stack.pop()!;
        const marked = visit(n, above);
        if (n.children[0]) stack.push([n.children[0], marked]);
        if (n.children[1]) stack.push([n.children[1], marked]);
      }
    };
    let marked = false;
    let node: TrieNode<T> | undefined = this.roots[cidr.family];
    while (node) {
      if (node.len <= len) {
        if (maskBits(bits, width, node.len) !== node.bits) break;
        if (node.len === len) {
          subtree(node, marked);
          break;
        }
        marked = visit(node, marked);
        node = node.children[bitAt(bits, width, node.len)];
      } else {
        if (maskBits(node.bits, width, len) === bits) subtree(node, marked);
        break;
      }
    }
    return out;
  }

  private walk(cidr: Cidr, withSubnets: boolean): T[] {
    const width = FAMILY_WIDTH[cidr.family];
    const { bits, prefixLength: len } = cidr;
    const out: T[] = [];
    let node: TrieNode<T> | undefined = this.roots[cidr.family];
    while (node) {
      if (node.len <= len) {
        if (maskBits(bits, width, node.len) !== node.bits) break;
        if (node.len === len) {
          if (withSubnets) collect(node, out);
          else out.push(...node.values);
          break;
        }
        out.push(...node.values);
        node = node.children[bitAt(bits, width, node.len)];
      } else {
        // Below the queried depth: the whole subtree lies within `cidr`, or none of it does.
        if (withSubnets && maskBits(node.bits, width, len) === bits) collect(node, out);
        break;
      }
    }
    return out;
  }

  /** Drops nodes left without values and with fewer than two children, bottom-up; roots stay. */
  private prune(path: TrieNode<T>[]): void {
    for (let i = path.length - 1; i > 0; i--) {
      const node = path[i]!;
      if (node.values.length > 0) return;
      const [c0, c1] = node.children;
      if (c0 && c1) return;
      const parent = path[i - 1]!;
      const slot = parent.children[0] === node ? 0 : 1;
      const only = c0 ?? c1;
      parent.children[slot] = only;
      // Replacing a node by its only child leaves the parent's shape unchanged; removing a leaf may not.
      if (only) return;
    }
  }
}

function collect<T>(root: TrieNode<T>, out: T[]): void {
  const stack: TrieNode<T>[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(...n.values);
    if (n.children[0]) stack.push(n.children[0]);
    if (n.children[1]) stack.push(n.children[1]);
  }
}
