/**
 * `remote-cluster-guard serve`: the HTTPS admission webhook.
 *
 * State: `--state` manifests, or the live cluster (`--kubeconfig`,
 * KUBECONFIG, or the in-cluster config in a Pod). TLS: `--tls-cert/--tls-key`,
 * reloaded when the files change, or `certs/`, created on first start.
 * Shutdown on SIGTERM: readiness turns false, the listener keeps serving for
 * `--shutdown-delay` seconds while endpoints are updated, then in-flight
 * requests finish and the process exits before the grace period ends.
 */
import pino, { type DestinationStream, type LevelWithSilent } from 'pino';
import { ensureCertificates, writeCertificates } from '../certs/files.js';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE } from '../certs/generate.js';
import { CertManager, type ManagedCertificates } from '../certs/manager.js';
import { ServingCertificate, type TlsFiles } from '../certs/serving-certificate.js';
import { readConfigFile, settingsOf } from '../config/config-file.js';
import { watchConfig } from '../config/config-watcher.js';
import { Engine } from '../engine/engine.js';
import type { AnyRule } from '../engine/rule.js';
import { createLogger, type Logger } from '../log/logger.js';
import { DEFAULT_MAX_INFLIGHT_BODY_BYTES } from '../server/admission-handler.js';
import { createRequestListener } from '../server/app.js';
import { BodyBudget } from '../server/body-budget.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../server/connection-limit.js';
import { createHttpsServer, DEFAULT_MAX_CONNECTIONS, listen } from '../server/https-server.js';
import { Metrics } from '../server/metrics.js';
import { ClusterWatcher, loadKubeConfig } from '../state/live/cluster-watcher.js';
import { addToState, loadManifests } from '../state/manifests.js';
import type { MemoryClusterState } from '../state/memory-state.js';
import { startPeriodicAudit } from './audit.js';

export interface ServeOptions {
  port: number;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  certDir: string;
  state: string[];
  /** Live state from this kubeconfig; without it and without `--state`, KUBECONFIG or the in-cluster config when present. */
  kubeconfig?: string;
  /** What rules answer while the live state is not synced (overridden by the config file). */
  unsynced: 'deny' | 'warn';
  ratcheting: boolean;
  config?: string;
  operatorNamespace: string;
  logLevel: LevelWithSilent;
  /** A file for the decision log alone (one JSON object per line), reopened on SIGHUP for log rotation. */
  decisionLog?: string;
  maxBodyBytes: number;
  /** Request-body bytes all requests together may hold; past it, 429 before the body is read. Default DEFAULT_MAX_INFLIGHT_BODY_BYTES. */
  maxInflightBodyBytes?: number;
  /** Most open connections; default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** Seconds a connection may stay without a request before it is closed; default 95. */
  idleTimeout?: number;
  /** Seconds between audits of every existing object; 0 disables. */
  auditInterval: number;
  /** Seconds to keep serving after SIGTERM while readiness is false. */
  shutdownDelay: number;
  rules: readonly AnyRule[];
  /** Where the process log goes; stdout when unset (tests pass a sink). */
  logDestination?: DestinationStream;
  /** How often the certificate and key files are polled for a rotation, in ms; default 5000. */
  certReloadIntervalMs?: number;
  /** How often the configuration file is polled for a change, in ms; default 2000. */
  configReloadIntervalMs?: number;
  /** Keep the CA and serving certificate in a Secret, renew them, and write the caBundle into the webhook configurations. */
  manageCerts?: boolean;
  certNamespace: string;
  certSecret: string;
  /** Name of both webhook configurations (deploy/ names them alike). */
  webhookConfiguration: string;
  certValidityDays: number;
  certRenewBeforeDays: number;
  certCheckIntervalSeconds: number;
}

export interface RunningServer {
  port: number;
  log: Logger;
  metrics: Metrics;
  engine: Engine;
  /** Graceful stop: readiness false, finish in-flight requests, close. */
  close(): Promise<void>;
  /** Reopens the decision log file (SIGHUP). */
  reopenLogs(): void;
}

/** Whether this process should watch a cluster: a kubeconfig flag, KUBECONFIG, or running in a Pod. */
export function wantsLiveState(opts: Pick<ServeOptions, 'kubeconfig' | 'state'>, env = process.env): boolean {
  if (opts.kubeconfig) return true;
  if (opts.state.length > 0) return false;
  return Boolean(env['KUBECONFIG'] || env['KUBERNETES_SERVICE_HOST']);
}

async function openState(
  opts: ServeOptions,
  operatorNamespace: string,
  log: Logger,
): Promise<{ state: MemoryClusterState; live?: ClusterWatcher }> {
  if (wantsLiveState(opts)) {
    const live = new ClusterWatcher(loadKubeConfig(opts.kubeconfig), operatorNamespace, log);
    await live.start();
    log.info({ unsynced: live.unsynced() }, 'live state started');
    return { state: live.state, live };
  }
  const { state, problems } = addToState(loadManifests(opts.state));
  for (const p of problems) log.warn({ problem: p }, 'state manifest ignored');
  log.info(
    { counts: state.counts(), files: opts.state },
    opts.state.length ? 'state loaded from manifests' : 'no cluster configured: serving with an empty state',
  );
  return { state };
}

/**
 * `--manage-certs`: certificates from the webhook's own Secret (created and
 * renewed there) and the caBundle kept in both webhook configurations. The
 * certificates are written to `--cert-dir`, which the server starts from. A
 * renewal is written there too and installed at once (not at the next file
 * poll, which then finds it already in use).
 */
