/**
 * A stand-in for a remote cluster's API server over plain HTTP, for the
 * federation discovery unit tests: collections of objects by path, lists
 * paged as the kube-apiserver pages them (`limit`, `continue`, the list's
 * `resourceVersion`), watches that replay the events after the resource
 * version asked for and then stream new ones, an `ERROR` event with a 410
 * Status for a resource version older than the last compaction (as etcd's
 * compaction makes it), HTTP statuses forced per path, and a stop and a
 * start again on the same port. Each request is recorded with its
 * `authorization` header.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export const CRD_IPPOOLS = '/apis/crd.projectcalico.org/v1/ippools';
export const V3_IPPOOLS = '/apis/projectcalico.org/v3/ippools';
export const NODES = '/api/v1/nodes';

export interface SeenRequest {
  path: string;
  query: URLSearchParams;
  method: string;
  watch: boolean;
  authorization: string | undefined;
}

interface Event {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Record<string, unknown>;
}

const API_VERSION: Record<string, string> = {
  [CRD_IPPOOLS]: 'crd.projectcalico.org/v1',
  [V3_IPPOOLS]: 'projectcalico.org/v3',
  [NODES]: 'v1',
};

/** A KubeConfig for `http://127.0.0.1:port` with a bearer token, as loadFromOptions builds one. */
export function tokenKubeConfig(port: number, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'remote', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'remote', token }],
    contexts: [{ name: 'remote', cluster: 'remote', user: 'remote' }],
    currentContext: 'remote',
  });
  return kc;
}

export class RemoteApiServer {
  readonly requests: SeenRequest[] = [];
  /** HTTP status forced for every request (list or watch) of a path, as an RBAC denial (403) or a group not served (404). */
  readonly status = new Map<string, number>();
  /** HTTP status forced for the watches of a path only. */
  readonly watchStatus = new Map<string, number>();
  /** Paths whose requests get no answer at all (a hung server); `/version` included when set. */
  readonly hung = new Set<string>();
  /** Open watch responses by path. */
  readonly watches = new Map<string, http.ServerResponse[]>();
  port = 0;
  private rv = 1;
  /** Watches from a resource version below this get a 410 ERROR event. */
  private compacted = 0;
  private readonly objects = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly events = new Map<string, Event[]>();
  private server?: http.Server;

  /** Listens on `port` (0: any free one; the same port again after `stop`). */
  async start(port = this.port): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Closes every connection and stops listening, as a server that went away; the objects stay. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    this.watches.clear();
  }

  /** The current resource version (that of a list made now). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  kubeConfig(token: string): KubeConfig {
    return tokenKubeConfig(this.port, token);
  }

  /** Creates or replaces an object of a collection; open watches get ADDED or MODIFIED. */
  put(path: string, object: { metadata: { name: string } } & Record<string, unknown>): void {
    const store = this.collection(path);
    const type = store.has(object.metadata.name) ? 'MODIFIED' : 'ADDED';
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.rv) } };
    store.set(object.metadata.name, stored);
    this.emit(path, { rv: this.rv, type, object: stored });
  }

  /** Deletes an object; open watches get DELETED. */
  remove(path: string, name: string): void {
    const store = this.collection(path);
    const old = store.get(name);
    if (!old) return;
    store.delete(name);
    const meta = old['metadata'] as Record<string, unknown>;
    this.emit(path, { rv: ++this.rv, type: 'DELETED', object: { ...old, metadata: { ...meta, resourceVersion: String(this.rv) } } });
  }

  /** Forgets the event history: a watch from any resource version known so far gets 410 Gone. */
  compact(): void {
    this.compacted = this.rv + 1;
    this.rv++;
    this.events.clear();
  }

  /** Ends the open watches of `path` (as the server's own watch timeout does). */
  endWatches(path: string): void {
    for (const res of (this.watches.get(path) ?? []).splice(0)) res.end();
  }

  seen(path: string, watch: boolean): SeenRequest[] {
    return this.requests.filter((r) => r.path === path && r.watch === watch);
  }

  private collection(path: string): Map<string, Record<string, unknown>> {
    let store = this.objects.get(path);
    if (!store) this.objects.set(path, (store = new Map()));
    return store;
  }

  private emit(path: string, event: Event): void {
    const log = this.events.get(path) ?? [];
    log.push(event);
    this.events.set(path, log);
    for (const res of this.watches.get(path) ?? []) res.write(JSON.stringify({ type: event.type, object: event.object }) + '\n');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const watch = url.searchParams.get('watch') === 'true';
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      watch,
      authorization: req.headers.authorization,
    });
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const failure = (code: number) => json(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code });
    if (this.hung.has(url.pathname)) return;
    if (url.pathname === '/version') return json(200, { major: '1', minor: '35', gitVersion: 'v1.35.4' });
    const apiVersion = API_VERSION[url.pathname];
    const forced = this.status.get(url.pathname) ?? (watch ? this.watchStatus.get(url.pathname) : undefined);
    if (forced !== undefined) return failure(forced);
    if (!apiVersion) return failure(404);
    if (watch) return this.watch(url, res);
    const items = [...this.collection(url.pathname).values()].sort((a, b) =>
      String((a['metadata'] as { name: string }).name).localeCompare(String((b['metadata'] as { name: string }).name)),
    );
    const limit = Number(url.searchParams.get('limit') ?? 0) || items.length;
    const offset = Number(url.searchParams.get('continue') ?? 0);
    const page = items.slice(offset, offset + limit);
    const next = offset + limit < items.length ? String(offset + limit) : undefined;
    json(200, {
      apiVersion,
      kind: 'List',
      metadata: {
        resourceVersion: String(this.rv),
        ...(next ? { continue: next, remainingItemCount: items.length - offset - page.length } : {}),
      },
      items: page,
    });
  }

  private watch(url: URL, res: http.ServerResponse): void {
    const from = Number(url.searchParams.get('resourceVersion') || 0);
    res.writeHead(200, { 'content-type': 'application/json' });
    if (from && from < this.compacted) {
      res.end(
        JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 } }) +
          '\n',
      );
      return;
    }
    res.flushHeaders();
    for (const e of this.events.get(url.pathname) ?? [])
      if (e.rv > from) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
    const open = this.watches.get(url.pathname) ?? [];
    open.push(res);
    this.watches.set(url.pathname, open);
    res.on('close', () => {
      const i = open.indexOf(res);
      if (i >= 0) open.splice(i, 1);
    });
  }
}
