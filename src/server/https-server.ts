/**
 * The HTTPS server (node:https, TLS 1.2 or later). Timeouts bound slow
 * clients: headers must arrive within 10 s and a whole request within 30 s,
 * the kube-apiserver's own longest webhook timeout.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface HttpsOptions {
  port: number;
  host?: string;
  tls: TlsFiles;
  listener: (req: IncomingMessage, res: ServerResponse) => void;
}

export function readTls(tls: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
}

export function createHttpsServer(opts: HttpsOptions): https.Server {
  const server = https.createServer({ ...readTls(opts.tls), minVersion: 'TLSv1.2' }, opts.listener);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // Longer than the kube-apiserver's idle connection timeout so it, not we, closes idle connections.
  server.keepAliveTimeout = 95_000;
  return server;
}

/** Starts listening; resolves with the bound port (useful with port 0). */
export function listen(server: https.Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
