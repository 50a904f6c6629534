/**
 * A stand-in API server over plain HTTP for the live state's unit tests:
 * every list answers an empty list (resource version 1) unless its path is
 * made unserved (404); every watch is answered 200 and then left open with
 * nothing on it, as a quiet or hung server's would be; `hang` stops answering
 * anything (as a SIGSTOPped kube-apiserver). Each request is recorded.
 */
import { kubeConfigFor } from '../../helpers/kubeconfig.js';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';

export interface SeenRequest {
  path: string;
  query: URLSearchParams;
  watch: boolean;
  at: number;
}

export class FakeApiServer {
  readonly requests: SeenRequest[] = [];
  /** Answer nothing (requests stay pending until `hang` is cleared; they are answered then). */
  hang = false;
  /** Paths (no query) that answer 404, as a group whose CRD is not installed. */
  readonly unserved = new Set<string>();
  /** Open watch responses by path, to send events on. */
  readonly watches = new Map<string, http.ServerResponse[]>();
  private readonly held: (() => void)[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<KubeConfig> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return kubeConfigFor(port);
  }

  /** Answers the requests held while hanging. */
  resume(): void {
    this.hang = false;
    for (const answer of this.held.splice(0)) answer();
  }

  /** Sends a watch event to every open watch of `path`. */
  send(path: string, type: string, object: unknown): void {
    for (const res of this.watches.get(path) ?? []) res.write(JSON.stringify({ type, object }) + '\n');
  }

  seen(pathPart: string, watch: boolean): SeenRequest[] {
    return this.requests.filter((r) => r.watch === watch && r.path.includes(pathPart));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const watch = url.searchParams.get('watch') === 'true';
    this.requests.push({ path: url.pathname, query: url.searchParams, watch, at: Date.now() });
    const answer = () => {
      if (this.unserved.has(url.pathname)) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
      } else if (watch) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        const open = this.watches.get(url.pathname) ?? [];
        open.push(res);
        this.watches.set(url.pathname, open);
        res.on('close', () => open.splice(open.indexOf(res), 1));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '1' }, items: [] }));
      }
    };
    if (this.hang) this.held.push(answer);
    else answer();
  }
}
