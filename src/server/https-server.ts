/**
 * The HTTPS server (node:https), presenting a ServingCertificate with its TLS
 * settings (src/certs/serving-certificate.ts: TLS 1.2 or later with ECDHE AEAD suites,
 * client certificates with `--client-ca`). Timeouts bound slow
 * clients: the TLS handshake and the headers must each complete within 10 s
 * and a whole request within 30 s, the kube-apiserver's own longest webhook
 * timeout; a client past one is disconnected (answered 408 once it has sent
 * a request line), other connections unaffected.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { ServingCertificate } from '../certs/serving-certificate.js';

export interface HttpsOptions {
  port: number;
  host?: string;
  /** The certificate and TLS settings; the server is attached to it, so its later installs reach this server. */
  certificate: ServingCertificate;
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Slow-client limits; 10 s for the headers and 30 s for a whole request unless set (tests use shorter ones). */
  timeouts?: ServerTimeouts;
}

export interface ServerTimeouts {
  /** The TLS handshake, and then the request headers, must each complete within this many milliseconds. */
  headersMs: number;
  /** The whole request (headers and body) must arrive within this many milliseconds. */
  requestMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ServerTimeouts> = { headersMs: 10_000, requestMs: 30_000 };

/**
 * Seconds a stopping server waits, after its shutdown delay, for in-flight requests (and the decision log):
 * with the default 5 s delay, well inside Kubernetes' 30 s termination grace period.
 */
export const DEFAULT_DRAIN_TIMEOUT = 10;

export function createHttpsServer(opts: HttpsOptions): https.Server {
  const { headersMs, requestMs } = opts.timeouts ?? DEFAULT_TIMEOUTS;
  const server = https.createServer(
    {
      ...opts.certificate.serverOptions(),
      // A client that connects and never completes the handshake is as slow as one that never sends headers.
      handshakeTimeout: headersMs,
      headersTimeout: headersMs,
      requestTimeout: requestMs,
      // Node checks both timeouts on this interval (30 s by default, which would let a slow client
      // hold a connection up to 30 s past its deadline): a tenth of the shorter one, 10 ms to 1 s.
      connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(Math.min(headersMs, requestMs) / 10))),
    },
    opts.listener,
  );
  // Longer than the kube-apiserver's idle connection timeout so it, not we, closes idle connections.
  server.keepAliveTimeout = 95_000;
  opts.certificate.attach(server);
  return server;
}

/** Starts listening (the HTTPS server or a plain one); resolves with the bound port (useful with port 0). */
export function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
