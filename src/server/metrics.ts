/**
 * Prometheus metrics (prom-client), served on `GET /metrics`. Names follow
 * the Prometheus conventions: `_total` counters, `_seconds` units, one
 * registry per server so tests and several servers in one process do not
 * share counters.
 *
 * Admission requests are tallied on the hot path and handed to prom-client
 * in batches (every `FLUSH_EVERY` requests, and always before a scrape reads
 * the registry, through the metrics' `collect` hooks), so a scrape is exact.
 * Measured under load, prom-client's per-call label hashing and validation
 * between two requests' TLS and HTTP work cost several times what the same
 * calls cost run back to back (bench/optimisations.md). The tally keeps
 * counts per label set and durations in a typed array, never the request's
 * objects: objects kept until a flush outlived a young-generation collection,
 * which doubled its cost and promoted them to the old generation.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REFUSAL_REASONS } from '../certs/pair-check.js';
import { reportedFindings, type Decision } from '../engine/decision.js';
import { EVENT_RESULTS, WRITE_FAILURE_CAUSES } from './events/recorder.js';
import { STATE_RESOURCES, type StateResource } from '../state/cluster-state.js';
import type { RemoteStatus } from '../state/federation/remote-cluster-watcher.js';

const PREFIX = 'remote_cluster_guard_';

/** Why a request of the policy report writer failed (`report_write_failures_total{reason}`, report-writer.ts). */
export const REPORT_FAILURE_REASONS = [
  'forbidden',
  'not_found',
  'conflict',
  'invalid',
  'throttled',
  'server_error',
  'unreachable',
] as const;
export type ReportFailureReason = (typeof REPORT_FAILURE_REASONS)[number];
/** Policy report writes by verb (`report_writes_total{verb}`): `create` and `update` are server-side applies. */
export const REPORT_WRITE_VERBS = ['create', 'update', 'delete'] as const;
export type ReportWriteVerb = (typeof REPORT_WRITE_VERBS)[number];

/** Why a request was refused for want of capacity (`requests_shed_total`). */
export type ShedReason = 'body_budget';

export interface MetricsSources {
  /** Object counts and sync status of the state, read at scrape time. */
  state?: () => {
    counts: Record<StateResource, number>;
    synced: (r: StateResource) => boolean;
    /** Seconds since the resource's watches were last known healthy, 0 when they are (always 0 for manifests). */
    staleness?: (r: StateResource) => number;
  };
  /** Expiry of the serving certificate (ms since epoch), read at scrape time. */
  certificateNotAfter?: () => number | undefined;
  /** Request-body bytes reserved now (body-budget.ts), read at scrape time. */
  inFlightBodyBytes?: () => number;
  /** Federation discovery: each remote cluster under discovery by name (its RCC's), read at scrape time. */
  remoteClusters?: () => ReadonlyMap<string, RemoteStatus>;
}

/** Buffered admission observations are handed to prom-client after this many requests. */
export const FLUSH_EVERY = 256;

/** One label set's count since the last flush. */
interface TallyEntry<N extends string> {
  labels: Record<N, string>;
  n: number;
}

/** Maps nested by label value, one level per label name; the last level holds the entries. */
type TallyLevel<N extends string> = Map<string, TallyLevel<N> | TallyEntry<N>>;

/**
 * Counts per label set between two flushes. An entry is made the first time a
 * label set is seen and reused after (label sets are few: endpoints, kinds,
 * operations, rules), so counting keeps nothing of the request. Entries are
 * found through maps nested by each label value in turn: exact whatever the
 * values hold, with no key to build (a JSON key cost 0.7 µs per request).
 */
class Tally<N extends string> {
  private readonly root: TallyLevel<N> = new Map();
  private readonly entries: TallyEntry<N>[] = [];

  constructor(private readonly names: readonly [N, ...N[]]) {}

