/**
 * What one discovered remote range costs in the heap, layer by layer: the
 * parsed `Cidr`, a CIDR trie entry, the Calico store's entries for a remote
 * object (`setRemoteObjectRanges`, trie included), and the watcher's set of
 * known names. Builds each for `n` distinct IPv4 /26 blocks (as
 * bench/servers/remote-apiserver.ts serves them) and prints the heap growth
 * after full collections, bytes per range.
 *
 *   node --expose-gc bench/.build/bench/tools/range-memory.js [n=100000]
 */
import { parseCidr, type Cidr } from '../../src/net/cidr/cidr.js';
import { CidrTrie } from '../../src/net/cidr/cidr-trie.js';
import { CalicoStore } from '../../src/state/memory/calico-store.js';

const n = Number(process.argv[2] ?? 100_000);
if (!globalThis.gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const heap = (): number => {
  for (let i = 0; i < 3; i++) globalThis.gc!();
  return process.memoryUsage().heapUsed;
};
const ipv4 = (x: number) => `${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
let last = heap();
const step = (what: string) => {
  const now = heap();
  console.log(`${what.padEnd(64)} ${((now - last) / n).toFixed(0).padStart(5)} B/range`);
  last = now;
};

const names: string[] = [];
for (let i = 0; i < n; i++) names.push(`pool-${i}`);
step('object names (`pool-<i>`)');
const cidrs: Cidr[] = [];
for (let i = 0; i < n; i++) {
  const r = parseCidr(`${ipv4((10 << 24) + i * 64)}/26`, { allowBareAddress: true });
  if (r.ok) cidrs.push(r.cidr);
}
step('parsed Cidr (parseCidr)');
const trie = new CidrTrie<{ i: number }>();
for (let i = 0; i < n; i++) trie.insert(cidrs[i]!, { i });
step('CidrTrie entry alone (a one-field value)');
const store = new CalicoStore();
for (let i = 0; i < n; i++) store.setRemoteObjectRanges('remote-0', { kind: 'IPPool', name: names[i]! }, [{ cidr: cidrs[i]! }]);
step('CalicoStore.setRemoteObjectRanges (its entries and its own trie)');
const known = new Set(names);
step("the watcher's known names (Set)");
// Kept alive to here: each step's growth is what it holds.
console.log(`${n} ranges held: ${[names.length, cidrs.length, trie.size, store.remoteRangesOf('remote-0').length, known.size].join(', ')}`);
