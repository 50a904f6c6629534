/**
 * The admission endpoints (`POST /validate`, `POST /mutate`) as plain
 * `node:http` handlers: the hot path reads, parses and answers without
 * per-request framework work (express serves everything else).
 *
 * Every outcome is either a well-formed AdmissionReview (200) or a 4xx/5xx
 * `Status` with a one-line reason: a non-JSON or oversized body, a wrong
 * apiVersion or a missing `request.uid` never reach the engine, and an error
 * inside it becomes a fail-closed denial, not a crash.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import { parseAdmissionReview } from '../admission/parse.js';
import { admissionResponse, errorResponse } from '../admission/response.js';
import { ADMISSION_API_VERSION, type AdmissionRequest, type AdmissionResponse } from '../admission/types.js';
import type { Decision } from '../engine/decision.js';
import type { Engine, Phase } from '../engine/engine.js';
import { objectRequest, type ObjectRequest } from '../kube/object-request.js';
import type { ClusterState } from '../state/cluster-state.js';
import { isJsonContentType } from './content-type.js';
import { decisionLogger, logDecision } from './decision-log.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from './metrics.js';
import type { BodyBudget } from './body-budget.js';
import { sendJson, sendStatus, shed } from './status.js';
import type { TurnBatch } from './turn-batch.js';

export interface AdmissionDeps {
  engine: Engine;
  state: ClusterState;
  log: Logger;
  /** Largest accepted body in bytes; larger ones get 413. */
  maxBodyBytes: number;
  /**
   * Body bytes all requests together may hold while being read and answered
   * (body-budget.ts); a request that does not fit gets 429 before its body is
   * read. Unlimited when unset.
   */
  bodyBudget?: BodyBudget;
  /**
   * Loads into the state what a request needs and no watch delivers (live
   * state only): undefined when nothing is missing, the usual case, else a
   * promise that never rejects. Must not throw.
   */
  prepare?: (request: ObjectRequest) => Promise<void> | undefined;
  metrics?: Metrics;
  /**
   * The loggers decisions go to, each made by `decisionLogger` (the process
   * log, a `--decision-log` file, stdout); default: the process logger `log`.
   */
  decisionLogs?: readonly Logger[];
  /**
   * Kubernetes Events of denials (`serve --emit-events admission`,
   * events/recorder.ts): handed each denied request after its answer is
   * sent. Must return at once and not throw. Unset: nothing is done.
   */
  events?: AdmissionEvents;
}

/** What the handler hands denials to. */
export interface AdmissionEvents {
  admission(request: AdmissionRequest, decision: Decision): void;
}

/** Default body limit: an UPDATE carries object and oldObject, each up to etcd's 1.5 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Default in-flight body budget: 32 MiB, eight bodies at the limit (thousands
 * at the few KiB of a usual review). A body costs several times its bytes
 * while read, decoded and parsed, and eight 4 MiB bodies answered in one
 * event-loop turn already take about 200 ms of CPU: a larger budget (64 MiB
 * measured) put a normal request's p99 past 1 s under 200 concurrent 4 MiB
 * bodies. The README's "Resource limits" has the sum against the
 * Deployment's 512 MiB.
 */
export const DEFAULT_MAX_INFLIGHT_BODY_BYTES = 8 * DEFAULT_MAX_BODY_BYTES;

type HttpError = Error & { status?: number; type?: string };

const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

/**
 * An admission operation, or `other`, as a metric label. The kind label is the
 * decision's handled kind or `other` likewise: a client may send any strings
 * there, and every distinct label value is kept (and exported) for the life of
 * the process.
 */
function operationLabel(operation: string): string {
  return OPERATIONS.has(operation) ? operation : 'other';
}

/** The engine request of an AdmissionRequest: its kind as the API server names it, its namespace and name for objects without them. */
function engineRequestOf(request: AdmissionRequest): ObjectRequest {
  return objectRequest(request.object, {
    operation: request.operation,
    oldObject: request.oldObject,
    namespace: request.namespace ?? '',
    name: request.name ?? '',
    kind: request.kind,
  });
}

/** The request's content-length, -1 when it has none (chunked). Node's parser has refused a malformed one. */
function declaredLength(req: IncomingMessage): number {
  const declared = req.headers['content-length'];
  return declared === undefined ? -1 : Number(declared);
}

