/**
 * The watch of one remote cluster: its IPPools and Nodes, listed page by page
 * and then watched (a reflector in client-go's sense: list, watch from the
 * list's resource version, relist on 410 Gone), read-only, each object
 * reduced to its ranges at once (remote-objects.ts) and handed to the state
 * (`RemoteClusterRangeSink`) object by object.
 *
 * Admission never waits for this: updates go through a queue drained a slice
 * at a time (`DRAIN_SLICE` objects per event-loop turn), so a remote cluster
 * with 100,000 pools is indexed without holding up local admissions.
 *
 * Health: a source is stale from its first failed list or watch (or the last
 * answered probe before an unanswered one: a hung server keeps watches open
 * and silent) until its watch is open again. The remote counts as synced
 * when both sources have listed, the queue is drained, and neither has been
 * stale for more than `staleAfterMs`. Each cause of failure is logged once,
 * when it starts, without credentials.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../log/logger.js';
import { Backoff } from '../live/backoff.js';
import { BoundedWatch, DEFAULT_WATCH_TIMING, type WatchTiming } from '../live/bounded-watch.js';
import type { RemoteClusterRangeSink } from '../remote-cluster-ranges.js';
import { nodeRanges, poolRanges, type RemoteKind, type RemoteObject } from './remote-objects.js';
import { remoteGet, RemoteGetError } from './remote-get.js';

/** Objects applied to the state per event-loop turn. */
const DRAIN_SLICE = 1_000;

export interface RemoteWatcherOptions {
  /** A source stale longer than this (ms) makes the remote unsynced. Default 5 s. */
  staleAfterMs?: number;
  /** Period of the liveness probe (`GET /version`), ms; its timeout too. Default 5 s. */
  probeIntervalMs?: number;
  /** Timeout of each list page, ms. Default 30 s. */
  listTimeoutMs?: number;
  /** Objects per list page (`limit`). Default 500. */
  pageSize?: number;
  /**
   * Most IPPools, and most Nodes, a remote may have to be indexed
   * (`DEFAULT_MAX_REMOTE_OBJECTS`); past it the remote is unsynced with the
   * count, and none of that kind's ranges is kept.
   */
  maxObjects?: number;
  watch?: WatchTiming;
}

/**
 * The default cap on the objects of one kind a remote may have: above the
 * largest cluster Kubernetes supports (5,000 nodes,
 * https://kubernetes.io/docs/setup/best-practices/cluster-large/) fourfold,
 * and far above any real number of IPPools. Indexing costs about 1 KB of heap
 * per range, and while a remote with 100,000 pools is indexed (2.4 s) the
 * garbage collector slows local admissions (bench/RESULTS.md): a remote
 * that large is a fault, reported rather than indexed.
 */
export const DEFAULT_MAX_REMOTE_OBJECTS = 20_000;

/** A remote list longer than the cap (`maxObjects`); `statusCode`-less, so it is a failure of its own kind. */
export class TooManyRemoteObjectsError extends Error {
  override name = 'TooManyRemoteObjectsError';
}

/** What the metrics and the state read of one remote. */
export interface RemoteStatus {
  synced: boolean;
  /** Why it is not synced: one line, no credential. */
  reason?: string;
  objects: Record<RemoteKind, number>;
  /** When a list, watch or probe last failed, ms since epoch. */
  lastErrorTime?: number;
}

interface Source {
  kind: RemoteKind;
  /** Collection paths to try, in order: the first one served is watched. */
  candidates: string[];
  path?: string;
  /** The API version of the objects at `path` (list items carry none). */
  apiVersion?: string;
  resourceVersion: string;
  listed: boolean;
  staleSince: number | undefined;
  /** Names of the objects known, for counts and for a relist to find the deleted ones. */
  known: Set<string>;
  watch: BoundedWatch;
  backoff: Backoff;
  cause?: string;
  timer?: NodeJS.Timeout;
}

