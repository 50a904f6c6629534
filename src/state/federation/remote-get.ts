/**
 * One GET to a remote cluster's API server, with a deadline that ends the
 * request (client-node's typed calls cannot be aborted, so against a hung
 * server every retry would leave one more socket open) and the JSON body
 * as the server sent it (no typed decoding: discovery reduces each object at
 * once). Credentials come from the KubeConfig (`applyToHTTPSOptions`) and
 * are never part of an error message.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A failed GET: `statusCode` when the server answered, `code` (`ECONNREFUSED`, `ETIMEDOUT`...) when it did not. */
export class RemoteGetError extends Error {
  override name = 'RemoteGetError';
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Largest body read, bytes: a list page of 500 objects is far below; anything bigger is not an API server answer. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * GETs `path` (with its query) from the current cluster of `kc`; resolves the parsed JSON of a 200, rejects a RemoteGetError otherwise.
 * `signal` ends the request at once (its socket too): a stopped watcher must not wait out the timeout of a list to a hung server.
 */
export async function remoteGet(kc: KubeConfig, path: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new RemoteGetError('no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  const options: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) };
  await kc.applyToHTTPSOptions(options);
  const plain = url.protocol === 'http:';
  if (plain) delete options.agent;
  return new Promise((resolve, reject) => {
    const req = (plain ? http : https).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy(new RemoteGetError(`GET ${url.pathname}: answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('error', (err) => reject(toError(err, url)));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new RemoteGetError(`GET ${url.pathname}: HTTP ${res.statusCode}`, res.statusCode));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf-8')));
        } catch {
          reject(new RemoteGetError(`GET ${url.pathname}: the answer is not JSON`));
        }
      });
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new RemoteGetError(`GET ${url.pathname}: no answer within ${timeoutMs} ms`, undefined, 'ETIMEDOUT')),
    );
    req.on('error', (err) => reject(toError(err, url)));
    req.end();
  });
}

function toError(err: Error, url: URL): RemoteGetError {
  if (err instanceof RemoteGetError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new RemoteGetError(`GET ${url.pathname}: ${code ?? err.message}`, undefined, code);
}
