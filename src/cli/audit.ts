/**
 * Audit of existing objects: every Elasticsearch, IPPool and
 * RemoteClusterConfiguration in the state is checked as if it were applied
 * now (a CREATE through the validating rules), as Gatekeeper's audit does.
 * `remote-cluster-guard audit` prints a report and exits 1 on a deny finding;
 * `serve --audit-interval` runs it periodically and exposes the violations as
 * the `remote_cluster_guard_audit_violations` gauge, in slices that yield to
 * the event loop, so admission requests are answered during a run (40,000
 * objects held the loop 0.4 to 0.6 s in one piece). Each run also sets
 * `remote_cluster_guard_trusted_ca_expiry_seconds` from the CA copies the
 * Elasticsearch resources trust.
 */
import { reportedFindings } from '../engine/decision.js';
import type { Engine } from '../engine/engine.js';
import { formatKey } from '../kube/meta.js';
import { objectRequest } from '../kube/object-request.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../server/metrics.js';
import type { HandledKind, HandledObjects } from '../kube/kinds.js';
import type { MemoryClusterState } from '../state/memory-state.js';
import { auditedObject, type AuditedObject } from '../reports/audited.js';
import { earliestTrustedCaExpiry } from '../rules/elasticsearch/ca-trust.js';
import type { ObjectResult, ValidateResult } from './validate.js';

/** Milliseconds one slice of the periodic audit may hold the event loop before it yields. */
export const AUDIT_SLICE_MS = 10;

type StateObject = HandledObjects[HandledKind];

/** The result of one object checked as a CREATE, or undefined when no rule handles it. */
function auditObject(object: StateObject, state: MemoryClusterState, engine: Engine): ObjectResult | undefined {
  // A copy, so nothing the engine or a rule does can touch the object the state holds.
  const decision = engine.validate(objectRequest(structuredClone(object), { operation: 'CREATE' }), state);
  if (!decision.handled) return undefined;
  return {
    file: '',
    line: 0,
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: decision.namespace,
    name: decision.name,
    ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
    operation: 'CREATE',
    decision,
  };
}

function resultOf(results: ObjectResult[]): ValidateResult {
  return { results, problems: [], exitCode: results.some((r) => !r.decision.allowed) ? 1 : 0 };
}

/** Evaluates every handled object of the state; `file` is "" and `line` 0 in the results. */
export function auditState(state: MemoryClusterState, engine: Engine): ValidateResult {
  const results: ObjectResult[] = [];
  for (const object of state.objects()) {
    const r = auditObject(object, state, engine);
    if (r) results.push(r);
  }
  return resultOf(results);
}

/**
 * The audit of auditState, handing each result to `onResult` as it is made
 * (the periodic audit keeps counts, not 40,000 decisions, which the garbage
 * collector would have to move to its old generation and sweep in long
 * pauses), and yielding to the event loop (setImmediate) whenever a slice
 * has run `sliceMs` milliseconds. The objects are those the state held at
 * the start; each is judged against the state of its own slice. Resolves
 * false when `cancelled()` turned true between two slices, else true.
 */
export async function auditInSlices(
  state: MemoryClusterState,
  engine: Engine,
  onResult: (result: ObjectResult) => void,
  sliceMs = AUDIT_SLICE_MS,
  cancelled: () => boolean = () => false,
): Promise<boolean> {
  const objects = [...state.objects()];
  let sliceStart = performance.now();
  for (const object of objects) {
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      if (cancelled()) return false;
      sliceStart = performance.now();
    }
    const r = auditObject(object, state, engine);
    if (r) onResult(r);
  }
  return true;
}

export interface PeriodicAuditOptions {
  engine: Engine;
  state: MemoryClusterState;
  metrics: Metrics;
  log: Logger;
  intervalSeconds: number;
  /** Called with each object that has a deny finding, as the run finds it (serve --emit-events audit). Must not throw. */
  onViolation?: (result: ObjectResult) => void;
  /**
   * Called once at the end of each complete run with every audited object in
   * compact form (src/reports/audited.ts), and awaited, so a run and the next
   * never overlap; the policy report writer (src/server/report-writer.ts).
   */
  reports?: { write(objects: readonly AuditedObject[]): Promise<unknown> };
  /** Reads what the rules need that no watch delivers (a live state's CA copies and their sources), before each run. Never rejects. */
  prepare?: () => Promise<void>;
}

/**
 * Runs the audit every `intervalSeconds` (first run after one interval), in
 * slices (auditInSlices); a run still going when the next is due is not
 * doubled. Returns a stop function, which also ends a run in progress.
 */
export function startPeriodicAudit(o: PeriodicAuditOptions): () => void {
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const started = Date.now();
      await o.prepare?.();
      if (stopped) return;
      // Findings per rule, kind and action, set on the gauge at the end of the run.
      const counts = new Map<string, { labels: { rule: string; kind: string; action: string }; n: number }>();
      let objects = 0;
      let denied = 0;
      const audited: AuditedObject[] = [];
      const complete = await auditInSlices(
        o.state,
        o.engine,
        (r) => {
          objects++;
          if (!r.decision.allowed) {
            denied++;
            o.onViolation?.(r);
          }
          if (o.reports) audited.push(auditedObject(r, r.decision));
          for (const f of reportedFindings(r.decision)) {
            const key = `${f.rule}\0${r.kind}\0${f.action}`;
            const entry = counts.get(key) ?? { labels: { rule: f.rule, kind: r.kind, action: f.action }, n: 0 };
            entry.n++;
            counts.set(key, entry);
            if (f.action === 'deny')
              o.log.info({ kind: r.kind, object: formatKey(r), rule: f.rule, field: f.field, message: f.message }, 'audit violation');
          }
        },
        AUDIT_SLICE_MS,
        () => stopped,
      );
      if (!complete) return;
      o.metrics.auditViolations.reset();
      for (const { labels, n } of counts.values()) o.metrics.auditViolations.set(labels, n);
      o.metrics.auditLastRun.set(Date.now() / 1000);
      const expiry = earliestTrustedCaExpiry(o.state.eck.listElasticsearches(), o.state);
      o.metrics.trustedCaExpiry.reset();
      if (expiry)
        o.metrics.trustedCaExpiry.set(
          { elasticsearch: formatKey(expiry.elasticsearch), copy: expiry.copy },
          (expiry.notAfter.getTime() - Date.now()) / 1000,
        );
      o.log.info({ objects, denied, ms: Date.now() - started }, 'audit finished');
      await o.reports?.write(audited);
    } catch (err) {
      o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'audit failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), o.intervalSeconds * 1000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
