/**
 * The cluster watcher: it owns the live cluster state (a MemoryClusterState,
 * `state`) and keeps it current with informers (client-node `ListWatch`, list
 * + watch), so every admission lookup is answered from memory. It is not a
 * ClusterState itself: the rules read `state`. `ready()` turns true once
 * every source has finished its initial list.
 *
 * Staleness: every watch is bounded (bounded-watch.ts), every list has a
 * deadline, and a probe asks the API server for one CRD every few seconds;
 * a source is stale from the moment its watch was last known healthy (a
 * failed watch or list, or the last probe answered before one went
 * unanswered, which also restarts the watches). A resource with a source
 * stale for longer than `maxStalenessSeconds` counts as not synced, so the
 * rules that need it answer the policy's `unsynced`, until its watch is
 * established again. A lost watch is restarted with backoff (up to 8 s).
 *
 * A resource whose CRD is not installed counts as synced and empty (logged
 * once); CRDs are watched, so one installed later is listed within seconds
 * (and looked for every minute in case the CRD watch is not allowed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { ObjectRequest } from '../../kube/object-request.js';
import { Elasticsearch, ELASTICSEARCH_GROUP, TRANSPORT_CA_FOR_LABEL } from '../../kube/elasticsearch.js';
import type { ObjectKey } from '../../kube/meta.js';
import type { Logger } from '../../log/logger.js';
import type { StateResource } from '../cluster-state.js';
import { MemoryClusterState } from '../memory-state.js';
import { Backoff } from './backoff.js';
import { BoundedWatch, DEFAULT_WATCH_TIMING, type WatchTiming } from './bounded-watch.js';
import { withDeadline } from '../../common/deadline.js';
import type { SecretReadScope } from '../../config/secret-reads.js';
import { type ByNameFetcher, configMapFetcher, SecretFetcher } from './by-name-fetcher.js';
import { caSourcesToRead, filesToRead } from './ca-reads.js';
import { liveSources, type Candidate, type SourceSpec } from './sources.js';
import { apiStatus } from '../../kube/api-status.js';

/** How often a source none of whose groups is served is looked for again, when no CRD event says so sooner. */
const REDISCOVER_MS = 60_000;
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface SourceRun {
  spec: SourceSpec;
  synced: boolean;
  informer?: ListWatch<KubernetesObject>;
  /** This source's watches, so a failed probe can restart them. */
  watch: BoundedWatch;
  timer?: NodeJS.Timeout;
  backoff: Backoff;
  /** The candidate in use, for logs. */
  path?: string;
  /** A list or an informer start is under way (a CRD event must not start a second one). */
  starting: boolean;
  /** A CRD event came while starting: look again once done. */
  again: boolean;
  /** When the source was last known current (ms since epoch); undefined while its watch is healthy. */
  staleSince: number | undefined;
}

/** Timings of the live state; every field has a default. */
export interface WatcherOptions {
  /** A source stale for longer than this (seconds) makes its resource count as not synced. Default 60. */
  maxStalenessSeconds?: number;
  /** Watch timeouts (bounded-watch.ts). */
  watch?: WatchTiming;
  /** Deadline of each list, ms. Default 30 s. */
  listTimeoutMs?: number;
  /** Period of the API server probe, ms; its timeout is the same. Default min(10 s, maxStaleness / 2). */
  probeIntervalMs?: number;
  /** Which Secrets the CA trust rules may read by name (`get`); default none. */
  readCaSecrets?: SecretReadScope;
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
  private readonly fetcher: ByNameFetcher;
  private readonly secrets: SecretFetcher;
  private readonly apiext: ApiextensionsV1Api;
  private readonly crds: {
    informer: ListWatch<KubernetesObject>;
    watch: BoundedWatch;
    backoff: Backoff;
    timer?: NodeJS.Timeout;
    failing: boolean;
  };
  private readonly maxStalenessMs: number;
  private readonly listTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly timers: NodeJS.Timeout[] = [];
  /** When the API server last answered a probe (or the watcher started), ms since epoch. */
  private lastAnswer = Date.now();
  private probing = false;
  private stopped = false;
  private failure: string | undefined;

