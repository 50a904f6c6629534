/**
 * Policy reports from an audit's results, as the two report APIs security
 * tools read define them (Kyverno, Trivy Operator and Policy Reporter write
 * or read both):
 *
 * - OpenReports, `openreports.io/v1alpha1` `Report` (namespaced) and
 *   `ClusterReport` (https://github.com/openreports/reports-api,
 *   config/crd/openreports.io_reports.yaml);
 * - the Policy WG's `wgpolicyk8s.io/v1alpha2` `PolicyReport` and
 *   `ClusterPolicyReport` (https://github.com/kubernetes-sigs/wg-policy-prototypes,
 *   policy-report/crd/v1alpha2/).
 *
 * Their results have the same fields; OpenReports adds a report-level
 * `source`. Elasticsearch results go to one report per namespace, the
 * cluster-scoped Calico kinds' to one cluster report. Each object gets one
 * result per rule that found something (`fail` or `warn`, its findings
 * joined into the message, the rule's mode and the fields in `properties`),
 * and an object nothing was found on gets one `pass` result for all rules
 * (policy `remote-cluster-guard`): Kyverno writes a pass per rule and object,
 * which at 20,000 objects and five rules each would be 100,000 results to
 * store and rewrite; one per object still lets Policy Reporter count every
 * checked object.
 *
 * A report holds at most `maxResults` results and about `maxBytes` of them
 * (etcd refuses objects over 1.5 MiB); more are split into numbered reports
 * (`remote-cluster-guard`, `remote-cluster-guard-2`, ...), results sorted
 * by object and rule so the split is stable. Pure: the writer
 * (src/server/report-writer.ts) compares and writes them.
 */
import { KINDS } from '../kube/kinds.js';
import type { AuditedObject, RuleOutcome } from './audited.js';

/** The report APIs, by the names `--reports` takes. */
export type ReportApiName = 'openreports' | 'wgpolicyk8s';

export interface ReportKind {
  kind: string;
  /** Resource name, for the API paths and RBAC. */
  plural: string;
}

export interface ReportApi {
  name: ReportApiName;
  group: string;
  version: string;
  namespaced: ReportKind;
  cluster: ReportKind;
  /** Whether the report itself has a `source` field (OpenReports); results have one in both. */
  reportSource: boolean;
}

export const REPORT_APIS: { readonly [N in ReportApiName]: ReportApi } = {
  openreports: {
    name: 'openreports',
    group: 'openreports.io',
    version: 'v1alpha1',
    namespaced: { kind: 'Report', plural: 'reports' },
    cluster: { kind: 'ClusterReport', plural: 'clusterreports' },
    reportSource: true,
  },
  wgpolicyk8s: {
    name: 'wgpolicyk8s',
    group: 'wgpolicyk8s.io',
    version: 'v1alpha2',
    namespaced: { kind: 'PolicyReport', plural: 'policyreports' },
    cluster: { kind: 'ClusterPolicyReport', plural: 'clusterpolicyreports' },
    reportSource: false,
  },
};

/** `auto` tries them in this order: OpenReports, which Kyverno and Policy Reporter now write and read by default, first. */
export const REPORT_API_ORDER: readonly ReportApiName[] = ['openreports', 'wgpolicyk8s'];

/** The `source` of reports and results, and the field manager of their writes. */
export const REPORT_SOURCE = 'remote-cluster-guard';
/** The label every report written carries, the one the writer lists by. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Name of the first report of a namespace or of the cluster; the next are `-2`, `-3`, ... */
export const REPORT_NAME = 'remote-cluster-guard';
/** The policy name of the one pass result of an object no rule found anything on. */
export const PASS_POLICY = 'remote-cluster-guard';

export const DEFAULT_MAX_RESULTS = 1000;
/** Bytes of results (their JSON) per report: a third of etcd's 1.5 MiB object limit. */
export const DEFAULT_MAX_BYTES = 512 * 1024;

export type ReportResultStatus = 'pass' | 'fail' | 'warn';

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** One result as both APIs define it (`ReportResult` / `PolicyReportResult`). */
export interface ReportResult {
  source: string;
  policy: string;
  rule: string;
  category: string;
  result: ReportResultStatus;
  severity?: 'high' | 'medium';
  scored: boolean;
  message: string;
  resources: ObjectReference[];
  /** `mode` (the rule's mode) and `fields` (the field paths of its findings); none on a pass. */
  properties?: Record<string, string>;
  /** When the result was found; Protobuf Timestamp form, as the schemas have it. */
  timestamp: { seconds: number; nanos: number };
}

export interface ReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** A report as it is applied. */
export interface PolicyReport {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  source?: string;
  summary: ReportSummary;
  results: ReportResult[];
}

export interface BuildOptions {
  /** The run's time, seconds since the epoch, for every result's timestamp. */
  now: number;
  owner?: OwnerReference;
  maxResults?: number;
  maxBytes?: number;
}

const CATEGORY: Record<AuditedObject['kind'], string> = {
  Elasticsearch: 'ECK remote clusters',
  IPPool: 'Calico federation',
  RemoteClusterConfiguration: 'Calico federation',
};

function reference(o: AuditedObject): ObjectReference {
  return { apiVersion: o.apiVersion, kind: o.kind, ...(o.namespace ? { namespace: o.namespace } : {}), name: o.name };
}

