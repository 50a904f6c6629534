/**
 * Audit of existing objects: every Elasticsearch, IPPool and
 * RemoteClusterConfiguration in the state is checked as if it were applied
 * now (a CREATE through the validating rules), as Gatekeeper's audit does.
 * `remote-cluster-guard audit` prints a report and exits 1 on a deny finding;
 * `serve --audit-interval` runs it periodically and exposes the violations as
 * the `remote_cluster_guard_audit_violations` gauge.
 */
import { reportedFindings } from '../engine/decision.js';
import type { Engine } from '../engine/engine.js';
import { formatKey } from '../kube/meta.js';
import { objectRequest } from '../kube/object-request.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../server/metrics.js';
import type { MemoryClusterState } from '../state/memory-state.js';
import type { ObjectResult, ValidateResult } from './validate.js';

/** Evaluates every handled object of the state; `file` is "" and `line` 0 in the results. */
export function auditState(state: MemoryClusterState, engine: Engine): ValidateResult {
  const results: ObjectResult[] = [];
  for (const object of state.objects()) {
    // A copy, so nothing the engine or a rule does can touch the object the state holds.
    const decision = engine.validate(objectRequest(structuredClone(object), { operation: 'CREATE' }), state);
    if (!decision.handled) continue;
    results.push({
      file: '',
      line: 0,
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: decision.namespace,
      name: decision.name,
      operation: 'CREATE',
      decision,
    });
  }
  return { results, problems: [], exitCode: results.some((r) => !r.decision.allowed) ? 1 : 0 };
}

export interface PeriodicAuditOptions {
  engine: Engine;
  state: MemoryClusterState;
  metrics: Metrics;
  log: Logger;
  intervalSeconds: number;
}

/** Runs the audit every `intervalSeconds` (first run after one interval); returns a stop function. */
export function startPeriodicAudit(o: PeriodicAuditOptions): () => void {
  const run = () => {
    const started = Date.now();
    const result = auditState(o.state, o.engine);
    o.metrics.auditViolations.reset();
    let denied = 0;
    for (const r of result.results) {
      if (!r.decision.allowed) denied++;
      for (const f of reportedFindings(r.decision)) {
        o.metrics.auditViolations.inc({ rule: f.rule, kind: r.kind, action: f.action });
        if (f.action === 'deny')
          o.log.info({ kind: r.kind, object: formatKey(r), rule: f.rule, field: f.field, message: f.message }, 'audit violation');
      }
    }
    o.metrics.auditLastRun.set(Date.now() / 1000);
    o.log.info({ objects: result.results.length, denied, ms: Date.now() - started }, 'audit finished');
  };
  const timer = setInterval(run, o.intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
