/**
 * `remote-cluster-guard serve`: the HTTPS admission webhook.
 *
 * State: `--state` manifests, or the live cluster (`--kubeconfig`,
 * KUBECONFIG, or the in-cluster config in a Pod). TLS: `--tls-cert/--tls-key`,
 * reloaded when the files change, or `certs/`, created on first start.
 * Shutdown on SIGTERM: readiness turns false, the listener keeps serving for
 * `--shutdown-delay` seconds while endpoints are updated (answering with
 * `Connection: close`, so keep-alive clients leave between two requests),
 * then in-flight requests finish and the decision log is flushed, both within
 * `--drain-timeout` seconds, and the process exits before the grace period ends.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { destination, type DestinationStream, type LevelWithSilent } from 'pino';
import { ensureCertificates, writeCertificates } from '../certs/files.js';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE } from '../certs/generate.js';
import { CertManager, type ManagedCertificates } from '../certs/manager.js';
import { pemCertificates } from '../certs/pair-check.js';
import {
  DEFAULT_MIN_VALIDITY_MS,
  ServingCertificate,
  defaultTrust,
  type TlsFiles,
  type TlsMinVersion,
} from '../certs/serving-certificate.js';
import { settlesWithin } from '../common/deadline.js';
import { readConfigFile, settingsOf, type EventSource, type FederationSettings, type ReportsSetting } from '../config/config-file.js';
import { watchConfig } from '../config/config-watcher.js';
import { Engine } from '../engine/engine.js';
import type { AnyRule } from '../engine/rule.js';
import { createLogger, podName, type Logger } from '../log/logger.js';
import { DEFAULT_MAX_INFLIGHT_BODY_BYTES } from '../server/admission-handler.js';
import { createRequestListener, createSideListener, type AppDeps, type Endpoints } from '../server/app.js';
import { BodyBudget } from '../server/body-budget.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../server/connection-limit.js';
import { decisionLogger } from '../server/decision-log.js';
import { KubeEventSink } from '../server/events/kube-sink.js';
import { EventRecorder, type EventSink } from '../server/events/recorder.js';
import { DecisionLogFile } from '../server/decision-log-file.js';
import { createHttpServer } from '../server/http-server.js';
import { createHttpsServer, DEFAULT_DRAIN_TIMEOUT, DEFAULT_MAX_CONNECTIONS, listen } from '../server/https-server.js';
import { Metrics } from '../server/metrics.js';
import { ReportWriter } from '../server/report-writer.js';
import type { AuditedObject } from '../reports/audited.js';
import { STATE_RESOURCES } from '../state/cluster-state.js';
import type { SecretReadScope } from '../config/secret-reads.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterWatcher, loadKubeConfig } from '../state/live/cluster-watcher.js';
import { DEFAULT_MAX_REMOTE_OBJECTS } from '../state/federation/remote-cluster-watcher.js';
import {
  DEFAULT_FEDERATION_SECRET_NAMESPACE,
  FederationDiscovery,
  type FederationDiscoveryOptions,
} from '../state/federation/federation-discovery.js';
import { addToState, loadManifests } from '../state/manifests.js';
import type { MemoryClusterState } from '../state/memory-state.js';
import { startPeriodicAudit } from './audit.js';

export interface ServeOptions {
  port: number;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  /**
   * `--tls-ca`: the CA bundle (PEM) the webhook configurations' caBundle holds; a new serving certificate
   * must chain to one of its CAs. Default: `ca.crt` next to the certificate, else the starting certificate's issuer.
   */
  tlsCa?: string;
  /** `--cert-min-validity`: a new serving certificate must be valid at least this many hours; default 24. */
  certMinValidityHours?: number;
  /** `--tls-min-version`; TLSv1.2 unless set. */
  tlsMinVersion?: TlsMinVersion;
  /** `--client-ca`: the CA (PEM file) of client certificates; without it no client certificate is asked for. */
  clientCa?: string;
  /** `--client-cn`: subject CNs allowed on client certificates (with `clientCa`; default `kube-apiserver`). */
  clientNames?: string[];
  /**
   * Ports of their own (plain HTTP, on `host`) for `/metrics` and for `/healthz` and `/readyz`;
   * 0 picks a free one (tests). Unset: served on the webhook port. One port for both when they are equal.
   */
  metricsPort?: number;
  healthPort?: number;
  certDir: string;
  state: string[];
  /** Live state from this kubeconfig; without it and without `--state`, KUBECONFIG or the in-cluster config when present. */
  kubeconfig?: string;
  /** Seconds a live watch may be broken before the rules that need its resource answer `unsynced`; default 60. */
  maxStaleness?: number;
  /** `--read-ca-secrets [namespaces]`: read Secrets by name for the CA trust rules (true: every namespace; `a,b`: those); overridden by the config file's `readCaSecrets`. */
  readCaSecrets?: boolean | string;
  /** `--federation-discovery`: watch the remote clusters of the RCCs (src/state/federation/); the config file's `federation` wins. */
  federationDiscovery?: boolean;
  /** `--federation-secret-namespace`: the only namespace clusterAccessSecrets are read from. */
  federationSecretNamespace?: string;
  /** `--federation-max-remote-objects`: most IPPools, and most Nodes, of one remote cluster indexed. */
  federationMaxRemoteObjects?: number;
  /** Timings of federation discovery (tests). */
  federationTimings?: FederationDiscoveryOptions;
  /** What rules answer while the live state is not synced (overridden by the config file). */
  unsynced: 'deny' | 'warn';
  ratcheting: boolean;
  config?: string;
  operatorNamespace: string;
  logLevel: LevelWithSilent;
  /**
   * Where decisions go besides the default (the process log on stdout):
   * - a file: decisions also go there (one JSON object per line; still on stdout as well), reopened on SIGHUP
   *   for log rotation; a file that cannot be written never stops the webhook (decision-log-file.ts);
   * - `-`: decisions only on stdout, and the process log on stderr, so each stream is one kind of record.
   */
  decisionLog?: string;
  /** Where `decisionLog: '-'` writes; stdout when unset (tests pass a sink). */
  decisionDestination?: DestinationStream;
  /** `/readyz` answers 503 while the decision log file cannot be written (sites that must not admit without a record). */
  decisionLogRequired?: boolean;
  /** Bytes of decisions held in memory while the file cannot be written; default 8 MiB (tests use less). */
  decisionLogBufferBytes?: number;
  /** Milliseconds between two attempts to write a failing decision log file; default 1000. */
  decisionLogRetryMs?: number;
  maxBodyBytes: number;
  /** Request-body bytes all requests together may hold; past it, 429 before the body is read. Default DEFAULT_MAX_INFLIGHT_BODY_BYTES. */
  maxInflightBodyBytes?: number;
  /** Most open connections; default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** Seconds a connection may stay without a request before it is closed; default 95. */
  idleTimeout?: number;
  /** Seconds between audits of every existing object; 0 disables. */
  auditInterval: number;
  /**
   * `--emit-events`: Kubernetes Events for denials (admission) and periodic audit violations (audit); none when unset.
   * The configuration file's `emitEvents`, when it has one, wins (as its other keys do).
   */
  emitEvents?: EventSource[];
  /** Namespace of Events about namespaced objects that do not exist yet (a denied CREATE); default remote-cluster-guard. */
  eventsNamespace?: string;
  /** Where Events are written; the cluster of `kubeconfig` (else KUBECONFIG or the Pod's) when unset (tests pass their own). */
  eventSink?: EventSink;
  /**
   * `--reports`: where each audit's results go as policy reports (live state only); default `auto`.
   * The configuration file's `reports` key wins when set.
   */
  reports?: ReportsSetting;
  /** Seconds to keep serving after SIGTERM while readiness is false. */
  shutdownDelay: number;
  /**
   * Seconds after the shutdown delay for in-flight requests and the decision log flush; connections still
   * open then are closed and unwritten decisions counted as dropped. Default 10.
   */
  drainTimeout?: number;
  rules: readonly AnyRule[];
  /** Where the process log goes; stdout when unset (stderr with `decisionLog: '-'`; tests pass a sink). */
  logDestination?: DestinationStream;
  /** How often the certificate and key files are polled for a rotation, in ms; default 5000. */
  certReloadIntervalMs?: number;
  /** How often the configuration file is polled for a change, in ms; default 2000. */
  configReloadIntervalMs?: number;
  /** Keep the CA and serving certificate in a Secret, renew them, and write the caBundle into the webhook configurations. */
  manageCerts?: boolean;
  certNamespace: string;
  certSecret: string;
  /** The Service the managed serving certificate is issued for (`<service>.<certNamespace>.svc`); default DEFAULT_SERVICE. */
  certService?: string;
  /** Name of both webhook configurations (deploy/ names them alike). */
  webhookConfiguration: string;
  certValidityDays: number;
  certRenewBeforeDays: number;
  certCheckIntervalSeconds: number;
}

