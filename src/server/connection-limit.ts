/**
 * Bounds on connections, so idle ones cannot exhaust memory (an idle TLS
 * connection holds about 17 KiB, twice that under a flood; README
 * "Resource limits").
 *
 * - From 90% of `maxConnections`, each new connection closes the one that
 *   has been idle longest (no request in flight), so a client filling the
 *   cap with idle connections cannot lock out a new one, the
 *   kube-apiserver's included. Connections in use are never closed for it.
 * - Over `maxConnections` with none idle, the new connection is closed as
 *   accepted, before its TLS handshake has cost anything.
 * - A connection with nothing to do (before its first request, between two
 *   requests) is closed after `idleTimeoutMs`.
 *
 * Node's own `server.maxConnections` is not used: it drops a connection
 * before any listener could make room for it.
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
  /** A connection over the cap, with none idle to close instead, was closed as it was accepted. */
  refused(): void;
  /** An idle connection was closed to make room for a new one. */
  evicted(): void;
}

export interface ConnectionTracker {
  /** Connections open now (accepted, not yet closed). */
  readonly open: number;
  /** Of those, the TLS connections with no request in flight. */
  readonly idle: number;
  /**
   * To be called first for every request: its connection is in use until the
   * answer. Called from the server's one request listener (a second
   * listener, and `once`, cost allocations per request on the hot path).
   */
  request(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * Applies `limits` to `server` (an https.Server; `secureConnection` is its
 * event for a connection ready for HTTP); the caller passes each request to
 * the tracker's `request`.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, events?: ConnectionEvents): ConnectionTracker {
  const { maxConnections, idleTimeoutMs } = limits;
  server.keepAliveTimeout = idleTimeoutMs;
  // No per-socket inactivity timer (`server.timeout`): it is re-armed on every read and write (with the
  // per-request closures since removed, about 3 % of throughput under load: bench/optimisations.md); the
  // idle connections are swept below instead.
  server.timeout = 0;
  const evictFrom = Math.max(1, Math.floor(maxConnections * 0.9));
  // Idle TLS connections and when each became idle (ms). Insertion order is idle-since order: the
  // first is the one idle longest, so both eviction and the sweep look at the front only.
  const idle = new Map<Socket, number>();
  let open = 0;

  // Connections idle past the timeout, before their first request or between two, are closed; keepAliveTimeout
  // does the same for kept-alive ones, and this catches a connection that never sends a request.
  const sweep = setInterval(
    () => {
      const oldest = Date.now() - idleTimeoutMs;
      for (const [socket, since] of idle) {
        if (since > oldest) break;
        idle.delete(socket);
        socket.destroy();
      }
    },
    Math.max(10, Math.min(1_000, Math.floor(idleTimeoutMs / 10))),
  );
  sweep.unref();
  server.once('close', () => clearInterval(sweep));

  server.on('connection', (raw: Socket) => {
    open++;
    raw.once('close', () => open--);
    if (open <= evictFrom) return;
    const oldest = idle.keys().next();
    if (!oldest.done) {
      idle.delete(oldest.value);
      oldest.value.destroy();
      events?.evicted();
    } else if (open > maxConnections) {
      raw.destroy();
      events?.refused();
    }
  });
  server.on('secureConnection', (socket: Socket) => {
    idle.set(socket, Date.now());
    socket.once('close', () => idle.delete(socket));
  });
  // Idle again, and the newest idle, once answered (if still open). One function for every response, not
  // a closure per request: with `res.req.socket` it needs no state of its own (measured, bench/optimisations.md).
  function answered(this: ServerResponse): void {
    const socket = this.req.socket;
    if (!socket.destroyed) idle.set(socket, Date.now());
  }
  return {
    request(req, res) {
      idle.delete(req.socket);
      // 'close' comes once, after the answer or a lost connection: `on` spares `once`'s wrapper.
      res.on('close', answered);
    },
    get open() {
      return open;
    },
    get idle() {
      return idle.size;
    },
  };
}