  add(labels: Record<N, string>): void {
    const last = this.names.length - 1;
    let level = this.root;
    for (let i = 0; i < last; i++) {
      const value = labels[this.names[i]!];
      let next = level.get(value) as TallyLevel<N> | undefined;
      if (!next) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = labels[this.names[last]!];
    const entry = level.get(value) as TallyEntry<N> | undefined;
    if (entry) entry.n++;
    else {
      const created = { labels, n: 1 };
      level.set(value, created);
      this.entries.push(created);
    }
  }

  /** Hands the counts to `inc` and zeroes them. */
  drain(inc: (labels: Record<N, string>, n: number) => void): void {
    for (const entry of this.entries) {
      if (entry.n === 0) continue;
      inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}

/** Durations of one endpoint between two flushes, in seconds. */
interface DurationBuffer {
  labels: { path: string };
  values: Float64Array;
  n: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requestCounts = new Tally(['path', 'kind', 'operation', 'allowed']);
  private readonly findingCounts = new Tally(['rule', 'action']);
  private readonly durations = new Map<string, DurationBuffer>();
  /** Requests observed since the last flush. */
  private pending = 0;
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
  /** Every reason starts at 0, so `increase()` alerts see the first refusal. */
  readonly certificateReloadFailures = new Counter({
    name: `${PREFIX}certificate_reload_failures_total`,
    help: 'New serving certificates refused (each distinct pair once); the one in use stays. By reason (src/certs/pair-check.ts).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly decisionLogDropped = new Counter({
    name: `${PREFIX}decision_log_dropped_total`,
    help: 'Decision records not written to the --decision-log file: dropped while it could not be written and its buffer was full, or left unwritten at shutdown.',
    registers: [this.registry],
  });
  private readonly shedRequests = new Counter({
    name: `${PREFIX}requests_shed_total`,
    help: 'Requests refused with 429 before their body was read, by reason (body_budget: the in-flight body budget was spent).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly closedConnections = new Counter({
    name: `${PREFIX}connections_closed_total`,
    help: 'Connections closed by the connection limits: refused (over --max-connections as accepted), evicted (idle, to make room).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly auditViolations = new Gauge({
    name: `${PREFIX}audit_violations`,
    help: 'Existing objects with a finding at the last periodic audit, by rule, kind and action.',
    labelNames: ['rule', 'kind', 'action'] as const,
    registers: [this.registry],
  });
  /** With --emit-events (`eventsEnabled`), every result and cause starts at 0, so `increase()` alerts see the first one. */
  readonly events = new Counter({
    name: `${PREFIX}events_total`,
    help: 'Kubernetes Events (--emit-events) by result: created; series_updated (a repeat counted on an existing Event); rate_limited (not written: the per-object rate limit); queue_full (dropped: the queue was full); failed (see event_write_failures_total).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly eventWriteFailures = new Counter({
    name: `${PREFIX}event_write_failures_total`,
    help: 'Kubernetes Event writes that failed, by cause: the answer (forbidden, not_found, conflict, invalid, too_many_requests, server_error) or none (unreachable, timeout).',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly trustedCaExpiry = new Gauge({
    name: `${PREFIX}trusted_ca_expiry_seconds`,
    help: 'Seconds until the earliest notAfter of any CA copy an Elasticsearch trusts (configMapName or a nodeSet CA file), at the last periodic audit, labelled with that Elasticsearch and copy; negative once expired; no sample when none.',
    labelNames: ['elasticsearch', 'copy'] as const,
    registers: [this.registry],
  });
  readonly auditLastRun = new Gauge({
    name: `${PREFIX}audit_last_run_timestamp_seconds`,
    help: 'When the last periodic audit finished (Unix time, seconds).',
    registers: [this.registry],
  });

  readonly reportWrites = new Counter({
    name: `${PREFIX}report_writes_total`,
    help: 'Policy reports written after an audit, by verb (create and update are server-side applies; delete).',
    labelNames: ['verb'] as const,
    registers: [this.registry],
  });
  readonly reportWriteFailures = new Counter({
    name: `${PREFIX}report_write_failures_total`,
    help: 'Failed requests of the policy report writer (each attempt), by reason (src/server/report-writer.ts).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricsSources = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    for (const reason of REFUSAL_REASONS) this.certificateReloadFailures.inc({ reason }, 0);
    for (const verb of REPORT_WRITE_VERBS) this.reportWrites.inc({ verb }, 0);
    for (const reason of REPORT_FAILURE_REASONS) this.reportWriteFailures.inc({ reason }, 0);
    const resources = STATE_RESOURCES;
    new Gauge({
      name: `${PREFIX}state_synced`,
      help: '1 when the initial list of a resource has completed and its watches are not stale past --max-staleness, else 0.',
      labelNames: ['resource'] as const,
      registers: [this.registry],
      collect() {
        const s = sources.state?.();
        if (s) for (const r of resources) this.set({ resource: r }, s.synced(r) ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}state_staleness_seconds`,
      help: 'Seconds since the watches of a resource were last known healthy; 0 while they are.',
      labelNames: ['resource'] as const,
      registers: [this.registry],
      collect() {
        const s = sources.state?.();
        if (s) for (const r of resources) this.set({ resource: r }, s.staleness?.(r) ?? 0);
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
    // Per remote cluster: its label is the RCC name, never anything of its access. Series of a remote gone are reset away.
    const remoteGauge = (name: string, help: string, labels: readonly string[], set: (g: Gauge, remote: string, s: RemoteStatus) => void) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        labelNames: labels,
        registers: [this.registry],
        collect() {
          const all = sources.remoteClusters?.();
          if (!all) return;
          this.reset();
          for (const [remote, s] of all) set(this, remote, s);
        },
      });
    remoteGauge(
      'remote_cluster_synced',
      'Federation discovery: 1 when the ranges of a remote cluster are current, else 0.',
      ['remote_cluster'],
      (g, remote, s) => g.set({ remote_cluster: remote }, s.synced ? 1 : 0),
    );
    remoteGauge(
      'remote_cluster_objects',
      'Federation discovery: remote IPPools and Nodes known, by remote cluster and kind.',
      ['remote_cluster', 'kind'],
      (g, remote, s) => {
        for (const [kind, n] of Object.entries(s.objects)) g.set({ remote_cluster: remote, kind }, n);
      },
    );
    remoteGauge(
      'remote_cluster_last_error_timestamp_seconds',
      'Federation discovery: when a list, watch or probe of a remote cluster last failed (Unix seconds); absent if never.',
      ['remote_cluster'],
      (g, remote, s) => {
        if (s.lastErrorTime !== undefined) g.set({ remote_cluster: remote }, s.lastErrorTime / 1000);
      },
    );
    new Gauge({
      name: `${PREFIX}serving_certificate_expiry_seconds`,
      help: 'Seconds until the serving certificate expires (negative once expired).',
      registers: [this.registry],
      collect() {
        const notAfter = sources.certificateNotAfter?.();
        if (notAfter !== undefined) this.set((notAfter - Date.now()) / 1000);
      },
    });
    new Gauge({
      name: `${PREFIX}inflight_body_bytes`,
      help: 'Request-body bytes reserved by requests being read or answered (bounded by --max-inflight-body-bytes).',
      registers: [this.registry],
      collect() {
        const bytes = sources.inFlightBodyBytes?.();
        if (bytes !== undefined) this.set(bytes);
      },
    });
  }

  /** Exports every Event result and write failure cause at 0 (`serve --emit-events`). */
  eventsEnabled(): void {
    for (const result of EVENT_RESULTS) this.events.inc({ result }, 0);
    for (const cause of WRITE_FAILURE_CAUSES) this.eventWriteFailures.inc({ cause }, 0);
  }

  /** Counts a request refused for want of capacity. */
  shed(reason: ShedReason): void {
    this.shedRequests.inc({ reason });
  }

  /** Counts a connection closed by the connection limits. */
  connectionClosed(reason: 'refused' | 'evicted'): void {
    this.closedConnections.inc({ reason });
  }

  /** Records one answered admission request (tallied; see the module comment). */
  observe(
    path: string,
    kind: string,
    operation: string,
    decision: Pick<Decision, 'allowed' | 'findings' | 'audited'>,
    seconds: number,
  ): void {
    this.requestCounts.add({ path, kind, operation, allowed: decision.allowed ? 'true' : 'false' });
    for (const f of reportedFindings(decision)) this.findingCounts.add({ rule: f.rule, action: f.action });
    let d = this.durations.get(path);
    if (!d) {
      d = { labels: { path }, values: new Float64Array(FLUSH_EVERY), n: 0 };
      this.durations.set(path, d);
    }
    d.values[d.n++] = seconds;
    if (++this.pending >= FLUSH_EVERY) this.flush();
  }

  /** Requests recorded and not yet handed to prom-client (always fewer than FLUSH_EVERY). */
  get buffered(): number {
    return this.pending;
  }

  /** Hands the tallied requests to prom-client. */
  flush(): void {
    if (this.pending === 0) return;
    this.pending = 0;
    this.requestCounts.drain((labels, n) => this.requests.inc(labels, n));
    this.findingCounts.drain((labels, n) => this.findings.inc(labels, n));
    for (const d of this.durations.values()) {
      for (let i = 0; i < d.n; i++) this.duration.observe(d.labels, d.values[i]!);
      d.n = 0;
    }
  }
}