export class RemoteClusterWatcher {
  private readonly sources: Source[];
  private readonly pending = new Map<string, { kind: RemoteKind; name: string; object: RemoteObject | undefined }>();
  private draining = false;
  /** The first full index is in: later updates queue without making the remote unsynced. */
  private everSynced = false;
  private stopped = false;
  /** Aborted by stop(): ends the list pages and probes under way. */
  private readonly stopping = new AbortController();
  private probeTimer?: NodeJS.Timeout;
  private lastAnswer = Date.now();
  private lastErrorTime: number | undefined;
  private readonly staleAfterMs: number;
  private readonly probeIntervalMs: number;
  private readonly listTimeoutMs: number;
  private readonly pageSize: number;
  private readonly maxObjects: number;

  constructor(
    readonly cluster: string,
    private readonly kc: KubeConfig,
    private readonly sink: RemoteClusterRangeSink,
    private readonly log: Logger,
    options: RemoteWatcherOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 5_000;
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 30_000;
    this.pageSize = options.pageSize ?? 500;
    this.maxObjects = options.maxObjects ?? DEFAULT_MAX_REMOTE_OBJECTS;
    const timing = options.watch ?? DEFAULT_WATCH_TIMING;
    const source = (kind: RemoteKind, candidates: string[]): Source => {
      const s: Source = {
        kind,
        candidates,
        resourceVersion: '',
        listed: false,
        staleSince: Date.now(),
        known: new Set(),
        backoff: new Backoff(250, 8_000),
        watch: new BoundedWatch(kc, timing, {
          opened: () => {
            s.staleSince = undefined;
            s.backoff.reset();
            this.recovered(s);
          },
        }),
      };
      return s;
    };
    // crd.projectcalico.org holds every pool where it is served (with or without the Calico API server);
    // Calico 3.30+ with projectcalico.org/v3 CRDs serves only that group.
    this.sources = [
      source('IPPool', ['/apis/crd.projectcalico.org/v1/ippools', '/apis/projectcalico.org/v3/ippools']),
      source('Node', ['/api/v1/nodes']),
    ];
  }

  start(): void {
    for (const s of this.sources) void this.run(s);
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** Stops the watches; the ranges stay in the state (the caller removes them when the remote is gone). */
  stop(): void {
    this.stopped = true;
    this.stopping.abort();
    clearInterval(this.probeTimer);
    for (const s of this.sources) {
      clearTimeout(s.timer);
      s.watch.close();
    }
    this.pending.clear();
  }

  status(now = Date.now()): RemoteStatus {
    const objects = { IPPool: 0, Node: 0 } as Record<RemoteKind, number>;
    for (const s of this.sources) objects[s.kind] = s.known.size;
    const base = { objects, ...(this.lastErrorTime !== undefined ? { lastErrorTime: this.lastErrorTime } : {}) };
    const notListed = this.sources.filter((s) => !s.listed);
    if (notListed.length > 0) {
      const cause = notListed.find((s) => s.cause)?.cause;
      return { ...base, synced: false, reason: cause ?? `listing its ${notListed.map((s) => `${s.kind}s`).join(' and ')}` };
    }
    if (this.pending.size > 0 && !this.everSynced) return { ...base, synced: false, reason: 'indexing its ranges' };
    const stale = this.sources.find((s) => s.staleSince !== undefined && now - s.staleSince > this.staleAfterMs);
    if (stale) return { ...base, synced: false, reason: stale.cause ?? `its ${stale.kind} watch is not open` };
    this.everSynced = true;
    return { ...base, synced: true };
  }

  private async run(s: Source): Promise<void> {
    while (!this.stopped) {
      let failed = false;
      try {
        if (!s.resourceVersion) await this.list(s);
        if (this.stopped) return;
        const err = await this.watchOnce(s);
        if (err === null) continue; // the server ended the watch (its timeout): watch again from where it was
        if ((err as { statusCode?: number }).statusCode === 410) s.resourceVersion = '';
        else failed = true;
        if (failed) this.failed(s, err);
      } catch (err) {
        if (this.stopped) return; // the list was aborted by stop()
        failed = true;
        this.failed(s, err as Error);
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        s.timer = setTimeout(resolve, failed ? s.backoff.next() : 0);
        s.timer.unref();
      });
    }
  }