export interface RunningServer {
  port: number;
  /** The bound ports of `metricsPort` and `healthPort`, when set. */
  metricsPort?: number;
  healthPort?: number;
  log: Logger;
  metrics: Metrics;
  engine: Engine;
  /** Graceful stop: readiness false, finish in-flight requests, close; resolves within the shutdown delay plus the drain timeout. */
  close(): Promise<void>;
  /** Reopens the decision log file (SIGHUP); resolves whether it switched (a failed open keeps the old file). Never rejects. */
  reopenLogs(): Promise<boolean>;
}

/**
 * Closes `servers`: they stop accepting, idle connections close at once, and
 * the others once answered or, after `ms`, closed as they are. Resolves once
 * every server is closed: true when no connection had to be cut.
 */
async function closeServers(servers: readonly Server[], ms: number): Promise<boolean> {
  const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  for (const s of servers) s.closeIdleConnections();
  const drained = await settlesWithin(closed, ms);
  if (!drained) for (const s of servers) s.closeAllConnections();
  await closed;
  return drained;
}

/** Whether this process should watch a cluster: a kubeconfig flag, KUBECONFIG, or running in a Pod. */
export function wantsLiveState(opts: Pick<ServeOptions, 'kubeconfig' | 'state'>, env = process.env): boolean {
  if (opts.kubeconfig) return true;
  if (opts.state.length > 0) return false;
  return Boolean(env['KUBECONFIG'] || env['KUBERNETES_SERVICE_HOST']);
}

