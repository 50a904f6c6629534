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
import type { Cidr, IpFamily } from './cidr.js';

/**
 * Keys are the blocks' prefix bits as `0`/`1` strings (`Cidr.prefix`), so a
 * walk compares strings and allocates nothing per step (the BigInt form
 * allocated at every shift and mask: about 2 KB per IPPool request).
 */
interface TrieNode<T> {
  /** Prefix bits of this node's block; its length is the block's prefix length. */
  prefix: string;
  values: T[];
  /** Children by the bit after this node's prefix; each child's block lies within this node's. */
  children: [TrieNode<T> | undefined, TrieNode<T> | undefined];
}

function newNode<T>(prefix: string, values: T[] = []): TrieNode<T> {
  return { prefix, values, children: [undefined, undefined] };
}

/** Bit `i` of a prefix string. */
function bitAt(prefix: string, i: number): 0 | 1 {
  return prefix.charCodeAt(i) === 49 /* '1' */ ? 1 : 0;
}

/** Length of the common leading bits of two prefixes. */
function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

export class CidrTrie<T> {
  private readonly roots: Record<IpFamily, TrieNode<T>> = { 4: newNode(''), 6: newNode('') };
  private count = 0;

  /** Number of values held. */
  get size(): number {
    return this.count;
  }

  insert(cidr: Cidr, value: T): void {
    const key = cidr.prefix;
    this.count++;
    let parent = this.roots[cidr.family];
    if (key.length === 0) {
      parent.values.push(value);
      return;
    }
    for (;;) {
      const b = bitAt(key, parent.prefix.length);
      const child = parent.children[b];
      if (!child) {
        parent.children[b] = newNode(key, [value]);
        return;
      }
      const common = commonPrefixLength(key, child.prefix);
      if (common === child.prefix.length) {
        if (common === key.length) {
          child.values.push(value);
          return;
        }
        parent = child;
        continue;
      }
      if (common === key.length) {
        // The new block is a supernet of the child: it goes between parent and child.
        const node = newNode(key, [value]);
        node.children[bitAt(child.prefix, common)] = child;
        parent.children[b] = node;
        return;
      }
      // The new block and the child diverge after `common` bits: a branch node splits them.
      const branch = newNode<T>(key.slice(0, common));
      branch.children[bitAt(key, common)] = newNode(key, [value]);
      branch.children[bitAt(child.prefix, common)] = child;
      parent.children[b] = branch;
      return;
    }
  }

  /** Removes `value` inserted under `cidr`; false when it is not there. */
  remove(cidr: Cidr, value: T): boolean {
    const key = cidr.prefix;
    const path: TrieNode<T>[] = [this.roots[cidr.family]];
    let node = path[0]!;
    while (node.prefix.length < key.length) {
      const child = node.children[bitAt(key, node.prefix.length)];
      if (!child || !key.startsWith(child.prefix)) return false;
      node = child;
      path.push(node);
    }
    if (node.prefix !== key) return false;
    const i = node.values.indexOf(value);
    if (i < 0) return false;
    node.values.splice(i, 1);
    this.count--;
    this.prune(path);
    return true;
  }

  /** Values whose block overlaps `cidr`: its supernets, itself and its subnets (same family only). */
  overlapping(cidr: Cidr): T[] {
    return this.overlappingMarked(
      cidr,
      () => false,
      (value) => value,
    );
  }

  /** Values whose block contains `cidr` (supernets and equal blocks): the path down to it, no subtree. */
  containing(cidr: Cidr): T[] {
    const key = cidr.prefix;
    const out: T[] = [];
    for (let node: TrieNode<T> | undefined = this.roots[cidr.family]; node && key.startsWith(node.prefix);) {
      out.push(...node.values);
      node = node.prefix.length < key.length ? node.children[bitAt(key, node.prefix.length)] : undefined;
    }
    return out;
  }

  /**
   * `overlapping(cidr)`, each value given to `result` with whether some value
   * satisfying `isMarker` sits on a block containing (or equal to) the
   * value's own block. Computed during the same walk (the flag is carried
   * down the path and the subtree), so it costs no second lookup per value:
   * the store uses it to tell pools lying within a declared remote CIDR.
   */
  overlappingMarked<R>(cidr: Cidr, isMarker: (value: T) => boolean, result: (value: T, marked: boolean) => R): R[] {
    const key = cidr.prefix;
    const out: R[] = [];
    let marked = false;
    let node: TrieNode<T> | undefined = this.roots[cidr.family];
    while (node) {
      if (node.prefix.length < key.length) {
        if (!key.startsWith(node.prefix)) break;
        marked = visitMarked(node, marked, isMarker, result, out);
        node = node.children[bitAt(key, node.prefix.length)];
      } else {
        // At or below the queried depth: the whole subtree lies within `cidr`, or none of it does.
        if (node.prefix.startsWith(key)) subtreeMarked(node, marked, isMarker, result, out);
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

/** Gives `node`'s values to `result` into `out`; whether a marker sits on the node or above it. */
function visitMarked<T, R>(
  node: TrieNode<T>,
  markedAbove: boolean,
  isMarker: (value: T) => boolean,
  result: (value: T, marked: boolean) => R,
  out: R[],
): boolean {
  const marked = markedAbove || node.values.some(isMarker);
  for (const v of node.values) out.push(result(v, marked));
  return marked;
}

/**
 * `visitMarked` over a whole subtree. Recursive: every child's prefix is at
 * least one bit longer than its parent's, so the depth is at most 33 / 129
 * and an explicit stack would only allocate.
 */
function subtreeMarked<T, R>(
  node: TrieNode<T>,
  markedAbove: boolean,
  isMarker: (value: T) => boolean,
  result: (value: T, marked: boolean) => R,
  out: R[],
): void {
  const marked = visitMarked(node, markedAbove, isMarker, result, out);
  const children = node.children;
  if (children[0]) subtreeMarked(children[0], marked, isMarker, result, out);
  if (children[1]) subtreeMarked(children[1], marked, isMarker, result, out);
}
