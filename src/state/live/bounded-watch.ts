/**
 * A watch that cannot stay open on a hung API server. client-node's `Watch`
 * sends no `timeoutSeconds` and drops its own 30 s abort signal (it assigns
 * `requestInit.signal` twice), so a watch pinned to a stopped server never
 * ends. This one mirrors client-go's reflector (`tools/cache/reflector.go`):
 * each watch asks the server to end it after a random `timeoutSeconds` in
 * [minWatchTimeout, 2*minWatchTimeout] (minWatchTimeout = 5 min there, so
 * clients do not all re-watch at once) and asks for bookmarks
 * (`allowWatchBookmarks=true`, https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks).
 * On top of that, a client-side deadline: a watch whose response headers do
 * not come within `connectTimeoutMs`, or that is still open `marginMs` past
 * the timeout the server was asked for, is aborted. An overdue watch ends
 * with a `WatchStalledError` (status 410), on which client-node's `ListWatch`
 * lists again before watching, as a relist after a stall should.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { createInterface } from 'node:readline';
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface WatchTiming {
  /** client-go's `minWatchTimeout`, seconds: the server-side timeout is random in [min, 2*min]. */
  minWatchTimeoutSeconds: number;
  /** How long past the server-side timeout a watch may stay open before it is aborted, ms. */
  marginMs: number;
  /** How long to wait for a watch's response headers, ms. */
  connectTimeoutMs: number;
}

/** client-go `tools/cache/reflector.go`: `minWatchTimeout = 5 * time.Minute`. */
export const DEFAULT_WATCH_TIMING: WatchTiming = { minWatchTimeoutSeconds: 300, marginMs: 30_000, connectTimeoutMs: 10_000 };

/** What a watch reports to its owner, for health tracking. */
export interface WatchHooks {
  /** The server answered 200: the watch is established. */
  opened?(): void;
  /** The watch ended: `err` null when the server closed it (its timeout), else why it failed. */
  ended?(err: Error | null): void;
  /** What the callback (and so ListWatch's cache) gets of each event's object but ERROR's; the object itself when unset. */
  reduce?(object: unknown): unknown;
}

/** A watch aborted because it overran its deadline or its server stopped answering; `statusCode` 410 makes `ListWatch` relist. */
export class WatchStalledError extends Error {
  override name = 'WatchStalledError';
  readonly statusCode = 410;
}

/** The `timeoutSeconds` of one watch: uniform in [min, 2*min], as reflector.go's `timeoutSeconds := int64(r.minWatchTimeout.Seconds() * (rand.Float64() + 1.0))`. */
export function watchTimeoutSeconds(minSeconds: number, random: () => number = Math.random): number {
  return Math.floor(minSeconds * (random() + 1));
}

type WatchCallback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;
type DoneCallback = (err: unknown) => void;

export class BoundedWatch extends Watch {
  /** The open watches: for each, the function that ends it with an error (calling `done`) and the one that aborts it silently; removed when it ends. */
  private readonly open = new Map<(err: Error) => void, () => void>();

  constructor(
    config: KubeConfig,
    private readonly timing: WatchTiming = DEFAULT_WATCH_TIMING,
    private readonly hooks: WatchHooks = {},
  ) {
    super(config);
  }

  /** Set by `close()`: no watch starts any more. */
  private closed = false;

  /**
   * Ends every open watch and refuses new ones, for good. ListWatch.stop()
   * alone can miss a watch: one its relist started just before the stop is
   * handed back after it (client-node assigns the watch's AbortController
   * only once `watch()` resolves), and would keep the process alive.
   */
  close(): void {
    this.closed = true;
    for (const abort of [...this.open.values()]) abort();
  }

  /** Aborts the watches under way with a WatchStalledError (their ListWatch relists), e.g. when the server stopped answering. */
  restart(reason: string): void {
    for (const end of [...this.open.keys()]) end(new WatchStalledError(reason));
  }

  /** Same contract as client-node's `Watch.watch`: `done` is called once, when the watch ends for any reason but `abort()`. */
  override async watch(
    path: string,
    queryParams: Record<string, unknown>,
    callback: WatchCallback,
    done: DoneCallback,
  ): Promise<AbortController> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('No currently active cluster');
    const timeoutSeconds = watchTimeoutSeconds(this.timing.minWatchTimeoutSeconds);
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    url.searchParams.set('timeoutSeconds', String(timeoutSeconds));
    for (const [key, value] of Object.entries(queryParams)) if (value !== undefined) url.searchParams.set(key, String(value));
    const options: https.RequestOptions = { method: 'GET', headers: {} };
    await this.config.applyToHTTPSOptions(options);
    const plain = url.protocol === 'http:';
    // The kubeconfig's agent is a TLS one; a plain-HTTP server (tests) gets Node's default.
    if (plain) delete options.agent;

    const controller = new AbortController();
    // Closed while the options were being prepared (or before): an aborted watch that never connects.
    if (this.closed) {
      controller.abort();
      return controller;
    }
    let finished = false;
    // Assigned below; only the timers and socket events (all later) call close().
    const ref: { req?: http.ClientRequest } = {};
    let timer: NodeJS.Timeout | undefined;
    const close = () => {
      finished = true;
      clearTimeout(timer);
      this.open.delete(end);
      ref.req?.destroy();
    };
    const end = (err: Error | null) => {
      if (finished) return;
      close();
      this.hooks.ended?.(err);
      done(err);
    };
    this.open.set(end, close);
    controller.signal.addEventListener('abort', close);
    timer = setTimeout(
      () => end(new Error(`watch ${path}: no answer within ${this.timing.connectTimeoutMs} ms`)),
      this.timing.connectTimeoutMs,
    );
    timer.unref();
    const req = (ref.req = (plain ? http : https).request(url, options, (res) => {
      if (finished) return void res.resume();
      if (res.statusCode !== 200) {
        res.resume();
        end(Object.assign(new Error(`watch ${path}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()), { statusCode: res.statusCode }));
        return;
      }
      clearTimeout(timer);
      const overdueMs = timeoutSeconds * 1000 + this.timing.marginMs;
      timer = setTimeout(
        () => end(new WatchStalledError(`watch ${path}: still open ${overdueMs} ms after it started (server timeout ${timeoutSeconds} s)`)),
        overdueMs,
      );
      timer.unref();
      this.hooks.opened?.();
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      lines.on('line', (line) => {
        if (finished) return;
        let data: { type: string; object: unknown };
        try {
          data = JSON.parse(line) as { type: string; object: unknown };
        } catch {
          return; // a partial or garbled line: client-node ignores it too
        }
        // An ERROR event's object is a Status whose code (410 Gone) ListWatch reads: never reduced.
        const reduce = data.type === 'ERROR' ? undefined : this.hooks.reduce;
        callback(data.type, reduce ? reduce(data.object) : data.object, data);
      });
      // readline re-emits the response's errors (an aborted socket): handled once, through end().
      lines.on('error', (err) => end(err));
      res.on('error', (err) => end(err));
      res.on('close', () => end(null));
    }));
    req.on('error', (err) => end(err));
    req.end();
    return controller;
  }
}
