/**
 * Run by remote-cluster-watcher.test.ts in its own process: watches the
 * stand-in remote API server on the port given (whose Node list never
 * answers), stops the watcher once its IPPools are in, and must then exit by
 * itself: anything stop() leaves open keeps the process alive.
 */
import { createLogger } from '../../../../src/log/logger.js';
import { RemoteClusterWatcher } from '../../../../src/state/federation/remote-cluster-watcher.js';
import { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { tokenKubeConfig } from './remote-apiserver.js';

const port = Number(process.argv[2]);
const state = new MemoryClusterState();
const watcher = new RemoteClusterWatcher('cluster1', tokenKubeConfig(port, 'fixture-token'), state.calico, createLogger('silent'), {
  staleAfterMs: 200,
  probeIntervalMs: 200,
  listTimeoutMs: 120_000,
  watch: { minWatchTimeoutSeconds: 300, marginMs: 120_000, connectTimeoutMs: 120_000 },
});
watcher.start();
const deadline = Date.now() + 20_000;
while (state.remoteRangesOf('cluster1').length === 0) {
  if (Date.now() > deadline) {
    console.log('the IPPools never came');
    process.exit(2);
  }
  await new Promise((r) => setTimeout(r, 20));
}
// Let the IPPool watch open and a probe go out.
await new Promise((r) => setTimeout(r, 300));
watcher.stop();
console.log('stopped');
if (process.env['SHOW_HANDLES']) setTimeout(() => console.log(process.getActiveResourcesInfo()), 1000).unref();