function openState(
  opts: ServeOptions,
  operatorNamespace: string,
  readCaSecrets: SecretReadScope,
  log: Logger,
  kubeConfig: () => KubeConfig,
): { state: MemoryClusterState; live?: ClusterWatcher } {
  if (wantsLiveState(opts)) {
    const live = new ClusterWatcher(kubeConfig(), operatorNamespace, log, {
      maxStalenessSeconds: opts.maxStaleness ?? 60,
      readCaSecrets,
    });
    // Not awaited: the port opens at once whatever the API server does; /readyz stays 503 until every list is in.
    void live.start().then(
      () => log.info({ unsynced: live.unsynced() }, 'live state started'),
      // start() handles list and watch errors itself (retries); anything else is a bug, logged rather than crashing the server.
      (err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'live state failed to start'),
    );
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
 * Federation discovery when asked for (the config file's `federation` wins
 * over the flags): it reads the RCCs of the live state, so it needs one.
 */
function startFederationDiscovery(
  opts: ServeOptions,
  settings: FederationSettings | undefined,
  source: { state: MemoryClusterState; live?: ClusterWatcher },
  log: Logger,
  kubeConfig: () => KubeConfig,
): FederationDiscovery | undefined {
  const enabled = settings?.discovery ?? opts.federationDiscovery ?? false;
  if (!enabled) return undefined;
  if (!source.live) throw new Error('federation discovery needs a live state (--kubeconfig, KUBECONFIG or a Pod), not --state manifests');
  const state = source.state;
  const discovery = new FederationDiscovery(
    kubeConfig(),
    {
      listRemoteClusterConfigurations: () => state.calico.listRemoteClusterConfigurations(),
      rccsSynced: () => state.isSynced('RemoteClusterConfiguration'),
    },
    state.calico,
    log,
    {
      ...opts.federationTimings,
      secretNamespace: settings?.secretNamespace ?? opts.federationSecretNamespace ?? DEFAULT_FEDERATION_SECRET_NAMESPACE,
      remote: {
        ...opts.federationTimings?.remote,
        maxObjects: settings?.maxRemoteObjects ?? opts.federationMaxRemoteObjects ?? DEFAULT_MAX_REMOTE_OBJECTS,
      },
    },
  );
  discovery.start();
  return discovery;
}

/**
 * `--manage-certs`: certificates from the webhook's own Secret (created and
 * renewed there) and the caBundle kept in both webhook configurations. The
 * certificates are written to `--cert-dir`, which the server starts from. A
 * renewal is written there too and installed at once (not at the next file
 * poll, which then finds it already in use).
 */
async function startCertManager(opts: ServeOptions, log: Logger, kubeConfig: () => KubeConfig) {
  const manager = new CertManager(
    kubeConfig(),
    {
      namespace: opts.certNamespace,
      secretName: opts.certSecret,
      service: opts.certService ?? DEFAULT_SERVICE,
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
        // Checked against the bundle just published, which holds a new CA before it signs anything served.
        certificate.install(c.cert, c.key, 'managed', { pem: c.caBundle });
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

/** The PEM of a CA file flag; throws naming the flag when it is unreadable or holds no certificate. */
function caFile(flag: string, file: string): Buffer {
  try {
    const pem = readFileSync(file);
    pemCertificates(pem);
    return pem;
  } catch (err) {
    throw new Error(`${flag} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Gatekeeper's default `--client-cn-name`: the CN of the kube-apiserver's client certificate. */
export const DEFAULT_CLIENT_CN = 'kube-apiserver';

/** The plain HTTP listeners of `metricsPort` and `healthPort` (one when they are the same port). */
async function listenSidePorts(opts: ServeOptions, deps: AppDeps) {
  const servers: Server[] = [];
  const ports: { metricsPort?: number; healthPort?: number } = {};
  const open = async (port: number, endpoints: Endpoints) => {
    const server = createHttpServer(createSideListener(deps, endpoints));
    servers.push(server);
    return listen(server, port, opts.host);
  };
  const { metricsPort, healthPort } = opts;
  if (metricsPort !== undefined && metricsPort === healthPort && metricsPort !== 0) {
    ports.metricsPort = ports.healthPort = await open(metricsPort, { health: true, metrics: true });
  } else {
    if (metricsPort !== undefined) ports.metricsPort = await open(metricsPort, { health: false, metrics: true });
    if (healthPort !== undefined) ports.healthPort = await open(healthPort, { health: true, metrics: false });
  }
  return { servers, ports };
}

export async function runServe(opts: ServeOptions): Promise<RunningServer> {
  const decisionsOnStdout = opts.decisionLog === '-';
  const log = createLogger(opts.logLevel, opts.logDestination ?? (decisionsOnStdout ? destination(2) : undefined));
  const ruleIds = opts.rules.map((r) => r.id);
  // The watcher compares changes against the text this configuration came from, not a later read.
  const loaded = opts.config ? readConfigFile(opts.config, ruleIds) : undefined;
  const { policy, operatorNamespace, readCaSecrets } = settingsOf(loaded?.config, opts);
  const emit = new Set(loaded?.config.emitEvents ?? opts.emitEvents ?? []);
  if (emit.has('audit') && !(opts.auditInterval > 0)) throw new Error('Events of the audit (emitEvents audit) need --audit-interval');

  // Before anything is created or started: a mistyped CA path is an error of the flags.
  const clientCa = opts.clientCa === undefined ? undefined : caFile('--client-ca', opts.clientCa);
  if (opts.tlsCa !== undefined) caFile('--tls-ca', opts.tlsCa);
  // Read once, when a part that talks to the API server first needs it: the live state, --manage-certs, Events, reports.
  let loadedKubeConfig: KubeConfig | undefined;
  const kubeConfig = () => (loadedKubeConfig ??= loadKubeConfig(opts.kubeconfig));
  const source = openState(opts, operatorNamespace, readCaSecrets, log, kubeConfig);
  const discovery = startFederationDiscovery(opts, loaded?.config.federation, source, log, kubeConfig);
  // Set once the serving certificate is read (with --manage-certs, after the Secret is reconciled).
  let certificate: ServingCertificate | undefined;
  const metrics = new Metrics({
    state: () => ({
      counts: source.state.counts(),
      synced: (r) => source.state.isSynced(r),
      staleness: (r) => source.live?.staleness(r) ?? 0,
    }),
    ...(discovery ? { remoteClusters: () => discovery.statuses() } : {}),
    certificateNotAfter: () => certificate?.notAfter,
    inFlightBodyBytes: () => bodyBudget.inFlightBytes,
  });
  const engine = new Engine(opts.rules, { operatorNamespace, policy });
  // Not pino.destination: its exit hook retries a failed synchronous flush forever (decision-log-file.ts).
  const decisionFile =
    opts.decisionLog && !decisionsOnStdout
      ? new DecisionLogFile({
          path: opts.decisionLog,
          onDrop: (n) => metrics.decisionLogDropped.inc(n),
          ...(opts.decisionLogBufferBytes !== undefined ? { maxBufferBytes: opts.decisionLogBufferBytes } : {}),
          ...(opts.decisionLogRetryMs !== undefined ? { retryMs: opts.decisionLogRetryMs } : {}),
        })
      : undefined;
  const decisionLogs = decisionsOnStdout
    ? [decisionLogger(createLogger('info', opts.decisionDestination ?? destination(1)))]
    : [decisionLogger(log), ...(decisionFile ? [decisionLogger(createLogger('info', decisionFile))] : [])];

  // The cluster of --kubeconfig (else KUBECONFIG or the Pod's), also with --state: Events need one.
  const events =
    emit.size > 0
      ? new EventRecorder({
          sink: opts.eventSink ?? new KubeEventSink(kubeConfig()),
          log,
          webhookNamespace: opts.eventsNamespace ?? DEFAULT_NAMESPACE,
          reportingInstance: podName(),
          counted: (result) => metrics.events.inc({ result }),
          failed: (cause) => metrics.eventWriteFailures.inc({ cause }),
        })
      : undefined;
  if (events) metrics.eventsEnabled();

  const bodyBudget = new BodyBudget(opts.maxInflightBodyBytes ?? DEFAULT_MAX_INFLIGHT_BODY_BYTES);
  let shuttingDown = false;
  const deps: AppDeps = {
    engine,
    state: source.state,
    log,
    decisionLogs,
    metrics,
    maxBodyBytes: opts.maxBodyBytes,
    bodyBudget,
    ...(events && emit.has('admission') ? { events } : {}),
    ...(source.live ? { prepare: (r) => source.live!.prepare(r) } : {}),
    ready: () => {
      if (shuttingDown) return { ready: false, reason: 'shutting down' };
      if (!certificate) return { ready: false, reason: 'the serving certificate is not issued yet (--manage-certs)' };
      const logFailing = decisionFile !== undefined && !decisionFile.healthy();
      if (opts.decisionLogRequired && logFailing) return { ready: false, reason: 'the decision log file cannot be written' };
      const state = source.live?.ready() ?? { ready: true };
      // Still ready without --decision-log-required, but said, as on stderr and in the dropped counter.
      return state.ready && logFailing
        ? { ...state, warning: 'the decision log file cannot be written (decisions wait in memory, then are dropped and counted)' }
        : state;
    },
  };
  const handle = createRequestListener(deps, {
    endpoints: { health: opts.healthPort === undefined, metrics: opts.metricsPort === undefined },
    ...(opts.clientCa ? { clientNames: opts.clientNames?.length ? opts.clientNames : [DEFAULT_CLIENT_CN] } : {}),
  });
  // During the shutdown delay every answer closes its connection, so keep-alive clients reconnect (to
  // another Pod) between two requests instead of having an idle connection closed under a request.
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (shuttingDown) res.setHeader('connection', 'close');
    handle(req, res);
  };
  // The probe and metrics ports first: with --manage-certs the first reconcile talks to the API server, and
  // a hung one must not keep /healthz from answering (the liveness probe would restart the Pod in a loop).
  const side = await listenSidePorts(opts, deps);
  let managed: Awaited<ReturnType<typeof startCertManager>> | undefined;
  try {
    managed = opts.manageCerts ? await startCertManager(opts, log, kubeConfig) : undefined;
    const files = managed?.files ?? servingFiles(opts, log);
    const trust = opts.tlsCa ? { file: opts.tlsCa } : defaultTrust(files.certFile);
    certificate = new ServingCertificate(files, log, {
      ...(trust ? { trust } : {}),
      minValidityMs: opts.certMinValidityHours === undefined ? DEFAULT_MIN_VALIDITY_MS : opts.certMinValidityHours * 3_600_000,
      tls: {
        ...(opts.tlsMinVersion ? { minVersion: opts.tlsMinVersion } : {}),
        ...(clientCa ? { clientCa } : {}),
      },
      refused: (reason) => metrics.certificateReloadFailures.inc({ reason }),
    });
  } catch (err) {
    // No certificate, no webhook: what was started is stopped, so the error ends the process (or the test).
    await closeServers(side.servers, 0);
    await source.live?.stop();
    throw err;
  }
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
              reportsSetting = c.reports ?? opts.reports ?? 'auto';
              if ((c.operatorNamespace ?? opts.operatorNamespace) !== operatorNamespace)
                log.warn({}, 'operatorNamespace changes take effect at the next restart');
              if ([...new Set(c.emitEvents ?? opts.emitEvents ?? [])].sort().join() !== [...emit].sort().join())
                log.warn({}, 'emitEvents changes take effect at the next restart');
            },
            failed: () => metrics.configReloadFailures.inc(),
          },
          opts.configReloadIntervalMs ?? 2000,
        )
      : () => {};
  let reportsSetting: ReportsSetting = loaded?.config.reports ?? opts.reports ?? 'auto';
  // Reports go to the cluster the state is watched in; manifests have none.
  const writer =
    source.live && opts.auditInterval > 0
      ? new ReportWriter(kubeConfig(), {
          log,
          metrics,
          setting: () => reportsSetting,
          webhookConfiguration: opts.webhookConfiguration,
        })
      : undefined;
  // An audit of a state not synced (or stale past --max-staleness) lacks objects: its reports would delete their results.
  const reports = writer && {
    write: (objects: readonly AuditedObject[]) => {
      const pending = STATE_RESOURCES.filter((r) => !source.state.isSynced(r));
      if (pending.length === 0) return writer.write(objects);
      log.warn({ unsynced: pending }, 'policy reports not written: the state is not synced');
      return Promise.resolve();
    },
  };
  const stopAudit =
    opts.auditInterval > 0
      ? startPeriodicAudit({
          engine,
          state: source.state,
          metrics,
          log,
          intervalSeconds: opts.auditInterval,
          ...(events && emit.has('audit') ? { onViolation: (r) => events.audit(r) } : {}),
          ...(reports ? { reports } : {}),
          ...(source.live ? { prepare: () => source.live!.prepareAll() } : {}),
        })
      : () => {};
  log.info(
    { port, ...side.ports, host: opts.host, clientAuth: Boolean(opts.clientCa), rules: ruleIds, policy, emitEvents: [...emit] },
    'serving admission webhook',
  );

  const drainMs = (opts.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT) * 1000;
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
    const deadline = Date.now() + drainMs;
    const left = () => Math.max(0, deadline - Date.now());
    if (!(await closeServers([server], left())))
      log.warn({ drainTimeoutSeconds: drainMs / 1000 }, 'requests still in flight at the drain timeout: their connections were closed');
    // The probe and metrics ports last: readiness stays visible as false until the webhook port has closed.
    await closeServers(side.servers, left());
    discovery?.stop();
    if (source.live) await settlesWithin(source.live.stop(), left());
    await events?.close(left());
    await decisionFile?.close(left());
    log.info({}, 'stopped');
  };
  return {
    port,
    ...side.ports,
    log,
    metrics,
    engine,
    close,
    reopenLogs: () => decisionFile?.reopen() ?? Promise.resolve(false),
  };
}
