/**
 * Admission observations are buffered and handed to prom-client in batches:
 * a scrape always sees every request answered so far, and the buffer stays
 * below FLUSH_EVERY however many requests come without a scrape.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FLUSH_EVERY, Metrics } from '../../../src/server/metrics.js';
import { deny, warn } from '../../../src/engine/finding.js';
import { sample } from '../operations/support.js';

const ALLOWED = { allowed: true, findings: [], audited: [] };
const DENIED = {
  allowed: false,
  findings: [deny('es-remote-ref', 'spec.remoteClusters[0].name', 'x'), warn('es-transport-ca', '', 'y')],
  audited: [warn('es-remote-version', '', 'z')],
};

/** One sample of the registry's text exposition, as a scrape reads it. */
const sampleOf = async (metrics: Metrics, name: string, labels: Record<string, string>) =>
  sample(await metrics.registry.metrics(), name, labels);

describe('metrics buffer', () => {
  it('a scrape sees requests recorded below the flush threshold, findings and durations included', async () => {
    const metrics = new Metrics();
    metrics.observe('/validate', 'Elasticsearch', 'CREATE', DENIED, 0.0003);
    metrics.observe('/validate', 'Elasticsearch', 'CREATE', ALLOWED, 0.0002);
    assert.equal(metrics.buffered, 2);
    const p = 'remote_cluster_guard_';
    assert.equal(await sampleOf(metrics, `${p}admission_requests_total`, { path: '/validate', allowed: 'false' }), 1);
    assert.equal(await sampleOf(metrics, `${p}admission_requests_total`, { path: '/validate', allowed: 'true' }), 1);
    assert.equal(await sampleOf(metrics, `${p}findings_total`, { rule: 'es-remote-ref', action: 'deny' }), 1);
    assert.equal(await sampleOf(metrics, `${p}findings_total`, { rule: 'es-transport-ca', action: 'warn' }), 1);
    assert.equal(await sampleOf(metrics, `${p}findings_total`, { rule: 'es-remote-version', action: 'audit' }), 1);
    assert.equal(await sampleOf(metrics, `${p}admission_duration_seconds_count`, { path: '/validate' }), 2);
    assert.equal(await sampleOf(metrics, `${p}admission_duration_seconds_bucket`, { path: '/validate', le: '0.00025' }), 1);
    assert.equal(metrics.buffered, 0, 'the scrape flushed the buffer');
  });

  it('without a scrape the buffer is flushed every FLUSH_EVERY requests and nothing is lost or counted twice', async () => {
    const metrics = new Metrics();
    const n = 3 * FLUSH_EVERY + 5;
    for (let i = 0; i < n; i++) {
      metrics.observe('/mutate', 'IPPool', 'UPDATE', ALLOWED, 0.001);
      assert.ok(metrics.buffered < FLUSH_EVERY);
    }
    assert.equal(metrics.buffered, 5);
    assert.equal(await sampleOf(metrics, 'remote_cluster_guard_admission_requests_total', { path: '/mutate', kind: 'IPPool' }), n);
    assert.equal(
      await sampleOf(metrics, 'remote_cluster_guard_admission_requests_total', { path: '/mutate', kind: 'IPPool' }),
      n,
      'a second scrape adds nothing',
    );
  });

  it('keeps label sets apart whatever their values hold', async () => {
    const metrics = new Metrics();
    // Joined with a space or a comma these two would be one key.
    metrics.observe('/validate', 'a b', 'c', ALLOWED, 0.001);
    metrics.observe('/validate', 'a', 'b c', ALLOWED, 0.001);
    metrics.observe('/validate', 'a', 'b c', ALLOWED, 0.001);
    const name = 'remote_cluster_guard_admission_requests_total';
    assert.equal(await sampleOf(metrics, name, { kind: 'a b', operation: 'c' }), 1);
    assert.equal(await sampleOf(metrics, name, { kind: 'a', operation: 'b c' }), 2);
  });
});
