/**
 * Report building: results per object and rule (and one pass per clean
 * object), summaries that count the results, the split into numbered
 * reports by count and by size, the canonical form the writer compares, and
 * the compact form of an engine decision (modes, audit-mode findings).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../../../src/config/policy.js';
import { parseConfig } from '../../../src/config/config-file.js';
import type { Decision } from '../../../src/engine/decision.js';
import { auditedObject, type AuditedObject } from '../../../src/reports/audited.js';
import { buildReports, keepTimestamps, REPORT_APIS, reportKey, summarize } from '../../../src/reports/build.js';

const pool = (i: number, failing: boolean): AuditedObject => ({
  apiVersion: 'crd.projectcalico.org/v1',
  kind: 'IPPool',
  namespace: '',
  name: `pool-${String(i).padStart(5, '0')}`,
  outcomes: failing
    ? [
        { rule: 'calico-pool-spec', mode: 'enforce', result: 'fail', findings: [{ field: 'spec.cidr', message: 'host bits set' }] },
        { rule: 'calico-federation-pool-disabled', mode: 'warn', result: 'warn', findings: [{ field: '', message: 'no RCC' }] },
      ]
    : [],
});

describe('buildReports', () => {
  it('one result per rule of a failing object, one pass for a clean one, summary counting them', () => {
    const [r] = buildReports([pool(1, true), pool(2, false)], REPORT_APIS.openreports, { now: 100 });
    assert.ok(r);
    assert.equal(r.kind, 'ClusterReport');
    assert.equal(r.metadata.namespace, undefined);
    assert.deepEqual(
      r.results.map((x) => [x.resources[0]!.name, x.policy, x.result, x.severity, x.properties?.['mode']]),
      [
        ['pool-00001', 'calico-pool-spec', 'fail', 'high', 'enforce'],
        ['pool-00001', 'calico-federation-pool-disabled', 'warn', 'medium', 'warn'],
        ['pool-00002', 'remote-cluster-guard', 'pass', undefined, undefined],
      ],
    );
    assert.equal(r.results[0]!.message, 'spec.cidr: host bits set');
    assert.deepEqual(r.summary, { pass: 1, fail: 1, warn: 1, error: 0, skip: 0 });
    assert.equal(r.source, 'remote-cluster-guard');
    assert.equal(
      buildReports([pool(1, true)], REPORT_APIS.wgpolicyk8s, { now: 1 })[0]!.source,
      undefined,
      'v1alpha2 has no report-level source',
    );
  });

  it('splits past maxResults into numbered reports, results neither lost nor doubled, summaries per report', () => {
    const objects = Array.from({ length: 2500 }, (_, i) => pool(i, i % 10 === 0));
    const reports = buildReports(objects, REPORT_APIS.openreports, { now: 1 });
    assert.deepEqual(
      reports.map((r) => [r.metadata.name, r.results.length]),
      [
        ['remote-cluster-guard', 1000],
        ['remote-cluster-guard-2', 1000],
        ['remote-cluster-guard-3', 750],
      ],
    );
    for (const r of reports) assert.deepEqual(r.summary, summarize(r.results));
    const total = summarize(reports.flatMap((r) => r.results));
    assert.deepEqual(total, { pass: 2250, fail: 250, warn: 250, error: 0, skip: 0 });
  });

  it('splits by size: no report holds more than maxBytes of results', () => {
    const reports = buildReports(
      Array.from({ length: 300 }, (_, i) => pool(i, true)),
      REPORT_APIS.openreports,
      { now: 1, maxBytes: 20_000 },
    );
    assert.ok(reports.length > 1);
    for (const r of reports)
      assert.ok(JSON.stringify(r.results).length <= 20_000, `${r.metadata.name}: ${JSON.stringify(r.results).length} bytes`);
  });

  it('one report per namespace for Elasticsearch', () => {
    const es = (ns: string): AuditedObject => ({
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: ns,
      name: 'x',
      outcomes: [],
    });
    const reports = buildReports([es('b'), es('a'), es('b')], REPORT_APIS.wgpolicyk8s, { now: 1 });
    assert.deepEqual(
      reports.map((r) => [r.kind, r.metadata.namespace, r.summary.pass]),
      [
        ['PolicyReport', 'a', 1],
        ['PolicyReport', 'b', 2],
      ],
    );
  });

  it('the canonical form ignores timestamps and key order, not results; kept timestamps come from the stored report', () => {
    const [a] = buildReports([pool(1, true)], REPORT_APIS.openreports, { now: 1 });
    const [b] = buildReports([pool(1, true)], REPORT_APIS.openreports, { now: 2 });
    const [c] = buildReports([pool(1, false)], REPORT_APIS.openreports, { now: 1 });
    assert.equal(reportKey(a!), reportKey(b!));
    // As the API server may return it: every object's keys in another order.
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reversed(x)]),
            )
          : v;
    assert.equal(reportKey(reversed(a) as typeof a & object), reportKey(a!));
    assert.notEqual(reportKey(a!), reportKey(c!));
    assert.equal(keepTimestamps(b!, a).results[0]!.timestamp.seconds, 1);
  });
});

describe('auditedObject', () => {
  it('groups findings by rule, with the mode; an audit-mode finding keeps the action it would have had', () => {
    const decision: Decision = {
      handled: true,
      kind: 'IPPool',
      namespace: '',
      name: 'p',
      allowed: false,
      findings: [
        { rule: 'calico-pool-spec', action: 'deny', field: 'spec.cidr', message: 'm1' },
        { rule: 'calico-pool-spec', action: 'deny', field: 'spec.blockSize', message: 'm2' },
        { rule: 'calico-pool-overlap', action: 'warn', field: 'spec.cidr', message: 'm3' },
      ],
      audited: [{ rule: 'calico-federation-pool-disabled', action: 'deny', field: 'spec.disabled', message: 'm4' }],
      patch: [],
      mutations: [],
      policy: { ...DEFAULT_POLICY, modes: { 'calico-pool-overlap': 'warn', 'calico-federation-pool-disabled': 'audit' } },
    };
    const o = auditedObject({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', namespace: 'ignored', name: 'p' }, decision);
    assert.equal(o.namespace, '', 'cluster-scoped');
    assert.deepEqual(
      o.outcomes.map((x) => [x.rule, x.mode, x.result, x.findings.length]),
      [
        ['calico-pool-spec', 'enforce', 'fail', 2],
        ['calico-pool-overlap', 'warn', 'warn', 1],
        ['calico-federation-pool-disabled', 'audit', 'fail', 1],
      ],
    );
  });
});

describe('the reports key of the configuration file', () => {
  it('takes auto, openreports, wgpolicyk8s or off, and names the key otherwise', () => {
    assert.equal(parseConfig('reports: wgpolicyk8s\n', 'c.yaml', []).reports, 'wgpolicyk8s');
    assert.equal(parseConfig('ratcheting: true\n', 'c.yaml', []).reports, undefined);
    assert.throws(() => parseConfig('reports: kyverno\n', 'c.yaml', []), /^ConfigError: c\.yaml: reports: /);
  });
});