async function startCertManager(opts: ServeOptions, log: Logger) {
  const manager = new CertManager(
    loadKubeConfig(opts.kubeconfig),
    {
      namespace: opts.certNamespace,
      secretName: opts.certSecret,
      service: DEFAULT_SERVICE,
      validatingWebhook: opts.webhookConfiguration,
      mutatingWebhook: opts.webhookConfiguration,
      validityDays: opts.certValidityDays,
      renewBeforeDays: opts.certRenewBeforeDays,
    },
    log,
  );
  const write = (c: ManagedCertificates) => writeCertificates(opts.certDir, { caCert: c.caCert, caKey: c.caKey, cert: c.cert, key: c.key });
  const first = await manager.reconcile();
  const paths = write(first);
  return {
    files: { certFile: paths.cert, keyFile: paths.key },
    /** Starts the renewal checks; returns a stop function. */
    watch: (certificate: ServingCertificate) =>
      manager.watch(first, opts.certCheckIntervalSeconds * 1000, (c) => {
        write(c);
        certificate.install(c.cert, c.key, 'managed');
      }),
  };
}

function servingFiles(opts: ServeOptions, log: Logger): TlsFiles {
  if (opts.tlsCert && opts.tlsKey) return { certFile: opts.tlsCert, keyFile: opts.tlsKey };
  const { paths, created } = ensureCertificates(opts.certDir, {
    service: DEFAULT_SERVICE,
    namespace: DEFAULT_NAMESPACE,
    validityDays: 365,
  });
  if (created) log.info({ dir: opts.certDir }, 'created a CA and serving certificate');
  return { certFile: paths.cert, keyFile: paths.key };
}

export async function runServe(opts: ServeOptions): Promise<RunningServer> {
  const log = createLogger(opts.logLevel, opts.logDestination);
  const decisionDest = opts.decisionLog ? pino.destination({ dest: opts.decisionLog, sync: false, mkdir: true }) : undefined;
  const decisionLog = decisionDest ? createLogger('info', decisionDest) : undefined;
  const ruleIds = opts.rules.map((r) => r.id);
  // The watcher compares changes against the text this configuration came from, not a later read.
  const loaded = opts.config ? readConfigFile(opts.config, ruleIds) : undefined;
  const { policy, operatorNamespace } = settingsOf(loaded?.config, opts);

  const managed = opts.manageCerts ? await startCertManager(opts, log) : undefined;
  const certificate = new ServingCertificate(managed?.files ?? servingFiles(opts, log), log);
  const source = await openState(opts, operatorNamespace, log);
  const metrics = new Metrics({
    state: () => ({ counts: source.state.counts(), synced: (r) => source.state.isSynced(r) }),
    certificateNotAfter: () => certificate.notAfter,
    inFlightBodyBytes: () => bodyBudget.inFlightBytes,
  });
  const engine = new Engine(opts.rules, { operatorNamespace, policy });

  const bodyBudget = new BodyBudget(opts.maxInflightBodyBytes ?? DEFAULT_MAX_INFLIGHT_BODY_BYTES);
  let shuttingDown = false;
  const listener = createRequestListener({
    engine,
    state: source.state,
    log,
    ...(decisionLog ? { decisionLog } : {}),
    metrics,
    maxBodyBytes: opts.maxBodyBytes,
    bodyBudget,
    ...(source.live ? { prepare: (r) => source.live!.prepare(r) } : {}),
    ready: () => (shuttingDown ? { ready: false, reason: 'shutting down' } : (source.live?.ready() ?? { ready: true })),
  });
  const server = createHttpsServer({
    port: opts.port,
    host: opts.host,
    certificate,
    listener,
    limits: {
      maxConnections: opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      idleTimeoutMs: opts.idleTimeout !== undefined ? opts.idleTimeout * 1000 : DEFAULT_IDLE_TIMEOUT_MS,
    },
    connectionEvents: { refused: () => metrics.connectionClosed('refused'), evicted: () => metrics.connectionClosed('evicted') },
  });
  const port = await listen(server, opts.port, opts.host);
  const stopCertWatch = certificate.watchFiles(opts.certReloadIntervalMs ?? 5000);
  const stopCertManager = managed?.watch(certificate) ?? (() => {});
  const stopConfigWatch =
    opts.config && loaded
      ? watchConfig(
          opts.config,
          ruleIds,
          loaded.text,
          log,
          {
            apply: (c) => {
              engine.setPolicy(c.policy);
              if ((c.operatorNamespace ?? opts.operatorNamespace) !== operatorNamespace)
                log.warn({}, 'operatorNamespace changes take effect at the next restart');
            },
            failed: () => metrics.configReloadFailures.inc(),
          },
          opts.configReloadIntervalMs ?? 2000,
        )
      : () => {};
  const stopAudit =
    opts.auditInterval > 0
      ? startPeriodicAudit({ engine, state: source.state, metrics, log, intervalSeconds: opts.auditInterval })
      : () => {};
  log.info({ port, host: opts.host, rules: ruleIds, policy }, 'serving admission webhook');

  let closing: Promise<void> | undefined;
  // A second call (SIGINT after SIGTERM) waits for the same shutdown instead of returning at once.
  const close = () => (closing ??= shutdown());
  const shutdown = async () => {
    shuttingDown = true;
    log.info({ delaySeconds: opts.shutdownDelay }, 'shutting down: readiness is false');
    await new Promise((r) => setTimeout(r, opts.shutdownDelay * 1000));
    stopCertWatch();
    stopCertManager();
    stopConfigWatch();
    stopAudit();
    // close() stops accepting and resolves once in-flight requests have been answered.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    await source.live?.stop();
    try {
      decisionDest?.flushSync();
    } catch {
      // The file is not open yet (stopped right after starting): nothing was written to it.
    }
    log.info({}, 'stopped');
  };
  return { port, log, metrics, engine, close, reopenLogs: () => decisionDest?.reopen() };
}
