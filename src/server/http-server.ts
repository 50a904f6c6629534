/**
 * The plain HTTP server of the probe and metrics ports. Plain, not TLS:
 * kubelet probes send no client certificate and skip verification of a
 * server one, and Prometheus scrapes in-cluster targets over HTTP unless given
 * a CA; the endpoints are read-only (GET, no body used) and hold no secret, so
 * TLS would add a certificate to distribute and nothing to protect. The same
 * slow-client limits as the webhook port.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { DEFAULT_TIMEOUTS, timeoutOptions, type ServerTimeouts } from './https-server.js';

export function createHttpServer(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  timeouts: ServerTimeouts = DEFAULT_TIMEOUTS,
): http.Server {
  return http.createServer(timeoutOptions(timeouts), listener);
}
