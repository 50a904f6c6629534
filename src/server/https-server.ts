/**
 * The HTTPS server (node:https), presenting a ServingCertificate with its TLS
 * settings (src/certs/serving-certificate.ts: TLS 1.2 or later with ECDHE AEAD suites,
 * client certificates with `--client-ca`). Timeouts bound slow
 * clients: the TLS handshake and the headers must each complete within 10 s
 * and a whole request within 30 s, the kube-apiserver's own longest webhook
 * timeout; a client past one is disconnected (answered 408 once it has sent
 * a request line), other connections unaffected. Connections are capped and
 * idle ones closed (connection-limit.ts).
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { ServingCertificate } from '../certs/serving-certificate.js';
import { DEFAULT_IDLE_TIMEOUT_MS, limitConnections, type ConnectionEvents, type ConnectionLimits } from './connection-limit.js';

export interface HttpsOptions {
  port: number;
  host?: string;
  /** The certificate and TLS settings; the server is attached to it, so its later installs reach this server. */
  certificate: ServingCertificate;
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Slow-client limits; 10 s for the headers and 30 s for a whole request unless set (tests use shorter ones). */
  timeouts?: ServerTimeouts;
  /** Connection cap and idle timeout; DEFAULT_CONNECTION_LIMITS unless set. */
  limits?: ConnectionLimits;
  /** Told of each connection refused over the cap or closed to make room. */
  connectionEvents?: ConnectionEvents;
}

export interface ServerTimeouts {
  /** The TLS handshake, and then the request headers, must each complete within this many milliseconds. */
  headersMs: number;
  /** The whole request (headers and body) must arrive within this many milliseconds. */
  requestMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ServerTimeouts> = { headersMs: 10_000, requestMs: 30_000 };

/** The node:http server options of `timeouts`, for the webhook port and the plain side ports alike. */
export function timeoutOptions({ headersMs, requestMs }: ServerTimeouts) {
  return {
    headersTimeout: headersMs,
    requestTimeout: requestMs,
    // Node checks both timeouts on this interval (30 s by default, which would let a slow client
    // hold a connection up to 30 s past its deadline): a tenth of the shorter one, 10 ms to 1 s.
    connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(Math.min(headersMs, requestMs) / 10))),
  };
}

/**
 * Seconds a stopping server waits, after its shutdown delay, for in-flight requests (and the decision log):
 * with the default 5 s delay, well inside Kubernetes' 30 s termination grace period.
 */
export const DEFAULT_DRAIN_TIMEOUT = 10;

/**
 * 4,096 connections: an idle TLS connection holds about 17 KiB, and about
 * twice that under a flood of them (the garbage of those closed to make
 * room), so under 150 MiB of the Deployment's 512 MiB (measured by `make
 * chaos`; the README's "Resource limits" has the sum).
 */
export const DEFAULT_MAX_CONNECTIONS = 4096;

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
};

export function createHttpsServer(opts: HttpsOptions): https.Server {
  const timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS;
  const server = https.createServer({
    ...opts.certificate.serverOptions(),
    // A client that connects and never completes the handshake is as slow as one that never sends headers.
    handshakeTimeout: timeouts.headersMs,
    ...timeoutOptions(timeouts),
  });
  const tracker = limitConnections(server, opts.limits ?? DEFAULT_CONNECTION_LIMITS, opts.connectionEvents);
  const listener = opts.listener;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    tracker.request(req, res);
    listener(req, res);
  });
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
