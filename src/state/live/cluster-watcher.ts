/**
 * The cluster watcher: it owns the live cluster state (a MemoryClusterState,
 * `state`) and keeps it current with informers (client-node `ListWatch`, list
 * + watch), so every admission lookup is answered from memory. It is not a
 * ClusterState itself: the rules read `state`. `ready()` turns true once
 * every source has finished its initial list; a lost watch is restarted with backoff; a resource whose CRD is not
 * installed counts as synced and empty (logged once, looked for again every
 * minute).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type KubernetesObject } from '@kubernetes/client-node';
import type { ObjectRequest } from '../../kube/object-request.js';
import { ELASTICSEARCH_GROUP, TRANSPORT_CA_FOR_LABEL } from '../../kube/elasticsearch.js';
import type { Logger } from '../../log/logger.js';
import type { StateResource } from '../cluster-state.js';
import { MemoryClusterState } from '../memory-state.js';
import { Backoff } from './backoff.js';
import { ConfigMapFetcher } from './configmap-fetcher.js';
import { liveSources, type Candidate, type SourceSpec } from './sources.js';

const REDISCOVER_MS = 60_000;

interface SourceRun {
  spec: SourceSpec;
  synced: boolean;
  informer?: ListWatch<KubernetesObject>;
  timer?: NodeJS.Timeout;
  backoff: Backoff;
  /** The candidate in use, for logs. */
  path?: string;
}

/** A kubeconfig that cannot be used (missing, unreadable, not a kubeconfig, none at all); the message is one line naming the file. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

/** Where the service account token of a Pod is mounted: the in-cluster configuration exists when it does. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Whether a cluster is configured without `--kubeconfig`: KUBECONFIG,
 * `~/.kube/config`, or a Pod's service account. Without any of them
 * client-node's `loadFromDefault` falls back to http://localhost:8080, which
 * a command-line user never means.
 */
export function hasDefaultKubeConfig(env: NodeJS.ProcessEnv = process.env, home = env['HOME'] ?? homedir()): boolean {
  return Boolean(env['KUBECONFIG']) || existsSync(join(home, '.kube', 'config')) || existsSync(SERVICE_ACCOUNT_TOKEN);
}

