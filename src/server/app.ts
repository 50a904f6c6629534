/**
 * The HTTP surface: admission endpoints on the lean path, everything else
 * (`/healthz`, `/readyz`, `/metrics`, unknown paths) through express. The
 * probes and `/metrics` are on the webhook port only while they have no port
 * of their own (`--health-port`, `--metrics-port` 0); with their own, the
 * webhook port answers 404 for them and a NetworkPolicy can tell the callers
 * apart by port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { admissionHandler, type AdmissionDeps } from './admission-handler.js';
import { clientNameCheck } from './client-auth.js';
import { sendStatus, statusBody } from './status.js';
import { TurnBatch } from './turn-batch.js';

export interface AppDeps extends AdmissionDeps {
  /**
   * Readiness: the state has synced and the server is not shutting down;
   * `reason` says why not. `warning`, on a ready answer, names something
   * degraded that does not stop admission (`/readyz` stays 200 and says it).
   */
  ready: () => { ready: boolean; reason?: string; warning?: string };
}

/** Which endpoints besides /validate and /mutate a listener serves. */
export interface Endpoints {
  /** `/healthz`, `/readyz`. */
  health: boolean;
  /** `/metrics`. */
  metrics: boolean;
}

const ALL: Readonly<Endpoints> = { health: true, metrics: true };

/** express for the non-admission endpoints; `admission` names them in the 404 message of the webhook port. */
export function createExpressApp(deps: AppDeps, endpoints: Endpoints = ALL, admission = true): Express {
  const app = express();
  app.disable('x-powered-by');
  if (endpoints.health) {
    app.get('/healthz', (_req, res) => {
      res.type('text/plain').send('ok');
    });
    app.get('/readyz', (_req, res) => {
      const r = deps.ready();
      if (r.ready) res.type('text/plain').send(r.warning ? `ok, but ${r.warning}` : 'ok');
      else
        res
          .status(503)
          .type('text/plain')
          .send(`not ready: ${r.reason ?? 'starting'}`);
    });
  }
  if (endpoints.metrics) {
    app.get('/metrics', async (_req, res) => {
      if (!deps.metrics) {
        res.status(404).json(statusBody(404, 'metrics are not enabled'));
        return;
      }
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });
  }
  app.use((req, res) => {
    res
      .status(404)
      .json(statusBody(404, `no endpoint ${req.method} ${req.path}${admission ? '; use POST /validate or POST /mutate' : ''}`));
  });
  return app;
}

export interface ListenerOptions {
  /** The other endpoints this listener serves too (all unless set). */
  endpoints?: Endpoints;
  /** Subject CNs allowed on client certificates (`--client-cn`); every request of another is answered 403. */
  clientNames?: readonly string[];
}

/** The request listener of the webhook port for node:https (and supertest): admission paths first, express for the rest. */
export function createRequestListener(deps: AppDeps, o: ListenerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  // One batch for both endpoints: requests of the same turn are answered together whatever their path.
  const batch = new TurnBatch((err) =>
    deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'admission answer failed'),
  );
  const validate = admissionHandler('validate', deps, batch);
  const mutate = admissionHandler('mutate', deps, batch);
  const app = createExpressApp(deps, o.endpoints ?? ALL);
  const refusal = o.clientNames ? clientNameCheck(o.clientNames) : undefined;
  const refused = new WeakSet<object>();
  return (req, res) => {
    const denied = refusal?.(req);
    if (denied !== undefined) {
      // Once per connection: a client looping on 403 does not flood the log.
      if (!refused.has(req.socket)) deps.log.warn({ remoteAddress: req.socket.remoteAddress, reason: denied }, 'client refused');
      refused.add(req.socket);
      req.resume();
      sendStatus(res, 403, denied);
      return;
    }
    const path = (req.url ?? '').split('?', 1)[0];
    if (path === '/validate') validate(req, res);
    else if (path === '/mutate') mutate(req, res);
    else app(req, res);
  };
}

/** The listener of a port of its own for probes and/or `/metrics` (plain HTTP). */
export function createSideListener(deps: AppDeps, endpoints: Endpoints): (req: IncomingMessage, res: ServerResponse) => void {
  return createExpressApp(deps, endpoints, false);
}
