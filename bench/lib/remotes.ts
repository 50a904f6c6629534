/**
 * Federation discovery for the benchmarks: stand-in remote API servers in a
 * child process (bench/servers/remote-apiserver.ts), and real
 * RemoteClusterWatcher instances on a state's CalicoStore, each reporting its
 * status to the store as FederationDiscovery's reconcile does.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../src/log/logger.js';
import { RemoteClusterWatcher } from '../../src/state/federation/remote-cluster-watcher.js';
import type { CalicoStore } from '../../src/state/memory/calico-store.js';
import { ROOT } from './procs.js';

export interface RemoteApiServers {
  ports: number[];
  pid: number;
  stop(): void;
}

/** Starts `remotes` stand-in API servers, each serving `pools` IPPools and `nodes` Nodes; in a child process. */
export async function startRemoteApiServers(remotes: number, pools: number, nodes: number): Promise<RemoteApiServers> {
  const compiled = import.meta.url.endsWith('.js');
  const script = compiled ? join(ROOT, 'bench/.build/bench/servers/remote-apiserver.js') : join(ROOT, 'bench/servers/remote-apiserver.ts');
  const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), script, String(remotes), String(pools), String(nodes)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`remote-apiserver exited with ${code}`)));
  });
  const { ports } = JSON.parse(line) as { ports: number[] };
  return { ports, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

/** A KubeConfig for a plain-HTTP stand-in on 127.0.0.1 (remote-get.ts and the watch both take http:). */
export function kubeConfigFor(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'remote', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'discovery', token: 'bench' }],
    contexts: [{ name: 'remote', cluster: 'remote', user: 'discovery' }],
    currentContext: 'remote',
  });
  return kc;
}

export interface Discovery {
  watchers: RemoteClusterWatcher[];
  /** Resolves when every remote is synced, with each one's ms from `start` to its first synced status. */
  synced: Promise<number[]>;
  stop(): void;
}

/**
 * Starts one RemoteClusterWatcher per port, named `remote-<i>`, on `store`, and
 * polls their status every `pollMs` (FederationDiscovery reconciles every
 * 1,000 ms; polled faster here to time the sync), handing it to the store.
 */
export function discover(store: CalicoStore, ports: readonly number[], pollMs = 5): Discovery {
  const log = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
  const start = performance.now();
  const watchers = ports.map((port, i) => new RemoteClusterWatcher(`remote-${i}`, kubeConfigFor(port), store, log));
  for (const w of watchers) w.start();
  const times: (number | undefined)[] = watchers.map(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const synced = new Promise<number[]>((resolve) => {
    timer = setInterval(() => {
      for (const [i, w] of watchers.entries()) {
        const s = w.status();
        store.setRemoteSync(w.cluster, s.synced ? { synced: true } : { synced: false, reason: s.reason ?? 'not synced' });
        if (s.synced && times[i] === undefined) times[i] = performance.now() - start;
      }
      if (times.every((t) => t !== undefined)) {
        clearInterval(timer);
        resolve(times as number[]);
      }
    }, pollMs);
  });
  return {
    watchers,
    synced,
    stop: () => {
      clearInterval(timer);
      for (const w of watchers) w.stop();
    },
  };
}