  constructor(
    kc: KubeConfig,
    operatorNamespace: string,
    private readonly log: Logger,
    options: WatcherOptions = {},
  ) {
    this.maxStalenessMs = (options.maxStalenessSeconds ?? 60) * 1000;
    this.listTimeoutMs = options.listTimeoutMs ?? 30_000;
    this.probeIntervalMs = options.probeIntervalMs ?? Math.min(10_000, this.maxStalenessMs / 2);
    const timing = options.watch ?? DEFAULT_WATCH_TIMING;
    const core = kc.makeApiClient(CoreV1Api);
    this.fetcher = configMapFetcher(core, this.state, log);
    this.secrets = new SecretFetcher(core, this.state, log, options.readCaSecrets ?? { enabled: false });
    this.apiext = kc.makeApiClient(ApiextensionsV1Api);
    const started = Date.now();
    this.runs = liveSources(kc, operatorNamespace).map((spec) => {
      const run: SourceRun = {
        spec,
        synced: false,
        backoff: new Backoff(),
        starting: false,
        again: false,
        staleSince: started,
        watch: new BoundedWatch(kc, timing, {
          opened: () => this.healthy(run),
          ended: (err) => err && this.unhealthy(run, Date.now()),
        }),
      };
      return run;
    });
    for (const r of this.runs) this.state.setSynced(r.spec.resource, false);
    // Only names are needed: ListWatch caches what it is given, and a CRD with its schemas can weigh a megabyte.
    const crdWatch = new BoundedWatch(kc, timing, { reduce: (crd) => ({ metadata: pick((crd as KubernetesObject).metadata) }) });
    this.crds = { informer: this.makeCrdInformer(crdWatch), watch: crdWatch, backoff: new Backoff(), failing: false };
  }

  /** Starts every source, the CRD watch and the probe; resolves once each source has made its first attempt (synced or not). */
  async start(): Promise<void> {
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.probeIntervalMs, () => void this.probe());
    // Staleness grows with time alone: the sync status is brought up to date every second.
    every(1000, () => this.refresh());
    void this.startCrdWatch();
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

  /**
   * Readiness: every initial list has completed. Staleness does not make the
   * webhook unready (README, Operations): every replica would turn unready
   * together, and with `failurePolicy: Fail` a Service without endpoints
   * rejects every write of the admitted kinds; the rules that need a stale
   * resource answer `unsynced` instead.
   */
  ready(): { ready: boolean; reason?: string } {
    const pending = this.unsynced();
    return pending.length === 0 ? { ready: true } : { ready: false, reason: `state not synced: ${pending.join(', ')}` };
  }

  /** Seconds since `resource`'s watches were last known healthy (the stalest of its sources); 0 when all are. */
  staleness(resource: StateResource, now = Date.now()): number {
    let since = now;
    for (const r of this.runs) if (r.spec.resource === resource && r.staleSince !== undefined) since = Math.min(since, r.staleSince);
    return (now - since) / 1000;
  }

  /**
   * Fetches what a request needs that no watch delivers: the ConfigMaps and
   * Secrets (within the Secret read scope) an Elasticsearch trusts CAs from,
   * then the `<name>-es-transport-certs-public` Secrets those copies came
   * from. Undefined when nothing is missing or stale, so the request is
   * answered at once; else a promise that settles when the fetches have
   * (never rejecting).
   */
  prepare(request: ObjectRequest): Promise<void> | undefined {
    if (request.group !== ELASTICSEARCH_GROUP || request.kind !== 'Elasticsearch') return undefined;
    const decoded = Elasticsearch.safeParse(request.object);
    // The request's namespace is the object's own, else the one it is created in (objectRequest).
    const namespace = request.namespace;
    if (!decoded.success || !namespace) return undefined;
    const es = decoded.data;
    const first = this.ensureAll(filesToRead(es, namespace));
    const sources = () => this.ensureAll(caSourcesToRead(es, namespace, this.state));
    if (!first) return sources();
    return first.then(() => sources());
  }

  /** Prepares every Elasticsearch of the state, a few at a time (the audit of a live state). Never rejects. */
  async prepareAll(concurrency = 8): Promise<void> {
    const all = [...this.state.eck.listElasticsearches()];
    for (let i = 0; i < all.length; i += concurrency) {
      await Promise.all(
        all.slice(i, i + concurrency).map((es) =>
          this.prepare({
            group: ELASTICSEARCH_GROUP,
            kind: 'Elasticsearch',
            operation: 'CREATE',
            namespace: es.metadata.namespace ?? '',
            name: es.metadata.name ?? '',
            object: es,
          }),
        ),
      );
    }
  }