/**
 * Builds a KubeConfig: `--kubeconfig` file, else KUBECONFIG / ~/.kube/config / in-cluster.
 * Throws KubeConfigError for a file that cannot be read or is not a kubeconfig with a current cluster.
 */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  const source = file ?? 'the default kubeconfig';
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf-8');
    } catch (err) {
      throw new KubeConfigError(`kubeconfig ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      kc.loadFromString(text);
      // Relative certificate and key paths are relative to the file, as kubectl reads them.
      kc.makePathsAbsolute(dirname(file));
    } catch (err) {
      throw new KubeConfigError(`kubeconfig ${file}: not a valid kubeconfig (${oneLine((err as Error).message)})`);
    }
  } else {
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new KubeConfigError(`${source}: not a valid kubeconfig (${oneLine((err as Error).message)})`);
    }
  }
  if (!kc.getCurrentCluster()) throw new KubeConfigError(`kubeconfig ${source}: no current context with a cluster`);
  return kc;
}

const oneLine = (text: string) => text.split('\n', 1)[0]!;

export class ClusterWatcher {
  readonly state = new MemoryClusterState();
  private readonly runs: SourceRun[];
  private readonly watch: Watch;
  private readonly fetcher: ConfigMapFetcher;
  private stopped = false;
  private failure: string | undefined;

  constructor(
    kc: KubeConfig,
    operatorNamespace: string,
    private readonly log: Logger,
  ) {
    this.watch = new Watch(kc);
    this.fetcher = new ConfigMapFetcher(kc.makeApiClient(CoreV1Api), this.state, log);
    this.runs = liveSources(kc, operatorNamespace).map((spec) => ({ spec, synced: false, backoff: new Backoff() }));
    for (const r of this.runs) this.state.setSynced(r.spec.resource, false);
  }

  /** Starts every source; resolves once each has made its first attempt (synced or not). */
  async start(): Promise<void> {
    await Promise.all(this.runs.map((r) => this.startSource(r)));
  }

  /** Resolves true once every source has synced, false after `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.unsynced().length === 0) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.unsynced().length === 0;
  }

  /** Names of the sources whose initial list has not completed. */
  unsynced(): string[] {
    return this.runs.filter((r) => !r.synced).map((r) => r.spec.name);
  }

  /** The last failed list or watch, `<source>: <message>`, for an error message when the state does not sync. */
  lastError(): string | undefined {
    return this.failure;
  }

  ready(): { ready: boolean; reason?: string } {
    const pending = this.unsynced();
    return pending.length === 0 ? { ready: true } : { ready: false, reason: `state not synced: ${pending.join(', ')}` };
  }

  /**
   * Fetches what a request needs that no watch delivers (a named transport CA
   * ConfigMap): undefined when nothing is missing or stale, so the request is
   * answered at once; else a promise that settles when the fetch has (never
   * rejecting).
   */
  prepare(request: ObjectRequest): Promise<void> | undefined {
    if (request.group !== ELASTICSEARCH_GROUP || request.kind !== 'Elasticsearch') return undefined;
    const obj = request.object as { spec?: { transport?: { tls?: { certificateAuthorities?: { configMapName?: unknown } } } } } | undefined;
    const name = obj?.spec?.transport?.tls?.certificateAuthorities?.configMapName;
    // The request's namespace is the object's own, else the one it is created in (objectRequest).
    const namespace = request.namespace;
    if (typeof name !== 'string' || !name || !namespace) return undefined;
    const watched = (key: { namespace: string; name: string }) =>
      this.state.getConfigMap(key)?.metadata.labels?.[TRANSPORT_CA_FOR_LABEL] !== undefined;
    return this.fetcher.ensure({ namespace, name }, watched);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.runs) {
      if (r.timer) clearTimeout(r.timer);
      await r.informer?.stop();
    }
  }

  private markSynced(run: SourceRun): void {
    run.synced = true;
    const resource = run.spec.resource;
    if (this.runs.every((r) => r.spec.resource !== resource || r.synced)) {
      this.state.setSynced(resource, true);
      this.log.info({ resource, count: this.state.counts()[resource] }, 'state synced');
    }
  }

  private retry(run: SourceRun, delayMs: number): void {
    if (this.stopped) return;
    run.timer = setTimeout(() => void this.startSource(run), delayMs);
    run.timer.unref();
  }

  private async startSource(run: SourceRun): Promise<void> {
    if (this.stopped) return;
    if (run.informer) {
      // A lost watch: resume from the last resource version (ListWatch relists on 410 Gone).
      await this.startInformer(run, run.informer);
      return;
    }
    for (const candidate of run.spec.candidates) {
      let first;
      try {
        first = await candidate.list();
      } catch (err) {
        if ((err as { code?: number }).code === 404) continue;
        const delay = run.backoff.next();
        this.failure = `${run.spec.name}: ${(err as Error).message}`;
        this.log.warn({ source: run.spec.name, path: candidate.path, err: (err as Error).message, retryInMs: delay }, 'list failed');
        this.retry(run, delay);
        return;
      }
      run.path = candidate.path;
      run.informer = this.makeInformer(run, candidate, first);
      await this.startInformer(run, run.informer);
      return;
    }
    // None of the groups is served: nothing to watch, which is a valid (empty) state.
    if (!run.synced) this.log.info({ source: run.spec.name }, 'resource not served by this cluster; rules see none');
    this.markSynced(run);
    this.retry(run, REDISCOVER_MS);
  }

  private makeInformer(run: SourceRun, candidate: Candidate, first: Awaited<ReturnType<Candidate['list']>>): ListWatch<KubernetesObject> {
    let pending: typeof first | undefined = first;
    const listFn = async () => {
      const list = pending ?? (await candidate.list());
      pending = undefined;
      return list;
    };
    const informer = new ListWatch(candidate.path, this.watch, listFn, false, candidate.labelSelector, candidate.fieldSelector);
    const resource: StateResource = run.spec.resource;
    const upsert = (obj: KubernetesObject) => {
      const r = this.state.apply({ apiVersion: obj.apiVersion ?? this.apiVersionOf(candidate), kind: obj.kind ?? resource, ...obj }, '');
      if (r.status === 'invalid')
        this.log.warn(
          { source: run.spec.name, name: obj.metadata?.name, namespace: obj.metadata?.namespace, reason: r.reason },
          'object ignored',
        );
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (obj) =>
      this.state.remove(resource, { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' }),
    );
    informer.on('error', (err) => {
      const delay = run.backoff.next();
      this.failure = `${run.spec.name}: ${(err as Error | undefined)?.message ?? String(err)}`;
      this.log.warn(
        { source: run.spec.name, err: (err as Error | undefined)?.message ?? String(err), retryInMs: delay },
        'watch lost; resuming',
      );
      this.retry(run, delay);
    });
    return informer;
  }

  private async startInformer(run: SourceRun, informer: ListWatch<KubernetesObject>): Promise<void> {
    let failed = false;
    const onError = () => (failed = true);
    informer.on('error', onError);
    try {
      await informer.start();
    } catch {
      failed = true;
    } finally {
      informer.off('error', onError);
    }
    if (failed) return; // the informer's own error handler has scheduled a retry
    run.backoff.reset();
    if (!run.synced) this.markSynced(run);
  }

  /** Items in a list response carry no apiVersion/kind; they are those of the watched path. */
  private apiVersionOf(candidate: Candidate): string {
    const m = /^\/apis\/([^/]+)\/([^/]+)\//.exec(candidate.path);
    return m ? `${m[1]}/${m[2]}` : 'v1';
  }
}
