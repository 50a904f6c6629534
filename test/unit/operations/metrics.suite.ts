/**
 * `GET /metrics` of the real server (runServe over HTTPS): every documented
 * family is there with the values of this server (state from the manifests
 * given, the certificate in use, the config reloads), process metrics carry
 * the prefix, and the request counters move with requests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { RunningServer } from '../../../src/cli/serve.js';
import { admit, httpsRequest, issue, metricsText, serve, tlsFiles } from './server.js';
import { cluster, FIXTURES, LICENSE, parseMetrics, sample, SELF_REF, tempDir } from './support.js';
import { reviewOf } from '../../helpers/reviews.js';

const STATE = [LICENSE, join(FIXTURES, 'eck/api-key-model.yaml'), join(FIXTURES, 'calico/federation-example.yaml')];
const VALIDITY_DAYS = 3;

describe('metrics', () => {
  let server: RunningServer;
  let notAfter: number;
  before(async () => {
    const pair = issue(VALIDITY_DAYS);
    notAfter = pair.notAfter;
    const config = join(tempDir('metrics-config'), 'config.yaml');
    writeFileSync(config, 'rules: {es-remote-version: warn}\n');
    server = await serve({ state: STATE, config, ...tlsFiles(pair) });
  });
  after(async () => server.close());

  it('serves the Prometheus text format', async () => {
    const r = await httpsRequest(server.port, '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.doesNotThrow(() => parseMetrics(r.body));
  });

  it('state objects match the manifests given, and every resource is synced', async () => {
    const text = await metricsText(server.port);
    // api-key-model.yaml: 2 Elasticsearch; federation-example.yaml: 4 IPPools, 1 RCC; licence: 1 ConfigMap.
    const expected = { Elasticsearch: 2, IPPool: 4, RemoteClusterConfiguration: 1, ConfigMap: 1, Secret: 0 };
    for (const [resource, count] of Object.entries(expected)) {
      assert.equal(sample(text, 'remote_cluster_guard_state_objects', { resource }), count, resource);
      assert.equal(sample(text, 'remote_cluster_guard_state_synced', { resource }), 1, resource);
    }
  });

  it('the serving certificate expiry is the certificate in use (about its validity)', async () => {
    const seconds = sample(await metricsText(server.port), 'remote_cluster_guard_serving_certificate_expiry_seconds')!;
    assert.ok(Math.abs(seconds - (notAfter - Date.now()) / 1000) < 60, String(seconds));
    assert.ok(Math.abs(seconds - VALIDITY_DAYS * 86_400) < 120, String(seconds));
  });

  it('config reload failures start at 0; process metrics carry the prefix', async () => {
    const text = await metricsText(server.port);
    assert.equal(sample(text, 'remote_cluster_guard_config_reload_failures_total'), 0);
    assert.ok(sample(text, 'remote_cluster_guard_process_cpu_seconds_total')! > 0);
    assert.ok(sample(text, 'remote_cluster_guard_process_resident_memory_bytes')! > 0);
    assert.ok(sample(text, 'remote_cluster_guard_nodejs_heap_size_used_bytes')! > 0);
    const foreign = parseMetrics(text).filter((s) => !s.name.startsWith('remote_cluster_guard_'));
    assert.deepEqual(foreign, [], 'every metric has the prefix');
  });

  it('requests, durations and findings counters move with requests', async () => {
    const before = await metricsText(server.port);
    const requests = (t: string, labels: Record<string, string>) => sample(t, 'remote_cluster_guard_admission_requests_total', labels) ?? 0;
    const denyLabels = { path: '/validate', kind: 'Elasticsearch', operation: 'CREATE', allowed: 'false' };
    const allowLabels = { path: '/validate', kind: 'Elasticsearch', operation: 'UPDATE', allowed: 'true' };
    const mutateLabels = { path: '/mutate', kind: 'Elasticsearch', operation: 'CREATE', allowed: 'true' };
    const count = (t: string, path: string) => sample(t, 'remote_cluster_guard_admission_duration_seconds_count', { path }) ?? 0;
    const findings = (t: string, action: string) =>
      sample(t, 'remote_cluster_guard_findings_total', { rule: 'es-remote-ref', action }) ?? 0;

    await admit(server.port, cluster([SELF_REF]));
    await admit(server.port, cluster([SELF_REF]));
    await admit(server.port, cluster([SELF_REF], 3), { oldObject: cluster([SELF_REF], 1) });
    await admit(server.port, cluster(), { path: '/mutate' });
    const after = await metricsText(server.port);

    assert.equal(requests(after, denyLabels) - requests(before, denyLabels), 2);
    assert.equal(requests(after, allowLabels) - requests(before, allowLabels), 1);
    assert.equal(requests(after, mutateLabels) - requests(before, mutateLabels), 1);
    assert.equal(count(after, '/validate') - count(before, '/validate'), 3);
    assert.equal(count(after, '/mutate') - count(before, '/mutate'), 1);
    // Every observation lands in the +Inf bucket, and the buckets are cumulative.
    const buckets = parseMetrics(after).filter(
      (s) => s.name === 'remote_cluster_guard_admission_duration_seconds_bucket' && s.labels['path'] === '/validate',
    );
    assert.ok(buckets.length > 5);
    assert.equal(buckets.find((b) => b.labels['le'] === '+Inf')?.value, count(after, '/validate'));
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
    assert.equal(findings(after, 'deny') - findings(before, 'deny'), 2);
    assert.equal(findings(after, 'warn') - findings(before, 'warn'), 1, 'the ratcheted one');
  });

  it('counts kinds it does not handle and unknown operations as other, never as the strings sent; a handled kind keeps its name on DELETE', async () => {
    const before = await metricsText(server.port);
    const huge = `Kind${'x'.repeat(10_000)}`;
    await admit(server.port, { apiVersion: 'v1', kind: huge, metadata: { name: 'a' } });
    await admit(server.port, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' } });
    const review = reviewOf(cluster());
    const frob = await httpsRequest(server.port, '/validate', { body: { ...review, request: { ...review.request, operation: 'FROB' } } });
    assert.equal(frob.status, 200);
    // A kind it handles keeps its name where no rule runs.
    await admit(server.port, cluster(), { operation: 'DELETE' });
    const after = await metricsText(server.port);
    const requests = (t: string, labels: Record<string, string>) =>
      sample(t, 'remote_cluster_guard_admission_requests_total', { path: '/validate', ...labels }) ?? 0;
    assert.equal(
      requests(after, { kind: 'Elasticsearch', operation: 'DELETE' }) - requests(before, { kind: 'Elasticsearch', operation: 'DELETE' }),
      1,
    );
    assert.equal(requests(after, { kind: 'other', operation: 'CREATE' }) - requests(before, { kind: 'other', operation: 'CREATE' }), 2);
    assert.equal(
      requests(after, { kind: 'Elasticsearch', operation: 'other' }) - requests(before, { kind: 'Elasticsearch', operation: 'other' }),
      1,
    );
    assert.ok(!after.includes('xxxxxxxxxx') && !after.includes('Pod') && !after.includes('FROB'), 'no label value taken from the request');
  });
});
