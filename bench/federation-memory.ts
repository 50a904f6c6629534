/**
 * Memory of federation discovery: the webhook's state with 10,000 local
 * IPPools (a), then the same with remote clusters discovered through real
 * RemoteClusterWatcher instances (b), each listing page by page and then
 * watching stand-in API servers (bench/servers/remote-apiserver.ts, in a
 * child process, so their memory is not counted). Prints V8 heap used after
 * full collections and the RSS of this process at each step, the time each
 * remote took to sync, and the ratio (b)/(a) against the goal (b) < 2 × (a).
 *
 *   node --expose-gc --import tsx bench/federation-memory.ts [--remotes 5] [--pools 2000] [--nodes 2000] [--local 10000]
 *   node --expose-gc bench/.build/bench/federation-memory.js ...   (after `npx tsc -p bench/tsconfig.build.json`)
 */
import { MemoryClusterState } from '../src/state/memory-state.js';
import { generateIPPools } from './lib/generate.js';
import { discover, startRemoteApiServers } from './lib/remotes.js';
import { rssMiB, sleep } from './lib/procs.js';
import { loadAverage } from './lib/machine.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const remotes = flag('remotes', 5);
const poolsPerRemote = flag('pools', 2000);
const nodesPerRemote = flag('nodes', 2000);
const localPools = flag('local', 10_000);
if (!globalThis.gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const MiB = 1048576;
/** Heap used after full collections, and RSS, in MiB. */
function measure(): { heapMiB: number; rssMiB: number } {
  for (let i = 0; i < 3; i++) globalThis.gc!();
  return { heapMiB: process.memoryUsage().heapUsed / MiB, rssMiB: rssMiB(process.pid) };
}

const load0 = loadAverage();
const stand = await startRemoteApiServers(remotes, poolsPerRemote, nodesPerRemote);
const state = new MemoryClusterState();
await sleep(200);
const empty = measure();
{
  const { pools, rccs } = generateIPPools(localPools);
  for (const o of [...rccs, ...pools]) state.apply(o);
}
const a = measure();

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(process.pid))), 20);
const t0 = performance.now();
const discovery = discover(state.calico, stand.ports);
const syncedMs = await discovery.synced;
const allSyncedMs = performance.now() - t0;
clearInterval(sampler);
await sleep(500);
const b = measure();
const ranges = state.allRemoteRanges().filter((r) => r.source === 'discovered').length;
const objects = discovery.watchers.reduce((n, w) => n + w.status().objects.IPPool + w.status().objects.Node, 0);
discovery.stop();
stand.stop();

const fixed = (x: number, d = 1) => x.toFixed(d);
console.log(
  JSON.stringify({
    remotes,
    poolsPerRemote,
    nodesPerRemote,
    localPools: state.counts().IPPool,
    discoveredObjects: objects,
    discoveredRanges: ranges,
    emptyState: empty,
    a,
    b,
    peakRssMiBWhileSyncing: peakRss,
    syncedMs: syncedMs.map((t) => Math.round(t)),
    allSyncedMs: Math.round(allSyncedMs),
    loadAverage: [load0, loadAverage()],
  }),
);
const stateA = a.heapMiB - empty.heapMiB;
const extra = b.heapMiB - a.heapMiB;
console.log(
  `heap after GC: empty state ${fixed(empty.heapMiB)} MiB, (a) ${localPools} local IPPools ${fixed(a.heapMiB)} MiB, (b) + ${remotes} remotes ${fixed(b.heapMiB)} MiB`,
);
console.log(
  `RSS: empty ${fixed(empty.rssMiB)}, (a) ${fixed(a.rssMiB)}, (b) ${fixed(b.rssMiB)} MiB, peak while syncing ${fixed(peakRss)} MiB`,
);
console.log(
  `(b)/(a) heap ${fixed(b.heapMiB / a.heapMiB, 2)} (goal < 2): ${b.heapMiB < 2 * a.heapMiB ? 'PASS' : 'FAIL'}; RSS ${fixed(b.rssMiB / a.rssMiB, 2)}`,
);
console.log(
  `state only: local pools ${fixed(stateA)} MiB (${fixed((stateA * MiB) / localPools, 0)} B/pool), discovery ${fixed(extra)} MiB for ${objects} remote objects, ${ranges} ranges (${fixed((extra * MiB) / ranges, 0)} B/range); ratio of the state's parts (b−empty)/(a−empty) ${fixed((b.heapMiB - empty.heapMiB) / stateA, 2)}`,
);
console.log(`synced: ${syncedMs.map((t) => `${Math.round(t)} ms`).join(', ')}; all ${Math.round(allSyncedMs)} ms`);
