/**
 * Ratcheting on UPDATE with real Elasticsearch rules: a deny finding the
 * stored object already had (same rule, same field) becomes a warning that
 * says it predates the change, so an unrelated edit is allowed; a new
 * violation is still denied; `ratcheting: false` denies both.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { DEFAULT_POLICY, type Policy } from '../../../src/config/policy.js';
import { Engine, RATCHET_NOTE } from '../../../src/engine/engine.js';
import { objectRequest } from '../../../src/kube/object-request.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { createRequestListener } from '../../../src/server/app.js';
import { addToState, loadManifests } from '../../../src/state/manifests.js';
import type { MemoryClusterState } from '../../../src/state/memory-state.js';
import { reviewOf } from '../../helpers/reviews.js';
import { cluster, LICENSE, SELF_REF, SELF_REF_FIELD } from './support.js';

const licensed = () => addToState(loadManifests([LICENSE])).state;

function update(
  object: unknown,
  oldObject: unknown,
  opts: { policy?: Policy; state?: MemoryClusterState; operation?: 'CREATE' | 'UPDATE' } = {},
) {
  const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system', policy: opts.policy ?? DEFAULT_POLICY });
  const req = objectRequest(object, { operation: opts.operation ?? 'UPDATE', oldObject, namespace: 'ns-one' });
  return engine.validate(req, opts.state ?? licensed());
}

const rows = (d: ReturnType<typeof update>) => d.findings.map((f) => `${f.rule} ${f.action} ${f.field}`);

describe('ratcheting on UPDATE', () => {
  it('a violation the old object already had becomes a warning saying it predates the change: scaling is allowed', () => {
    const d = update(cluster([SELF_REF], 3), cluster([SELF_REF], 1));
    assert.equal(d.allowed, true);
    assert.deepEqual(rows(d), [`es-remote-ref warn ${SELF_REF_FIELD}`]);
    assert.ok(d.findings[0]!.message.endsWith(RATCHET_NOTE), d.findings[0]!.message);
    assert.match(
      d.findings[0]!.message,
      /^this entry references ns-one\/cluster-one itself.* \(this predates this change, so the update is allowed; fix it when you can\)$/,
    );
  });

  it('works for another rule too: remote clusters without an Enterprise licence (es-enterprise-license)', () => {
    const remote = { name: 'cluster-two', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } };
    const unlicensed = () => addToState([]).state;
    const created = update(cluster([remote], 1), undefined, { operation: 'CREATE', state: unlicensed() });
    assert.deepEqual(
      rows(created).filter((r) => r.startsWith('es-enterprise-license')),
      ['es-enterprise-license deny spec.remoteClusters'],
    );
    const d = update(cluster([remote], 5), cluster([remote], 1), { state: unlicensed() });
    assert.equal(d.allowed, true, JSON.stringify(d.findings));
    const license = d.findings.find((f) => f.rule === 'es-enterprise-license')!;
    assert.equal(license.action, 'warn');
    assert.ok(license.message.endsWith(RATCHET_NOTE));
  });

  it('a new violation on UPDATE is denied', () => {
    const d = update(cluster([SELF_REF], 1), cluster([], 1));
    assert.equal(d.allowed, false);
    assert.deepEqual(rows(d), [`es-remote-ref deny ${SELF_REF_FIELD}`]);
    assert.ok(!d.findings[0]!.message.includes(RATCHET_NOTE));
  });

  it('same rule, another field: the old violation is ratcheted, the new one denied', () => {
    const badAlias = { name: 'a:b', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } };
    const d = update(cluster([SELF_REF, badAlias], 1), cluster([SELF_REF], 1));
    assert.equal(d.allowed, false);
    // (cluster-two is not in the state: a warning of its own, not a ratchet.)
    assert.deepEqual(rows(d), [
      `es-remote-ref warn ${SELF_REF_FIELD}`,
      'es-remote-ref deny spec.remoteClusters[1].name',
      'es-remote-ref warn spec.remoteClusters[1].elasticsearchRef',
    ]);
    assert.ok(d.findings[0]!.message.endsWith(RATCHET_NOTE));
    assert.ok(!d.findings[1]!.message.includes(RATCHET_NOTE));
  });

  it('CREATE is never ratcheted', () => {
    const d = update(cluster([SELF_REF], 3), cluster([SELF_REF], 1), { operation: 'CREATE' });
    assert.equal(d.allowed, false);
  });

  it('ratcheting: false denies the pre-existing violation', () => {
    const d = update(cluster([SELF_REF], 3), cluster([SELF_REF], 1), { policy: { ...DEFAULT_POLICY, ratcheting: false } });
    assert.equal(d.allowed, false);
    assert.deepEqual(rows(d), [`es-remote-ref deny ${SELF_REF_FIELD}`]);
    assert.ok(!d.findings[0]!.message.includes(RATCHET_NOTE));
  });

  it('through /validate: the UPDATE is allowed and the warning tells the user why', async () => {
    const listener = createRequestListener({
      engine: new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' }),
      state: licensed(),
      log: createLogger('silent'),
      maxBodyBytes: 1 << 20,
      ready: () => ({ ready: true }),
    });
    const res = await request(listener)
      .post('/validate')
      .send(reviewOf(cluster([SELF_REF], 3), { oldObject: cluster([SELF_REF], 1) }))
      .expect(200);
    assert.equal(res.body.response.allowed, true);
    assert.equal(res.body.response.warnings.length, 1);
    assert.match(
      res.body.response.warnings[0],
      /^es-remote-ref: spec\.remoteClusters\[0\]\.elasticsearchRef: .*itself.*this predates this change, so the update is allowed/,
    );
    assert.deepEqual(res.body.response.auditAnnotations, { 'es-remote-ref': `warn ${SELF_REF_FIELD}` });
  });
});
