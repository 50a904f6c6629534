/**
 * The HTTP surface: admission endpoints on the lean path, everything else
 * (`/healthz`, `/readyz`, unknown paths) through express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { admissionHandler, type AdmissionDeps } from './admission-handler.js';
import { statusBody } from './status.js';
import { TurnBatch } from './turn-batch.js';

export interface AppDeps extends AdmissionDeps {
  /** Readiness: the state has synced and the server is not shutting down. */
  ready: () => { ready: boolean; reason?: string };
}

/** express for the non-admission endpoints. */
export function createExpressApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const r = deps.ready();
    if (r.ready) res.type('text/plain').send('ok');
    else
      res
        .status(503)
        .type('text/plain')
        .send(`not ready: ${r.reason ?? 'starting'}`);
  });
  app.get('/metrics', async (_req, res) => {
    if (!deps.metrics) {
      res.status(404).json(statusBody(404, 'metrics are not enabled'));
      return;
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.use((req, res) => {
    res.status(404).json(statusBody(404, `no endpoint ${req.method} ${req.path}; use POST /validate or POST /mutate`));
  });
  return app;
}

/** The request listener for node:https (and supertest): admission paths first, express for the rest. */
export function createRequestListener(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  // One batch for both endpoints: requests of the same turn are answered together whatever their path.
  const batch = new TurnBatch((err) =>
    deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'admission answer failed'),
  );
  const validate = admissionHandler('validate', deps, batch);
  const mutate = admissionHandler('mutate', deps, batch);
  const app = createExpressApp(deps);
  return (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path === '/validate') validate(req, res);
    else if (path === '/mutate') mutate(req, res);
    else app(req, res);
  };
}