/** The 4xx for a body raw-body could not read. */
function bodyError(err: HttpError, limit: number): { code: number; reason: string } {
  if (err.type === 'entity.too.large') return { code: 413, reason: `body is larger than ${limit} bytes` };
  if (err.type === 'request.aborted') return { code: 400, reason: 'request aborted by the client' };
  return { code: err.status && err.status < 500 ? err.status : 400, reason: 'body could not be read' };
}

/**
 * The handler of one admission endpoint. Once raw-body has the whole body, the
 * request is parsed and answered in `batch` with the others of the same
 * event-loop turn (turn-batch.ts); only a request whose `prepare` step has to
 * fetch something waits for it. The reported duration runs from the end of
 * the body to the answer, the wait for the batch included.
 */
export function admissionHandler(phase: Exclude<Phase, 'both'>, deps: AdmissionDeps, batch: TurnBatch) {
  const path = `/${phase}`;
  const decisionLogs = deps.decisionLogs ?? [decisionLogger(deps.log)];

  const events = deps.events;
  const answer = (res: ServerResponse, request: AdmissionRequest, engineRequest: ObjectRequest, started: number): void => {
    let response: AdmissionResponse;
    let decision: Decision | undefined;
    try {
      decision = deps.engine.evaluate(engineRequest, phase, deps.state);
      response = admissionResponse(request.uid, decision);
      const record = { uid: request.uid, path, request, decision };
      for (const log of decisionLogs) logDecision(log, record);
      deps.metrics?.observe(
        path,
        decision.kind ?? 'other',
        operationLabel(request.operation),
        decision,
        (performance.now() - started) / 1000,
      );
    } catch (err) {
      deps.log.error({ uid: request.uid, path, err: err instanceof Error ? err.message : String(err) }, 'admission evaluation failed');
      response = errorResponse(request.uid, 'remote-cluster-guard could not evaluate this request; see the webhook log');
    }
    sendJson(res, 200, { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response });
    // After the answer is written: the recorder only queues (its writes happen in a later turn).
    if (events !== undefined && decision !== undefined && !decision.allowed) events.admission(request, decision);
  };

  const budget = deps.bodyBudget;
  // A chunked body (no content-length, -1) may grow to the limit: it reserves the limit.
  const reservedBytes = (length: number) => (length < 0 ? deps.maxBodyBytes : length);
  // One listener for every response rather than a closure per request (measured, bench/optimisations.md):
  // what a request reserved follows from its own headers again.
  function releaseBody(this: ServerResponse): void {
    budget?.release(reservedBytes(declaredLength(this.req)));
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') return sendStatus(res, 405, `${path} accepts POST only`);
    if (!isJsonContentType(req.headers['content-type'])) {
      req.resume();
      return sendStatus(res, 415, 'content-type must be application/json (charset utf-8 if any)');
    }
    // Refused before a byte is read: a declared length over the limit, and (429) a body the budget has no room for.
    const length = declaredLength(req);
    if (length > deps.maxBodyBytes) {
      res.setHeader('connection', 'close');
      return sendStatus(res, 413, `body is larger than ${deps.maxBodyBytes} bytes`);
    }
    if (budget) {
      if (!budget.tryReserve(reservedBytes(length))) {
        deps.metrics?.shed('body_budget');
        return shed(res, 'too many request bodies in flight; retry shortly');
      }
      // 'close' follows the answer, or a connection lost before it: exactly once either way (`on` spares `once`'s wrapper).
      res.on('close', releaseBody);
    }
    // The body as bytes, decoded once at the end (invalid UTF-8 becomes U+FFFD, as a streaming decoder would make it).
    getRawBody(req, { limit: deps.maxBodyBytes }, (err, bytes) => {
      if (err) {
        const e = bodyError(err as HttpError, deps.maxBodyBytes);
        // Stop reading an oversized body: the connection is closed after the answer.
        if (e.code === 413) res.setHeader('connection', 'close');
        return sendStatus(res, e.code, e.reason);
      }
      const started = performance.now();
      batch.add(() => {
        const parsed = parseAdmissionReview(bytes.toString('utf8'));
        if (!parsed.ok) return sendStatus(res, 400, parsed.reason);
        const { request } = parsed;
        const engineRequest = engineRequestOf(request);
        const pending = deps.prepare?.(engineRequest);
        if (!pending) return answer(res, request, engineRequest, started);
        // prepare never rejects by contract; answering on rejection too keeps that a promise, not an assumption.
        pending.then(
          () => answer(res, request, engineRequest, started),
          () => answer(res, request, engineRequest, started),
        );
      });
    });
  };
}
