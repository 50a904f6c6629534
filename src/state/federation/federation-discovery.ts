/**
 * Federation discovery (`serve --federation-discovery`, config file
 * `federation.discovery`): one RemoteClusterWatcher per
 * RemoteClusterConfiguration of the local cluster whose access the webhook
 * can use (remote-access.ts), started, rebuilt and stopped as RCCs and their
 * Secrets come, change and go. The RCCs are read from the live state (its
 * own informer); a Secret an RCC names is read by name (`get`), in the one
 * namespace allowed, when the RCC is first seen and every
 * `secretRefreshMs` after, and the remote's client is rebuilt when what it
 * connects with changes.
 *
 * What the rules see (src/state/remote-cluster-ranges.ts): the discovered
 * ranges, and per remote whether they are current. A remote that cannot be
 * reached, whose Secret is gone or holds garbage, keeps its last known
 * ranges and is reported unsynced with the reason; an RCC that is deleted
 * takes its discovered ranges with it. An RCC of an etcdv3 remote, or with
 * no access fields at all, is not under discovery (logged once).
 *
 * Nothing here is on the admission path: a reconcile runs every
 * `reconcileIntervalMs` on a timer; `/readyz` never depends on a remote.
 */
import { existsSync, readFileSync } from 'node:fs';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { withDeadline } from '../../common/deadline.js';
import { apiStatus } from '../../kube/api-status.js';
import type { RemoteClusterConfiguration } from '../../kube/calico.js';
import type { Logger } from '../../log/logger.js';
import type { RemoteClusterRangeSink } from '../remote-cluster-ranges.js';
import { accessSecretOf, remoteAccess, type FileAccess, type SecretRead } from './remote-access.js';
import { RemoteClusterWatcher, type RemoteStatus, type RemoteWatcherOptions } from './remote-cluster-watcher.js';

/** Calico's namespace on operator installs, where Calico Enterprise's docs create the clusterAccessSecret. */
export const DEFAULT_FEDERATION_SECRET_NAMESPACE = 'calico-system';

export interface FederationDiscoveryOptions {
  /** The only namespace clusterAccessSecrets are read from. Default `calico-system`. */
  secretNamespace?: string;
  /** How often RCCs are compared with the running watchers, ms. Default 1 s. */
  reconcileIntervalMs?: number;
  /** How often a named Secret is read again, ms. Default 10 s. */
  secretRefreshMs?: number;
  remote?: RemoteWatcherOptions;
  files?: FileAccess;
}

/** Where discovery reads the local RCCs from: the live state, once its RCC informer has listed. */
export interface RccSource {
  listRemoteClusterConfigurations(): Iterable<RemoteClusterConfiguration>;
  rccsSynced(): boolean;
}

/** One remote cluster as discovery runs it. */
interface Remote {
  watcher?: RemoteClusterWatcher;
  fingerprint?: string;
  /** Why it is not discovered (access unusable), for status and the once-per-cause log. */
  problem?: string;
  secret?: { read: SecretRead; at: number; reading: boolean };
}

const LOCAL_FILES: FileAccess = { exists: existsSync, read: (p) => readFileSync(p, 'utf-8') };

export class FederationDiscovery {
  private readonly remotes = new Map<string, Remote>();
  private readonly core: CoreV1Api;
  private readonly secretNamespace: string;
  private readonly reconcileIntervalMs: number;
  private readonly secretRefreshMs: number;
  private readonly files: FileAccess;
  private timer?: NodeJS.Timeout;
  /** RCCs not under discovery (etcdv3, no access fields), each logged once per reason. */
  private readonly skipped = new Map<string, string>();

  constructor(
    localKc: KubeConfig,
    private readonly rccs: RccSource,
    private readonly sink: RemoteClusterRangeSink,
    private readonly log: Logger,
    private readonly options: FederationDiscoveryOptions = {},
  ) {
    this.core = localKc.makeApiClient(CoreV1Api);
    this.secretNamespace = options.secretNamespace ?? DEFAULT_FEDERATION_SECRET_NAMESPACE;
    this.reconcileIntervalMs = options.reconcileIntervalMs ?? 1_000;
    this.secretRefreshMs = options.secretRefreshMs ?? 10_000;
    this.files = options.files ?? LOCAL_FILES;
  }

