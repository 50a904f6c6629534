/**
 * The Event recorder of `serve --emit-events`: turns denials and audit
 * violations into Kubernetes Events (kube-event.ts), off the admission hot
 * path and never failing it.
 *
 * - `admission()` and `audit()` only append to a bounded queue (full: the
 *   observation is dropped and counted) and schedule one `setImmediate` drain:
 *   the AdmissionResponse has been sent before any Event work starts, and
 *   nothing here waits for the API server.
 * - Aggregation as client-go's EventRecorder (tools/events
 *   `eventBroadcasterImpl.recordToSink`): one Event per object, rule and
 *   action; a repeat within `seriesWindowMs` (10 minutes) of the previous one
 *   increments `series.count` and sets `series.lastObservedTime` on that Event
 *   (a merge patch) instead of creating another. Repeats arriving while the
 *   Event's write is still queued are folded into that write.
 * - Rate limit: a token bucket per object (token-buckets.ts) for writes; an
 *   observation without a token is not written (counted; a repeat still
 *   counts in its series, so the next write carries it).
 * - Bounded memory: at most `maxSeries` series and buckets (least recently
 *   used dropped; expired series swept at each drain), at most `maxQueue`
 *   observations and `maxQueue` writes queued.
 * - One writer, one request at a time, each within `writeTimeoutMs`.
 *   Failures are counted by cause and logged once per cause until a write
 *   succeeds again; a 429, a 5xx, a timeout or an unreachable server is
 *   retried (at most `MAX_ATTEMPTS` times, with backoff between writes).
 *
 * Dry-run requests make no Event: the webhook declares `sideEffects: None`,
 * which promises no side effect for them
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#side-effects).
 */
import type { AdmissionRequest } from '../../admission/types.js';
import { withDeadline, DeadlineExceeded } from '../../common/deadline.js';
import { oneLine } from '../../common/text.js';
import type { Decision } from '../../engine/decision.js';
import type { Finding } from '../../engine/finding.js';
import type { Logger } from '../../log/logger.js';
import { Backoff } from '../../state/live/backoff.js';
import {
  EVENT_ACTIONS,
  REPORTING_CONTROLLER,
  REPORTING_INSTANCE_MAX_BYTES,
  apiVersionOf,
  eventName,
  eventNamespace,
  eventNote,
  eventReason,
  truncateBytes,
  type EventSource,
  type KubeEvent,
  type ObjectReference,
} from './kube-event.js';
import { TokenBuckets } from './token-buckets.js';
import { apiStatus } from '../../kube/api-status.js';

/** Where Events are written (kube-sink.ts; tests pass their own). Errors carry the HTTP status as `code` when the API server answered. */
export interface EventSink {
  create(event: KubeEvent): Promise<void>;
  /** Sets `series` on an existing Event. */
  patchSeries(namespace: string, name: string, series: { count: number; lastObservedTime: number }): Promise<void>;
}

/** `remote_cluster_guard_events_total{result}`. */
export const EVENT_RESULTS = ['created', 'series_updated', 'rate_limited', 'queue_full', 'failed'] as const;
export type EventResult = (typeof EVENT_RESULTS)[number];

/** `remote_cluster_guard_event_write_failures_total{cause}`: the HTTP status of the answer as a word, or why there was none. */
export const WRITE_FAILURE_CAUSES = [
  'forbidden',
  'not_found',
  'conflict',
  'invalid',
  'too_many_requests',
  'server_error',
  'unreachable',
  'timeout',
  'other',
] as const;
export type WriteFailureCause = (typeof WRITE_FAILURE_CAUSES)[number];

const RETRIED: ReadonlySet<WriteFailureCause> = new Set(['too_many_requests', 'server_error', 'unreachable', 'timeout']);

/** Writes of one Event attempted at most, for causes that are retried. */
export const MAX_ATTEMPTS = 3;

/** An audited object with its decision (the periodic audit's result, cli/audit.ts). */
export interface AuditedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  decision: Pick<Decision, 'findings'>;
}

export interface EventRecorderOptions {
  sink: EventSink;
  log: Logger;
  /** Namespace of Events about namespaced objects that do not exist yet (a denied CREATE): the webhook's own. */
  webhookNamespace: string;
  /** `reportingInstance`: the pod name. */
  reportingInstance: string;
  /** Called once per outcome (metrics). */
  counted?: (result: EventResult) => void;
  /** Called once per failed write (metrics). */
  failed?: (cause: WriteFailureCause) => void;
  /** Clock, ms since the epoch; default Date.now. */
  now?: () => number;
  /** A repeat within this many ms of the previous observation joins its series; default 10 minutes. */
  seriesWindowMs?: number;
  /** Observations and writes queued at most (each); default 1,000. */
  maxQueue?: number;
  /** Series and rate-limit buckets kept at most; default 10,000. */
  maxSeries?: number;
  /** Writes per object: a burst of this many; default 10. */
  burst?: number;
  /** Then one more every this many ms; default 30 s. */
  refillMs?: number;
  /** Deadline of one write to the API server, ms; default 10 s. */
  writeTimeoutMs?: number;
  /** Delays between writes after a retried failure; default the live state's (1 s doubling to 8 s). */
  backoff?: { next(): number; reset(): void };
}

