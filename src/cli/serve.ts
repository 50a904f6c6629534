/**
 * `remote-cluster-guard serve`: the HTTPS admission webhook. The state comes
 * from `--state` manifests (the live, informer-backed state is the other
 * source). Without `--tls-cert/--tls-key` it serves the certificate in
 * `certs/`, creating one on first start.
 */
import { ensureCertificates } from '../certs/files.js';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE } from '../certs/generate.js';
import { Engine } from '../engine/engine.js';
import { DEFAULT_POLICY } from '../config/policy.js';
import type { AnyRule } from '../engine/rule.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createRequestListener } from '../server/app.js';
import { createHttpsServer, listen } from '../server/https-server.js';
import { addToState, loadManifests } from '../state/manifests.js';
import type { LevelWithSilent } from 'pino';
import { LiveState, loadKubeConfig } from '../state/live/live-state.js';
import type { MemoryClusterState } from '../state/memory-state.js';

export interface ServeOptions {
  port: number;
  /** Live state from this kubeconfig; without it and without `--state`, KUBECONFIG or the in-cluster config when present. */
  kubeconfig?: string;
  /** What rules answer while the live state is not synced. */
  unsynced: 'deny' | 'warn';
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  certDir: string;
  state: string[];
  operatorNamespace: string;
  logLevel: LevelWithSilent;
  maxBodyBytes: number;
  rules: readonly AnyRule[];
}

/** Whether this process should watch a cluster: a kubeconfig flag, KUBECONFIG, or running in a Pod. */
export function wantsLiveState(opts: Pick<ServeOptions, 'kubeconfig' | 'state'>, env = process.env): boolean {
  if (opts.kubeconfig) return true;
  if (opts.state.length > 0) return false;
  return Boolean(env['KUBECONFIG'] || env['KUBERNETES_SERVICE_HOST']);
}

async function openState(opts: ServeOptions, log: Logger): Promise<{ state: MemoryClusterState; live?: LiveState }> {
  if (wantsLiveState(opts)) {
    const live = new LiveState(loadKubeConfig(opts.kubeconfig), opts.operatorNamespace, log);
    await live.start();
    log.info({ unsynced: live.unsynced() }, 'live state started');
    return { state: live.state, live };
  }
  const { state, problems } = addToState(loadManifests(opts.state));
  for (const p of problems) log.warn({ problem: p }, 'state manifest ignored');
  log.info({ counts: state.counts(), files: opts.state }, opts.state.length ? 'state loaded from manifests' : 'no cluster configured: serving with an empty state');
  return { state };
}

export interface RunningServer {
  port: number;
  log: Logger;
  close(): Promise<void>;
}

export async function runServe(opts: ServeOptions): Promise<RunningServer> {
  const log = createLogger(opts.logLevel);
  let tls: { certFile: string; keyFile: string };
  if (opts.tlsCert && opts.tlsKey) {
    tls = { certFile: opts.tlsCert, keyFile: opts.tlsKey };
  } else {
    const { paths, created } = ensureCertificates(opts.certDir, { service: DEFAULT_SERVICE, namespace: DEFAULT_NAMESPACE, validityDays: 365 });
    if (created) log.info({ dir: opts.certDir }, 'created a CA and serving certificate');
    tls = { certFile: paths.cert, keyFile: paths.key };
  }
  const source = await openState(opts, log);

  let shuttingDown = false;
  const engine = new Engine(opts.rules, { operatorNamespace: opts.operatorNamespace, policy: { ...DEFAULT_POLICY, unsynced: opts.unsynced } });
  const listener = createRequestListener({
    engine,
    state: source.state,
    log,
    maxBodyBytes: opts.maxBodyBytes,
    ...(source.live ? { prepare: (r) => source.live!.prepare(r) } : {}),
    ready: () => (shuttingDown ? { ready: false, reason: 'shutting down' } : (source.live?.ready() ?? { ready: true })),
  });
  const server = createHttpsServer({ port: opts.port, host: opts.host, tls, listener });
  const port = await listen(server, opts.port, opts.host);
  log.info({ port, host: opts.host, rules: opts.rules.map((r) => r.id) }, 'serving admission webhook');

  const close = () =>
    new Promise<void>((resolve) => {
      shuttingDown = true;
      void source.live?.stop();
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  return { port, log, close };
}