function outcomeResult(o: AuditedObject, outcome: RuleOutcome, seconds: number): ReportResult {
  return {
    source: REPORT_SOURCE,
    policy: outcome.rule,
    rule: outcome.rule,
    category: CATEGORY[o.kind],
    result: outcome.result,
    severity: outcome.result === 'fail' ? 'high' : 'medium',
    scored: true,
    message: outcome.findings.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join('; '),
    resources: [reference(o)],
    properties: { mode: outcome.mode, fields: outcome.findings.map((f) => f.field || '(object)').join(', ') },
    timestamp: { seconds, nanos: 0 },
  };
}

function passResult(o: AuditedObject, seconds: number): ReportResult {
  return {
    source: REPORT_SOURCE,
    policy: PASS_POLICY,
    rule: 'all-rules',
    category: CATEGORY[o.kind],
    result: 'pass',
    scored: true,
    message: `every rule for ${o.kind} passed`,
    resources: [reference(o)],
    timestamp: { seconds, nanos: 0 },
  };
}

/** Every result of one object: one per rule with findings, else one pass. */
export function objectResults(o: AuditedObject, seconds: number): ReportResult[] {
  return o.outcomes.length === 0 ? [passResult(o, seconds)] : o.outcomes.map((r) => outcomeResult(o, r, seconds));
}

export function summarize(results: readonly ReportResult[]): ReportSummary {
  const s: ReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

/** Code-unit order (not localeCompare, several times slower at 20,000 objects): any fixed order keeps the split stable. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byObjectThenRule = (a: AuditedObject, b: AuditedObject) =>
  compare(a.kind, b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name);

/** `remote-cluster-guard`, then `remote-cluster-guard-2`, ... */
export function reportName(index: number): string {
  return index === 0 ? REPORT_NAME : `${REPORT_NAME}-${index + 1}`;
}

/** Results split into chunks of at most `maxResults` and about `maxBytes` of JSON (a chunk has at least one result). */
function split(results: readonly ReportResult[], maxResults: number, maxBytes: number): ReportResult[][] {
  const chunks: ReportResult[][] = [];
  let chunk: ReportResult[] = [];
  let bytes = 0;
  for (const r of results) {
    const size = JSON.stringify(r).length + 1;
    if (chunk.length > 0 && (chunk.length >= maxResults || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * The reports for `objects` in `api`: one set per namespace of the
 * Elasticsearch results, one cluster set for the Calico kinds. A namespace
 * or the cluster without objects gets no report (the writer deletes the
 * report it had).
 */
export function buildReports(objects: readonly AuditedObject[], api: ReportApi, o: BuildOptions): PolicyReport[] {
  const groups = new Map<string, AuditedObject[]>();
  for (const obj of objects) {
    const key = KINDS[obj.kind].clusterScoped ? '' : obj.namespace;
    const list = groups.get(key);
    if (list) list.push(obj);
    else groups.set(key, [obj]);
  }
  const reports: PolicyReport[] = [];
  for (const namespace of [...groups.keys()].sort()) {
    const sorted = groups.get(namespace)!.sort(byObjectThenRule);
    const results = sorted.flatMap((obj) => objectResults(obj, o.now));
    const kind = namespace ? api.namespaced.kind : api.cluster.kind;
    split(results, o.maxResults ?? DEFAULT_MAX_RESULTS, o.maxBytes ?? DEFAULT_MAX_BYTES).forEach((chunk, i) => {
      reports.push({
        apiVersion: `${api.group}/${api.version}`,
        kind,
        metadata: {
          name: reportName(i),
          ...(namespace ? { namespace } : {}),
          labels: { [MANAGED_BY_LABEL]: REPORT_SOURCE },
          ...(o.owner ? { ownerReferences: [o.owner] } : {}),
        },
        ...(api.reportSource ? { source: REPORT_SOURCE } : {}),
        summary: summarize(chunk),
        results: chunk,
      });
    });
  }
  return reports;
}

/** JSON.stringify replacer: each object with its keys sorted (itself when they already are, as the API server returns them). */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! < keys[i]!;
  if (sorted) return value;
  const out: Record<string, unknown> = {};
  for (const k of keys.sort()) out[k] = o[k];
  return out;
}

/** JSON with object keys sorted at every level, so two equal values give one text whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortedKeys);
}

/** A result's canonical text without its timestamp: equal for the same finding found at another time. */
export function resultKey(r: unknown): string {
  return canonicalJson(withoutTimestamp(r));
}

function withoutTimestamp(r: unknown): unknown {
  const { timestamp: _t, ...rest } = r as { timestamp?: unknown };
  return rest;
}

/** The part of a report the writer keeps current, as canonical text without timestamps: a stored report equal to a desired one is not written. */
export function reportKey(r: {
  metadata?: { labels?: Record<string, string>; ownerReferences?: { uid?: string }[] };
  source?: unknown;
  summary?: unknown;
  results?: unknown[];
}): string {
  return canonicalJson({
    managedBy: r.metadata?.labels?.[MANAGED_BY_LABEL],
    owners: (r.metadata?.ownerReferences ?? []).map((o) => o.uid),
    source: r.source,
    summary: r.summary,
    results: (r.results ?? []).map(withoutTimestamp),
  });
}

/**
 * `report` with the timestamp of each result that `stored` already had (same
 * canonical text), so a rewrite caused by one changed result keeps when the
 * others were first found.
 */
export function keepTimestamps(report: PolicyReport, stored: { results?: unknown[] } | undefined): PolicyReport {
  if (!stored?.results?.length) return report;
  const found = new Map<string, ReportResult['timestamp']>();
  for (const r of stored.results) {
    const t = (r as { timestamp?: ReportResult['timestamp'] }).timestamp;
    if (t) found.set(resultKey(r), t);
  }
  return { ...report, results: report.results.map((r) => ({ ...r, timestamp: found.get(resultKey(r)) ?? r.timestamp })) };
}
