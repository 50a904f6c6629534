/**
 * Bounds on connections, so idle ones cannot exhaust memory (an idle TLS
 * connection costs about 30 KiB; README "Resource limits").
 *
 * - At most `maxConnections` are open: Node closes one over it as it is
 *   accepted, before the TLS handshake costs anything.
 * - Before that, from 90% of the cap, each new connection closes the one
 *   that has been idle longest (no request in flight), so a client filling
 *   the cap with idle connections cannot lock out a new one, the
 *   kube-apiserver's included; and a connection answered there is closed
 *   rather than kept for another request.
 * - A connection with nothing to do (before its first request, between two
 *   requests) is closed after `idleTimeoutMs`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Most connections open at once (TLS handshakes included); ≥ 1. */
  maxConnections: number;
  /** Milliseconds a connection may stay without a request before it is closed. */
  idleTimeoutMs: number;
}

/**
 * Longer than the idle timeout of the kube-apiserver's webhook client (Go's
 * http.Transport, 90 s), so that it, not this server, closes its idle
 * connections: a server closing one just as a request is sent on it fails
 * that request.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 95_000;

/** Where the closures of connections are reported (metrics). */
export interface ConnectionEvents {
  /** A connection over the cap was closed as it was accepted. */
  refused(): void;
  /** An idle connection was closed to make room for a new one. */
  evicted(): void;
}

export interface ConnectionStats {
  /** Connections open now (accepted, not yet closed). */
  readonly open: number;
  /** Of those, the TLS connections with no request in flight. */
  readonly idle: number;
}

/** Applies `limits` to `server` (an https.Server; `secureConnection` is its event for a connection ready for HTTP). */
export function limitConnections(server: Server, limits: ConnectionLimits, events?: ConnectionEvents): ConnectionStats {
  const { maxConnections, idleTimeoutMs } = limits;
  server.maxConnections = maxConnections;
  server.keepAliveTimeout = idleTimeoutMs;
  // Inactivity before the first request too (Node sets it on each new socket); a request in flight is bounded by requestTimeout.
  server.timeout = idleTimeoutMs;
  const evictFrom = Math.max(1, Math.floor(maxConnections * 0.9));
  // Insertion order is idle-since order: the first is the one idle longest.
  const idle = new Set<Socket>();
  let open = 0;

  server.on('drop', () => events?.refused());
  server.on('connection', (raw: Socket) => {
    open++;
    raw.once('close', () => open--);
    if (open <= evictFrom) return;
    const oldest = idle.values().next();
    if (oldest.done) return;
    idle.delete(oldest.value);
    oldest.value.destroy();
    events?.evicted();
  });
  server.on('secureConnection', (socket: Socket) => {
    idle.add(socket);
    socket.once('close', () => idle.delete(socket));
  });
  // Before the application's listener, so the header can still be set.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    idle.delete(socket);
    // Near the cap, a connection is not kept for another request (idle ones cannot pile up to the cap after a burst):
    // said in the answer when known now, else it is closed once answered.
    if (open > evictFrom) res.setHeader('connection', 'close');
    // Once answered: idle again and the newest idle, or, if still near the cap, closed (its answer is written: end() sends it first).
    res.once('close', () => {
      if (socket.destroyed) return;
      if (open > evictFrom) socket.end();
      else idle.add(socket);
    });
  });
  return {
    get open() {
      return open;
    },
    get idle() {
      return idle.size;
    },
  };
}
