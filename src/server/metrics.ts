/**
 * Prometheus metrics (prom-client), served on `GET /metrics`. Names follow
 * the Prometheus conventions: `_total` counters, `_seconds` units, one
 * registry per server so tests and several servers in one process do not
 * share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../engine/engine.js';
import type { StateResource } from '../state/cluster-state.js';

const PREFIX = 'remote_cluster_guard_';

export interface MetricsSources {
  /** Object counts and sync status of the state, read at scrape time. */
  state?: () => { counts: Record<StateResource, number>; synced: (r: StateResource) => boolean };
  /** Expiry of the serving certificate (ms since epoch), read at scrape time. */
  certificateNotAfter?: () => number | undefined;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: `${PREFIX}admission_requests_total`,
    help: 'Admission requests answered, by endpoint, kind, operation and decision.',
    labelNames: ['path', 'kind', 'operation', 'allowed'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: `${PREFIX}admission_duration_seconds`,
    help: 'Time from the end of the request body to the answer, in seconds.',
    labelNames: ['path'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  private readonly findings = new Counter({
    name: `${PREFIX}findings_total`,
    help: 'Findings by rule and action (deny, warn, audit).',
    labelNames: ['rule', 'action'] as const,
    registers: [this.registry],
  });
  readonly configReloadFailures = new Counter({
    name: `${PREFIX}config_reload_failures_total`,
    help: 'Configuration files that failed validation and were not applied.',
    registers: [this.registry],
  });
  readonly auditViolations = new Gauge({
    name: `${PREFIX}audit_violations`,
    help: 'Existing objects with a finding at the last periodic audit, by rule, kind and action.',
    labelNames: ['rule', 'kind', 'action'] as const,
    registers: [this.registry],
  });
  readonly auditLastRun = new Gauge({
    name: `${PREFIX}audit_last_run_timestamp_seconds`,
    help: 'When the last periodic audit finished (Unix time, seconds).',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    const resources: StateResource[] = ['Elasticsearch', 'IPPool', 'RemoteClusterConfiguration', 'ConfigMap', 'Secret'];
    new Gauge({
      name: `${PREFIX}state_synced`,
      help: '1 when the initial list of a resource has completed, else 0.',
      labelNames: ['resource'] as const,
      registers: [this.registry],
      collect() {
        const s = sources.state?.();
        if (s) for (const r of resources) this.set({ resource: r }, s.synced(r) ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}state_objects`,
      help: 'Objects held in the cluster state, by resource.',
      labelNames: ['resource'] as const,
      registers: [this.registry],
      collect() {
        const s = sources.state?.();
        if (s) for (const r of resources) this.set({ resource: r }, s.counts[r]);
      },
    });
    new Gauge({
      name: `${PREFIX}serving_certificate_expiry_seconds`,
      help: 'Seconds until the serving certificate expires (negative once expired).',
      registers: [this.registry],
      collect() {
        const notAfter = sources.certificateNotAfter?.();
        if (notAfter !== undefined) this.set((notAfter - Date.now()) / 1000);
      },
    });
  }

  /** Records one answered admission request. */
  observe(path: string, kind: string, operation: string, decision: Decision, seconds: number): void {
    this.requests.inc({ path, kind, operation, allowed: String(decision.allowed) });
    this.duration.observe({ path }, seconds);
    for (const f of decision.findings) this.findings.inc({ rule: f.rule, action: f.action });
    for (const f of decision.audited) this.findings.inc({ rule: f.rule, action: 'audit' });
  }
}