type Intake =
  | { source: 'admission'; request: AdmissionRequest; decision: Decision; at: number }
  | { source: 'audit'; object: AuditedObject; at: number };

/** One Event and its series. */
interface Series {
  key: string;
  /** The Event as first made (name, namespace, note, eventTime). */
  event: KubeEvent;
  /** Observations so far: 1 is a single Event, 2 or more a series. */
  count: number;
  lastAt: number;
  /** The API server has it (created, or found to exist). */
  created: boolean;
  /** In the write queue. */
  queued: boolean;
  attempts: number;
}

function causeOf(err: unknown): WriteFailureCause {
  if (err instanceof DeadlineExceeded) return 'timeout';
  const status = apiStatus(err);
  if (status === undefined) return err instanceof Error ? 'unreachable' : 'other';
  if (status === 401 || status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 422) return 'invalid';
  if (status === 429) return 'too_many_requests';
  if (status >= 500) return 'server_error';
  return 'other';
}

function metadataUid(object: unknown): string | undefined {
  const uid = (object as { metadata?: { uid?: unknown } } | null | undefined)?.metadata?.uid;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

export class EventRecorder {
  private intake: Intake[] = [];
  private drainScheduled = false;
  private readonly writes: Series[] = [];
  private writing = false;
  private closed = false;
  /** In least-recently-observed order. */
  private readonly series = new Map<string, Series>();
  private readonly buckets: TokenBuckets;
  private readonly failuresLogged = new Set<WriteFailureCause>();
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly maxQueue: number;
  private readonly maxSeries: number;
  private readonly writeTimeoutMs: number;
  private readonly backoff: { next(): number; reset(): void };
  private readonly reportingInstance: string;

  constructor(private readonly o: EventRecorderOptions) {
    this.now = o.now ?? Date.now;
    this.windowMs = o.seriesWindowMs ?? 10 * 60_000;
    this.maxQueue = o.maxQueue ?? 1_000;
    this.maxSeries = o.maxSeries ?? 10_000;
    this.writeTimeoutMs = o.writeTimeoutMs ?? 10_000;
    this.backoff = o.backoff ?? new Backoff();
    this.buckets = new TokenBuckets({ burst: o.burst ?? 10, refillMs: o.refillMs ?? 30_000, maxKeys: this.maxSeries });
    this.reportingInstance = truncateBytes(oneLine(o.reportingInstance), REPORTING_INSTANCE_MAX_BYTES) || 'remote-cluster-guard';
  }

  /** A denied admission request (a dry run is ignored). Returns at once; never throws. */
  admission(request: AdmissionRequest, decision: Decision): void {
    if (request.dryRun === true || this.closed) return;
    this.accept({ source: 'admission', request, decision, at: this.now() });
  }

  /** An audited object (only its deny findings make Events). Returns at once; never throws. */
  audit(object: AuditedObject): void {
    if (this.closed) return;
    this.accept({ source: 'audit', object, at: this.now() });
  }

  /** Series held (bounded by `maxSeries`). */
  get seriesCount(): number {
    return this.series.size;
  }

  /** Resolves once every accepted observation has been handled and no write is under way. */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting observations; resolves when the queued writes are done or after `ms`. */
  async close(ms: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.whenIdle(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  private idle(): boolean {
    return !this.drainScheduled && !this.writing && this.writes.length === 0;
  }

  private settleIdle(): void {
    if (!this.idle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private count(result: EventResult): void {
    try {
      this.o.counted?.(result);
    } catch {
      /* a metric must not break recording */
    }
  }

  private accept(item: Intake): void {
    if (this.intake.length >= this.maxQueue) return this.count('queue_full');
    this.intake.push(item);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    const items = this.intake;
    this.intake = [];
    for (const item of items) {
      try {
        if (item.source === 'admission') this.observeAdmission(item.request, item.decision, item.at);
        else this.observeAudit(item.object, item.at);
      } catch (err) {
        this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'Kubernetes Event not recorded');
      }
    }
    this.sweep(this.now());
    this.drainScheduled = false;
    void this.pump();
  };

  private observeAdmission(request: AdmissionRequest, decision: Decision, at: number): void {
    const uid = request.operation === 'CREATE' ? undefined : (metadataUid(request.oldObject) ?? metadataUid(request.object));
    const regarding: ObjectReference = {
      apiVersion: apiVersionOf(request.kind.group, request.kind.version),
      kind: request.kind.kind,
      namespace: decision.namespace,
      name: decision.name,
      ...(uid ? { uid } : {}),
    };
    this.observe('admission', regarding, request.operation !== 'CREATE', decision.findings, at);
  }

  private observeAudit(object: AuditedObject, at: number): void {
    const regarding: ObjectReference = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.namespace,
      name: object.name,
      ...(object.uid ? { uid: object.uid } : {}),
    };
    this.observe('audit', regarding, true, object.decision.findings, at);
  }

  /** One observation per rule with deny findings. */
  private observe(source: EventSource, regarding: ObjectReference, exists: boolean, findings: readonly Finding[], at: number): void {
    const byRule = new Map<string, Finding[]>();
    for (const f of findings) {
      if (f.action !== 'deny') continue;
      const list = byRule.get(f.rule);
      if (list) list.push(f);
      else byRule.set(f.rule, [f]);
    }
    if (byRule.size === 0) return;
    const namespace = eventNamespace(regarding, exists, this.o.webhookNamespace);
    const action = EVENT_ACTIONS[source];
    const objectKey = [namespace, regarding.apiVersion, regarding.kind, regarding.namespace, regarding.name].join('\0');
    for (const [rule, ruleFindings] of byRule) {
      const key = `${objectKey}\0${rule}\0${action}`;
      let s = this.series.get(key);
      if (s && at - s.lastAt > this.windowMs) {
        this.series.delete(key);
        s = undefined;
      }
      if (s) {
        // Most recently observed last.
        this.series.delete(key);
        this.series.set(key, s);
        s.count++;
        s.lastAt = at;
        // A queued write sends the count as it is when it runs.
        if (s.queued) continue;
        if (!this.buckets.take(objectKey, at)) {
          this.count('rate_limited');
          continue;
        }
        this.enqueue(s);
        continue;
      }
      if (!this.buckets.take(objectKey, at)) {
        this.count('rate_limited');
        continue;
      }
      s = {
        key,
        event: {
          namespace,
          name: eventName(regarding.name, at),
          regarding,
          reason: eventReason(rule),
          action,
          note: eventNote(ruleFindings),
          type: 'Warning',
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: this.reportingInstance,
          eventTime: at,
        },
        count: 1,
        lastAt: at,
        created: false,
        queued: false,
        attempts: 0,
      };
      if (this.series.size >= this.maxSeries) this.series.delete(this.series.keys().next().value!);
      this.series.set(key, s);
      this.enqueue(s);
    }
  }

  /** Drops series whose last observation is older than the window (they are first in the map). */
  private sweep(now: number): void {
    for (const [key, s] of this.series) {
      if (now - s.lastAt <= this.windowMs) break;
      if (!s.queued) this.series.delete(key);
    }
  }

  private enqueue(s: Series): void {
    if (this.writes.length >= this.maxQueue) return this.count('queue_full');
    s.queued = true;
    this.writes.push(s);
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      for (let s = this.writes.shift(); s; s = this.writes.shift()) {
        s.queued = false;
        if (!(await this.write(s))) continue;
        s.attempts++;
        if (s.attempts < MAX_ATTEMPTS && !s.queued) this.enqueue(s);
        await new Promise((r) => setTimeout(r, this.backoff.next()));
      }
    } finally {
      this.writing = false;
      this.settleIdle();
    }
  }

  private call(p: Promise<void>, what: string): Promise<void> {
    return withDeadline(p, this.writeTimeoutMs, what);
  }

  /** Writes the series' Event as it is now; true when the write failed for a cause worth retrying. */
  private async write(s: Series): Promise<boolean> {
    const { namespace, name } = s.event;
    const series = s.count >= 2 ? { count: s.count, lastObservedTime: s.lastAt } : undefined;
    try {
      if (s.created) {
        if (!series) return false;
        try {
          await this.call(this.o.sink.patchSeries(namespace, name, series), `patch event ${namespace}/${name}`);
          this.succeeded('series_updated', s);
          return false;
        } catch (err) {
          // Gone (deleted, or past the API server's --event-ttl): made again below, with its series.
          if (apiStatus(err) !== 404) throw err;
          s.created = false;
        }
      }
      try {
        await this.call(this.o.sink.create(series ? { ...s.event, series } : s.event), `create event ${namespace}/${name}`);
      } catch (err) {
        // It exists: an earlier attempt that timed out made it. The series, if any, goes in a patch.
        if (apiStatus(err) !== 409) throw err;
        s.created = true;
        if (series) this.enqueue(s);
        return false;
      }
      s.created = true;
      this.succeeded('created', s);
      return false;
    } catch (err) {
      const cause = causeOf(err);
      this.count('failed');
      try {
        this.o.failed?.(cause);
      } catch {
        /* a metric must not break recording */
      }
      if (!this.failuresLogged.has(cause)) {
        this.failuresLogged.add(cause);
        const message = err instanceof Error ? oneLine(err.message).slice(0, 300) : String(err);
        this.o.log.warn(
          { cause, status: apiStatus(err), event: `${namespace}/${name}`, err: message },
          'Kubernetes Event not written; further failures of this cause are counted, not logged, until a write succeeds',
        );
      }
      return RETRIED.has(cause);
    }
  }

  private succeeded(result: EventResult, s: Series): void {
    s.attempts = 0;
    this.count(result);
    this.backoff.reset();
    if (this.failuresLogged.size === 0) return;
    this.o.log.info({ after: [...this.failuresLogged] }, 'Kubernetes Events are written again');
    this.failuresLogged.clear();
  }
}