  start(): void {
    this.timer = setInterval(() => this.reconcile(), this.reconcileIntervalMs);
    this.timer.unref();
    this.reconcile();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const r of this.remotes.values()) r.watcher?.stop();
  }

  /** Every remote under discovery, by name, with its status (for the metrics). */
  statuses(): Map<string, RemoteStatus> {
    const out = new Map<string, RemoteStatus>();
    for (const [name, r] of [...this.remotes].sort(([a], [b]) => a.localeCompare(b))) {
      out.set(name, r.watcher?.status() ?? { synced: false, reason: r.problem ?? 'starting', objects: { IPPool: 0, Node: 0 } });
    }
    return out;
  }

  /** Brings the watchers in line with the RCCs; synchronous but for the Secret reads it starts. */
  reconcile(): void {
    if (!this.rccs.rccsSynced()) return;
    const seen = new Set<string>();
    for (const rcc of this.rccs.listRemoteClusterConfigurations()) {
      const name = rcc.metadata.name ?? '';
      if (!name) continue;
      seen.add(name);
      this.reconcileOne(name, rcc);
    }
    for (const [name, r] of this.remotes) {
      if (seen.has(name)) continue;
      r.watcher?.stop();
      this.remotes.delete(name);
      this.sink.setRemoteRanges(name, 'discovered', []);
      this.sink.setRemoteSync(name, undefined);
      this.log.info({ remoteCluster: name }, 'remote cluster discovery stopped: its RemoteClusterConfiguration is gone');
    }
    for (const name of this.skipped.keys()) if (!seen.has(name)) this.skipped.delete(name);
  }

  private reconcileOne(name: string, rcc: RemoteClusterConfiguration): void {
    const r = this.remotes.get(name) ?? {};
    const ref = accessSecretOf(rcc, this.secretNamespace);
    if (ref && ref.namespace === this.secretNamespace && ref.name) this.refreshSecret(r, ref.name);
    else delete r.secret;
    const access = remoteAccess(rcc, r.secret?.read, this.secretNamespace, this.files);
    if (!access.usable && !access.applies) {
      // Not a remote discovery can read: no status, so no rule waits for it.
      if (this.skipped.get(name) !== access.reason)
        this.log.warn({ remoteCluster: name, reason: access.reason }, 'remote cluster not discovered');
      this.skipped.set(name, access.reason);
      if (this.remotes.has(name)) {
        r.watcher?.stop();
        this.remotes.delete(name);
        this.sink.setRemoteRanges(name, 'discovered', []);
        this.sink.setRemoteSync(name, undefined);
      }
      return;
    }
    this.skipped.delete(name);
    this.remotes.set(name, r);
    if (!access.usable) {
      // Stopped, last known ranges kept, reported unsynced: the Secret may come back or be fixed.
      // The first read of its Secret still under way is no failure: reported, not logged.
      const firstRead = r.secret?.reading === true && r.secret.read === undefined;
      if (r.problem !== access.reason && !firstRead)
        this.log.warn({ remoteCluster: name, reason: access.reason }, 'remote cluster discovery cannot connect');
      r.problem = access.reason;
      r.watcher?.stop();
      delete r.watcher;
      delete r.fingerprint;
      this.sink.setRemoteSync(name, { synced: false, reason: access.reason });
      return;
    }
    if (r.fingerprint !== access.fingerprint) {
      r.watcher?.stop();
      this.log.info({ remoteCluster: name, via: access.via, rebuilt: r.fingerprint !== undefined }, 'remote cluster discovery started');
      r.watcher = new RemoteClusterWatcher(name, access.kubeConfig, this.sink, this.log, this.options.remote);
      r.fingerprint = access.fingerprint;
      r.watcher.start();
    }
    delete r.problem;
    const status = r.watcher!.status();
    this.sink.setRemoteSync(name, status.synced ? { synced: true } : { synced: false, reason: status.reason ?? 'not synced' });
  }

  /** Starts a read of the Secret when none was made or the last one is older than the refresh period. */
  private refreshSecret(r: Remote, secretName: string): void {
    const now = Date.now();
    if (r.secret && (r.secret.reading || now - r.secret.at < this.secretRefreshMs)) return;
    const slot = (r.secret ??= { read: undefined, at: 0, reading: false });
    slot.reading = true;
    const where = `clusterAccessSecret ${this.secretNamespace}/${secretName}`;
    withDeadline(this.core.readNamespacedSecret({ name: secretName, namespace: this.secretNamespace }), 10_000, `read ${where}`)
      .then(
        (secret) => {
          const data: Record<string, string> = {};
          for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf-8');
          slot.read = { found: true, data };
        },
        (err: unknown) => {
          const status = apiStatus(err);
          if (status === 404) slot.read = { found: false, reason: `${where} not found` };
          else if (status === 403) {
            slot.read = {
              found: false,
              reason: `${where} cannot be read: forbidden (grant get on Secrets in ${this.secretNamespace}: deploy/components/federation-discovery)`,
            };
          }
          // Anything else (the local API server busy or away): keep what was read before.
          else slot.read ??= { found: false, reason: `${where} cannot be read yet` };
        },
      )
      .finally(() => {
        slot.reading = false;
        slot.at = Date.now();
        this.reconcile();
      });
  }
}