  /**
   * Lists every page, queueing each page's objects as it comes (so no turn
   * handles more than a page, and no page is kept once queued), then queues
   * the removal of those gone; sets the resource version to watch from.
   */
  private async list(s: Source): Promise<void> {
    const candidates = s.path ? [s.path] : s.candidates;
    // The objects that go unless the list returns them: those this watcher knows and, before its first
    // list is complete, those an earlier watcher of this remote left in the state.
    const unlisted = new Set(s.known);
    if (!s.listed) for (const o of this.sink.remoteObjectsOf(this.cluster)) if (o.kind === s.kind) unlisted.add(o.name);
    for (const path of candidates) {
      let cont = '';
      let resourceVersion: string;
      let served = false;
      let listedCount = 0;
      try {
        do {
          const query = new URLSearchParams({ limit: String(this.pageSize), ...(cont ? { continue: cont } : {}) });
          const page = (await remoteGet(this.kc, `${path}?${query}`, this.listTimeoutMs, this.stopping.signal)) as ListPage;
          served = true;
          const apiVersion = page.apiVersion ?? 'v1';
          // The server says how many items are left (`remainingItemCount`): a list over the cap ends at its first page.
          const total = listedCount + (page.items?.length ?? 0) + (page.metadata?.remainingItemCount ?? 0);
          if (total > this.maxObjects) this.tooMany(s, total, page.metadata?.remainingItemCount === undefined);
          listedCount += page.items?.length ?? 0;
          for (const raw of page.items ?? []) {
            const o = s.kind === 'IPPool' ? poolRanges(raw, apiVersion) : nodeRanges(raw);
            if (!o) continue;
            unlisted.delete(o.metadata.name);
            this.enqueue(s, o.metadata.name, o);
          }
          s.apiVersion = apiVersion;
          cont = page.metadata?.continue ?? '';
          resourceVersion = page.metadata?.resourceVersion ?? '';
        } while (cont && !this.stopped);
      } catch (err) {
        // Not served (no such group): try the next candidate. A 404 once pages came is a failed list.
        if (err instanceof RemoteGetError && err.statusCode === 404 && !s.path && !served) continue;
        throw err;
      }
      s.path = path;
      for (const name of unlisted) this.enqueue(s, name, undefined);
      s.resourceVersion = resourceVersion;
      s.listed = true;
      return;
    }
    // No IPPool resource served: a remote without Calico IPAM pools; its Nodes still count.
    s.listed = true;
    s.staleSince = undefined;
    s.resourceVersion = '';
    for (const name of unlisted) this.enqueue(s, name, undefined);
    this.recovered(s);
    await new Promise<void>((resolve) => {
      s.timer = setTimeout(resolve, 60_000);
      s.timer.unref();
    });
  }

