/**
 * Prometheus metrics (prom-client), served on `GET /metrics`. Names follow
 * the Prometheus conventions: `_total` counters, `_seconds` units, one
 * registry per server so tests and several servers in one process do not
 * share counters.
 *
 * Admission requests are recorded in a small buffer and handed to prom-client
 * in batches (every `FLUSH_EVERY` requests, and always before a scrape reads
 * the registry, through the metrics' `collect` hooks), so a scrape is exact.
 * Measured under load, prom-client's per-call label hashing and validation
 * between two requests' TLS and HTTP work cost several times what the same
 * calls cost run back to back (bench/optimisations.md).
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

/** Buffered admission observations are handed to prom-client after this many requests. */
export const FLUSH_EVERY = 256;

/** One answered admission request, as recorded on the hot path. */
interface Observation {
  path: string;
  kind: string;
  operation: string;
  decision: Pick<Decision, 'allowed' | 'findings' | 'audited'>;
  seconds: number;
}

export class Metrics {
  readonly registry = new Registry();
  private pending: Observation[] = [];
  private readonly flushBeforeScrape = () => this.flush();
  private readonly requests = new Counter({
    name: `${PREFIX}admission_requests_total`,
    help: 'Admission requests answered, by endpoint, kind, operation and decision.',
    labelNames: ['path', 'kind', 'operation', 'allowed'] as const,
    registers: [this.registry],
    collect: this.flushBeforeScrape,
  });
  private readonly duration = new Histogram({
    name: `${PREFIX}admission_duration_seconds`,
    help: 'Time from the end of the request body to the answer, in seconds.',
    labelNames: ['path'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
    collect: this.flushBeforeScrape,
  });
  private readonly findings = new Counter({
    name: `${PREFIX}findings_total`,
    help: 'Findings by rule and action (deny, warn, audit).',
    labelNames: ['rule', 'action'] as const,
    registers: [this.registry],
    collect: this.flushBeforeScrape,
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

  /** Records one answered admission request (buffered; see the module comment). */
  observe(path: string, kind: string, operation: string, decision: Observation['decision'], seconds: number): void {
    this.pending.push({ path, kind, operation, decision, seconds });
    if (this.pending.length >= FLUSH_EVERY) this.flush();
  }

  /** Observations recorded and not yet handed to prom-client (always fewer than FLUSH_EVERY). */
  get buffered(): number {
    return this.pending.length;
  }

  /** Hands the buffered observations to prom-client. */
  flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    for (const { path, kind, operation, decision, seconds } of batch) {
      this.requests.inc({ path, kind, operation, allowed: String(decision.allowed) });
      this.duration.observe({ path }, seconds);
      for (const f of decision.findings) this.findings.inc({ rule: f.rule, action: f.action });
      for (const f of decision.audited) this.findings.inc({ rule: f.rule, action: 'audit' });
    }
  }
}
