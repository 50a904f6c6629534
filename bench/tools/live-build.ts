/**
 * Times building the live state from informers against a cluster, in a fresh
 * process: `new ClusterWatcher(...)`, `start()`, then every source synced. Prints
 * one JSON line with the time, the counts and the process's memory.
 *
 *   node bench/.build/bench/tools/live-build.js <kubeconfig> [operator-namespace]
 */
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../../src/log/logger.js';
import { ClusterWatcher, loadKubeConfig } from '../../src/state/live/cluster-watcher.js';
import { rssMiB } from '../lib/procs.js';

const [kubeconfig, operatorNamespace = 'elastic-system'] = process.argv.slice(2);
if (!kubeconfig) {
  console.error('usage: live-build.js <kubeconfig> [operator-namespace]');
  process.exit(2);
}
const log = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
const t0 = performance.now();
const live = new ClusterWatcher(loadKubeConfig(kubeconfig), operatorNamespace, log);
await live.start();
const startedMs = performance.now() - t0;
const synced = await live.waitForSync(120_000);
const ms = performance.now() - t0;
const counts = live.state.counts();
globalThis.gc?.();
console.log(
  JSON.stringify({ ms, startedMs, synced, counts, rssMiB: rssMiB(process.pid), heapUsedMiB: process.memoryUsage().heapUsed / 1048576 }),
);
await live.stop();
process.exit(0);