  /** Starts the reads of `objects`; undefined when none is needed. */
  private ensureAll(objects: { kind: 'ConfigMap' | 'Secret'; key: ObjectKey }[]): Promise<void> | undefined {
    const watched = (key: ObjectKey) => this.state.getConfigMap(key)?.metadata.labels?.[TRANSPORT_CA_FOR_LABEL] !== undefined;
    const pending: Promise<void>[] = [];
    for (const o of objects) {
      const p = o.kind === 'ConfigMap' ? this.fetcher.ensure(o.key, watched) : this.secrets.ensure(o.key);
      if (p) pending.push(p);
    }
    return pending.length ? Promise.all(pending).then(() => undefined) : undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.crds.timer) clearTimeout(this.crds.timer);
    await this.crds.informer.stop();
    this.crds.watch.close();
    for (const r of this.runs) {
      if (r.timer) clearTimeout(r.timer);
      await r.informer?.stop();
      r.watch.close();
    }
  }

  private healthy(run: SourceRun): void {
    run.backoff.reset();
    if (run.staleSince === undefined) return;
    run.staleSince = undefined;
    this.refresh();
  }

  /** The source is stale since `since` unless it already was. */
  private unhealthy(run: SourceRun, since: number): void {
    run.staleSince ??= since;
    this.refresh();
  }

  /** Brings each resource's sync status up to date: synced when every source of it has listed and none is stale past the limit. */
  private refresh(now = Date.now()): void {
    const status = new Map<StateResource, boolean>();
    for (const r of this.runs) {
      const current = r.synced && (r.staleSince === undefined || now - r.staleSince <= this.maxStalenessMs);
      status.set(r.spec.resource, (status.get(r.spec.resource) ?? true) && current);
    }
    for (const [resource, synced] of status) {
      if (synced === this.state.isSynced(resource)) continue;
      this.state.setSynced(resource, synced);
      if (synced) this.log.info({ resource, count: this.state.counts()[resource] }, 'state synced');
      else if (this.runs.some((r) => r.spec.resource === resource && r.synced))
        this.log.warn({ resource, stalenessSeconds: this.staleness(resource, now) }, 'state stale: rules that need it answer unsynced');
    }
  }

  /**
   * A pinned watch on a hung server looks like a quiet one: ask the server
   * something cheap (one CRD). Any HTTP answer, even 403, shows it is alive;
   * none within the period marks every source stale since the last answer
   * and restarts the watches (which list again once the server answers).
   */
  private async probe(): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    const asked = Date.now();
    try {
      await withDeadline(this.apiext.listCustomResourceDefinition({ limit: 1 }), this.probeIntervalMs, 'API server probe');
      this.lastAnswer = asked;
    } catch (err) {
      if (apiStatus(err) !== undefined) this.lastAnswer = asked;
      else if (!this.stopped) {
        this.log.warn({ err: (err as Error).message, lastAnswer: new Date(this.lastAnswer).toISOString() }, 'API server not answering');
        for (const r of this.runs) {
          if (!r.informer) continue;
          this.unhealthy(r, this.lastAnswer);
          r.watch.restart('the API server did not answer a probe');
        }
        this.crds.watch.restart('the API server did not answer a probe');
      }
    } finally {
      this.probing = false;
    }
  }

  private retry(run: SourceRun, delayMs: number): void {
    if (this.stopped) return;
    if (run.timer) clearTimeout(run.timer);
    run.timer = setTimeout(() => void this.startSource(run), delayMs);
    run.timer.unref();
  }

  private async startSource(run: SourceRun): Promise<void> {
    if (this.stopped || run.starting) return;
    run.starting = true;
    run.again = false;
    try {
      await this.attach(run);
    } finally {
      run.starting = false;
    }
    if (run.again && !run.informer) this.retry(run, 0);
  }

  private async attach(run: SourceRun): Promise<void> {
    if (run.informer) {
      // A lost watch: resume from the last resource version (ListWatch relists on 410 Gone).
      await this.startInformer(run, run.informer);
      return;
    }
    for (const candidate of run.spec.candidates) {
      let first;
      try {
        first = await this.list(candidate);
      } catch (err) {
        if (apiStatus(err) === 404) continue;
        const delay = run.backoff.next();
        this.failure = `${run.spec.name}: ${(err as Error).message}`;
        this.log.warn({ source: run.spec.name, path: candidate.path, err: (err as Error).message, retryInMs: delay }, 'list failed');
        this.unhealthy(run, Date.now());
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
    run.staleSince = undefined;
    this.markSynced(run);
    this.retry(run, REDISCOVER_MS);
  }

  private list(candidate: Candidate): Promise<KubernetesListObject<KubernetesObject>> {
    return withDeadline(candidate.list(), this.listTimeoutMs, `list ${candidate.path}`);
  }

  private markSynced(run: SourceRun): void {
    run.synced = true;
    this.refresh();
  }

  private makeInformer(run: SourceRun, candidate: Candidate, first: KubernetesListObject<KubernetesObject>): ListWatch<KubernetesObject> {
    let pending: typeof first | undefined = first;
    const listFn = async () => {
      const list = pending ?? (await this.list(candidate));
      pending = undefined;
      return list;
    };
    const informer = new ListWatch(candidate.path, run.watch, listFn, false, candidate.labelSelector, candidate.fieldSelector);
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
      if (
        (err as { code?: number; statusCode?: number } | undefined)?.code === 404 ||
        (err as { statusCode?: number } | undefined)?.statusCode === 404
      ) {
        // The CRD is gone (its objects went with it): look for the groups again, as at start.
        this.log.info({ source: run.spec.name, path: candidate.path }, 'resource no longer served');
        void informer.stop();
        run.informer = undefined;
        this.retry(run, 0);
        return;
      }
      const delay = run.backoff.next();
      this.failure = `${run.spec.name}: ${(err as Error | undefined)?.message ?? String(err)}`;
      this.log.warn(
        { source: run.spec.name, err: (err as Error | undefined)?.message ?? String(err), retryInMs: delay },
        'watch lost; resuming',
      );
      this.unhealthy(run, Date.now());
      this.retry(run, delay);
    });
    return informer;
  }

  private async startInformer(run: SourceRun, informer: ListWatch<KubernetesObject>): Promise<void> {
    if (!(await startedCleanly(informer))) return; // the informer's own error handler has scheduled a retry
    if (!run.synced) this.markSynced(run);
  }

  /**
   * CRDs are watched (not kept: the list gives only its resource version) so
   * a source whose group was not served is looked for as soon as its CRD is
   * created or becomes Established, instead of at the next minute.
   */
  private makeCrdInformer(watch: BoundedWatch): ListWatch<KubernetesObject> {
    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const list = await withDeadline(this.apiext.listCustomResourceDefinition({ limit: 1 }), this.listTimeoutMs, `list ${CRD_PATH}`);
      // A relist may follow a gap in which a CRD appeared: look for every missing source.
      for (const r of this.runs) if (!r.informer) this.kick(r);
      return { metadata: { resourceVersion: list.metadata?.resourceVersion ?? '' }, items: [] };
    };
    const informer = new ListWatch<KubernetesObject>(CRD_PATH, watch, listFn, false);
    const changed = (crd: KubernetesObject) => {
      const name = crd.metadata?.name ?? '';
      for (const r of this.runs) if (!r.informer && r.spec.candidates.some((c) => crdNameOf(c.path) === name)) this.kick(r);
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('error', (err) => {
      const delay = this.crds.backoff.next();
      // Logged once per run of failures: without RBAC on CRDs (an older install) the minute's rediscovery still works.
      if (!this.crds.failing)
        this.log.warn({ err: (err as Error | undefined)?.message ?? String(err), retryInMs: delay }, 'CRD watch lost');
      this.crds.failing = true;
      if (this.stopped) return;
      this.crds.timer = setTimeout(() => void this.startCrdWatch(), delay);
      this.crds.timer.unref();
    });
    return informer;
  }

  private async startCrdWatch(): Promise<void> {
    if (this.stopped) return;
    if (await startedCleanly(this.crds.informer)) {
      this.crds.failing = false;
      this.crds.backoff.reset();
    }
  }

  /** Looks for a source that has no watch now, or right after the attempt under way. */
  private kick(run: SourceRun): void {
    if (this.stopped || run.informer) return;
    if (run.starting) run.again = true;
    else this.retry(run, 0);
  }

  /** Items in a list response carry no apiVersion/kind; they are those of the watched path. */
  private apiVersionOf(candidate: Candidate): string {
    const m = /^\/apis\/([^/]+)\/([^/]+)\//.exec(candidate.path);
    return m ? `${m[1]}/${m[2]}` : 'v1';
  }
}

/** The CRD name (`<plural>.<group>`) of a custom resource path `/apis/<group>/<version>/<plural>`; '' for a core path. */
export function crdNameOf(path: string): string {
  const m = /^\/apis\/([^/]+)\/[^/]+\/([^/]+)$/.exec(path);
  return m ? `${m[2]}.${m[1]}` : '';
}

/**
 * Starts `informer` (its list, then its watch); false when that failed,
 * whether `start()` threw or the informer reported an error meanwhile (its
 * own error handler then schedules the retry).
 */
async function startedCleanly(informer: ListWatch<KubernetesObject>): Promise<boolean> {
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
  return !failed;
}

/** The name and resource version of an object's metadata. */
function pick(metadata: KubernetesObject['metadata']): { name?: string; resourceVersion?: string } {
  return { name: metadata?.name, resourceVersion: metadata?.resourceVersion };
}