  /** Watches from the resource version; resolves with how the watch ended (null: the server's timeout). */
  private watchOnce(s: Source): Promise<Error | null> {
    if (!s.path) return Promise.resolve(null);
    return new Promise((resolve) => {
      s.watch
        .watch(
          s.path!,
          { resourceVersion: s.resourceVersion },
          (type, obj) => {
            const rv = (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
            if (type === 'ERROR') {
              if ((obj as { code?: number }).code === 410) s.resourceVersion = '';
              return;
            }
            if (rv) s.resourceVersion = rv;
            if (type === 'BOOKMARK') return;
            const o = s.kind === 'IPPool' ? poolRanges(obj, s.apiVersion ?? 'v1') : nodeRanges(obj);
            if (!o) return;
            if (type === 'DELETED') this.enqueue(s, o.metadata.name, undefined);
            // Past the cap by watch events: relist, which refuses the list (and drops the kind's ranges).
            else if (s.known.size >= this.maxObjects && !s.known.has(o.metadata.name)) s.watch.restart('more objects than the cap');
            else this.enqueue(s, o.metadata.name, o);
          },
          (err) => resolve(err ? (err as Error) : null),
        )
        .catch((err: unknown) => resolve(err as Error));
    });
  }

  /** Drops every range of the source's kind (those of this list's pages too) and fails the list with the count. */
  private tooMany(s: Source, count: number, atLeast: boolean): never {
    for (const name of [...s.known]) this.enqueue(s, name, undefined);
    for (const o of this.sink.remoteObjectsOf(this.cluster)) if (o.kind === s.kind) this.enqueue(s, o.name, undefined);
    throw new TooManyRemoteObjectsError(
      `it has ${atLeast ? 'more than ' : ''}${atLeast ? this.maxObjects : count} ${s.kind}s, more than the ${this.maxObjects} discovery indexes: not indexed (raise federation.maxRemoteObjects)`,
    );
  }

  private enqueue(s: Source, name: string, object: RemoteObject | undefined): void {
    if (object) s.known.add(name);
    else s.known.delete(name);
    const key = `${s.kind}/${name}`;
    this.pending.delete(key); // re-inserted last: the latest version of an object wins
    this.pending.set(key, { kind: s.kind, name, object });
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    if (this.stopped) return;
    let n = 0;
    for (const [key, { kind, name, object }] of this.pending) {
      this.pending.delete(key);
      this.sink.setRemoteObjectRanges(this.cluster, { kind, name }, object?.ranges ?? []);
      if (++n >= DRAIN_SLICE) break;
    }
    if (this.pending.size > 0) setImmediate(() => this.drain());
    else this.draining = false;
  }

  private failed(s: Source, err: Error): void {
    this.lastErrorTime = Date.now();
    s.staleSince ??= Date.now();
    const cause = causeOf(err, s);
    if (cause !== s.cause) this.log.warn({ remoteCluster: this.cluster, source: s.kind, cause }, 'remote cluster discovery failing');
    s.cause = cause;
  }

  private recovered(s: Source): void {
    if (s.cause === undefined) return;
    this.log.info({ remoteCluster: this.cluster, source: s.kind }, 'remote cluster discovery recovered');
    s.cause = undefined;
  }

  /** A hung server keeps watches open and silent: ask it something cheap; no answer marks the sources stale and restarts their watches. */
  private async probe(): Promise<void> {
    const asked = Date.now();
    try {
      await remoteGet(this.kc, '/version', this.probeIntervalMs, this.stopping.signal);
      this.lastAnswer = asked;
    } catch (err) {
      if (err instanceof RemoteGetError && err.statusCode !== undefined) {
        this.lastAnswer = asked; // any HTTP answer shows it is alive
        return;
      }
      if (this.stopped) return;
      for (const s of this.sources) {
        s.staleSince ??= this.lastAnswer;
        if (!s.cause) this.failed(s, err as Error);
        s.watch.restart('the remote API server did not answer a probe');
      }
    }
  }
}

interface ListPage {
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items?: unknown[];
}

/** One line per cause, no credential: the HTTP status and what it means here, or the network error code. */
export function causeOf(err: Error, s: Pick<Source, 'kind'>): string {
  if (err instanceof TooManyRemoteObjectsError) return err.message;
  const status = (err as { statusCode?: number }).statusCode;
  const what = `${s.kind}s`;
  if (status === 401) return `its API server refused the credentials (HTTP 401)`;
  if (status === 403)
    return `its API server forbids listing or watching ${what} to these credentials (HTTP 403); grant get, list and watch on ${what.toLowerCase()}`;
  if (status !== undefined) return `its API server answered HTTP ${status} for ${what}`;
  const code = (err as { code?: string }).code;
  if (code === 'ETIMEDOUT' || /no answer within/.test(err.message)) return 'its API server does not answer';
  if (code) return `its API server cannot be reached (${code})`;
  return `its ${s.kind} watch failed (${err.message.split('\n', 1)[0]!.slice(0, 120)})`;
}
