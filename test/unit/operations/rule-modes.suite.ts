/**
 * Rule modes (enforce, warn, audit, off) on a real rule, `es-remote-ref`
 * with a self-referencing Elasticsearch, through the engine and the admission
 * endpoint: what the user sees (allowed, warnings), what the audit trail
 * keeps (decision.audited, the decision log line, auditAnnotations) and what
 * is counted (`remote_cluster_guard_findings_total`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { DEFAULT_POLICY, type RuleMode } from '../../../src/config/policy.js';
import { Engine } from '../../../src/engine/engine.js';
import { objectRequest } from '../../../src/kube/object-request.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { createRequestListener } from '../../../src/server/app.js';
import { decisionLogger } from '../../../src/server/decision-log.js';
import { Metrics } from '../../../src/server/metrics.js';
import { addToState, loadManifests } from '../../../src/state/manifests.js';
import { reviewOf } from '../../helpers/reviews.js';
import { cluster, LICENSE, logSink, sample, SELF_REF, SELF_REF_FIELD } from './support.js';

const RULE = 'es-remote-ref';
const SELF_REF_MESSAGE =
  'this entry references ns-one/cluster-one itself, and a cluster cannot be its own remote cluster; reference another Elasticsearch or remove the entry';
const selfRef = () => cluster([SELF_REF]);

function setup(modes: Record<string, RuleMode>, manifests = [LICENSE]) {
  const { state } = addToState(loadManifests(manifests));
  const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system', policy: { ...DEFAULT_POLICY, modes } });
  const metrics = new Metrics();
  const decisions = logSink();
  const listener = createRequestListener({
    engine,
    state,
    log: createLogger('silent'),
    decisionLogs: [decisionLogger(createLogger('info', decisions.stream))],
    metrics,
    maxBodyBytes: 1 << 20,
    ready: () => ({ ready: true }),
  });
  const post = async (object: unknown) =>
    (
      await request(listener)
        .post('/validate')
        .send(reviewOf(object, { uid: 'uid-1' }))
        .expect(200)
    ).body.response;
  const evaluate = (object: unknown) => engine.validate(objectRequest(object, { operation: 'CREATE', namespace: 'ns-one' }), state);
  const findings = async (action: string) =>
    sample(await metrics.registry.metrics(), 'remote_cluster_guard_findings_total', { rule: RULE, action });
  return { post, evaluate, decisions, findings };
}

describe('rule modes', () => {
  it('enforce (the default): the finding denies, is logged as deny and counted as deny', async () => {
    for (const modes of [{}, { [RULE]: 'enforce' }] as Record<string, RuleMode>[]) {
      const s = setup(modes);
      const d = s.evaluate(selfRef());
      assert.equal(d.allowed, false);
      assert.deepEqual(
        d.findings.map((f) => [f.rule, f.action, f.field]),
        [[RULE, 'deny', SELF_REF_FIELD]],
      );
      assert.deepEqual(d.audited, []);

      const r = await s.post(selfRef());
      assert.equal(r.allowed, false);
      assert.equal(r.status.message, `${RULE}: ${SELF_REF_FIELD}: ${SELF_REF_MESSAGE}`);
      assert.equal(r.warnings, undefined);
      assert.deepEqual(r.auditAnnotations, { [RULE]: `deny ${SELF_REF_FIELD}` });
      const [line, ...more] = s.decisions.lines();
      assert.equal(more.length, 0);
      assert.equal(line!['msg'], 'admission denied');
      assert.deepEqual(line!['findings'], [
        { rule: RULE, action: 'deny', mode: 'enforce', field: SELF_REF_FIELD, message: SELF_REF_MESSAGE },
      ]);
      assert.equal(await s.findings('deny'), 1);
      assert.equal(await s.findings('audit'), undefined);
    }
  });

  it('warn: allowed, the finding returned as a warning, logged and counted as warn', async () => {
    const s = setup({ [RULE]: 'warn' });
    const d = s.evaluate(selfRef());
    assert.equal(d.allowed, true);
    assert.deepEqual(
      d.findings.map((f) => [f.rule, f.action, f.field]),
      [[RULE, 'warn', SELF_REF_FIELD]],
    );

    const r = await s.post(selfRef());
    assert.equal(r.allowed, true);
    assert.equal(r.status, undefined);
    assert.deepEqual(r.warnings, [`${RULE}: ${SELF_REF_FIELD}: ${SELF_REF_MESSAGE}`]);
    assert.deepEqual(r.auditAnnotations, { [RULE]: `warn ${SELF_REF_FIELD}` });
    const lines = s.decisions.lines();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!['msg'], 'admission allowed with findings');
    assert.deepEqual(lines[0]!['findings'], [
      { rule: RULE, action: 'warn', mode: 'warn', field: SELF_REF_FIELD, message: SELF_REF_MESSAGE },
    ]);
    assert.equal(await s.findings('warn'), 1);
    assert.equal(await s.findings('deny'), undefined);
  });

  it('audit: allowed with no warning; the finding is in decision.audited, the decision log (action audit), auditAnnotations and the metric', async () => {
    const s = setup({ [RULE]: 'audit' });
    const d = s.evaluate(selfRef());
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
    assert.deepEqual(d.audited, [{ rule: RULE, action: 'deny', field: SELF_REF_FIELD, message: SELF_REF_MESSAGE }]);

    const r = await s.post(selfRef());
    assert.equal(r.allowed, true);
    assert.equal(r.warnings, undefined, 'the user sees nothing');
    assert.equal(r.status, undefined);
    assert.deepEqual(r.auditAnnotations, { [RULE]: `audit ${SELF_REF_FIELD}` });
    const lines = s.decisions.lines();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!['allowed'], true);
    assert.deepEqual(lines[0]!['findings'], [
      { rule: RULE, action: 'audit', mode: 'audit', field: SELF_REF_FIELD, message: SELF_REF_MESSAGE },
    ]);
    assert.equal(await s.findings('audit'), 1);
    assert.equal(await s.findings('deny'), undefined);
    assert.equal(await s.findings('warn'), undefined);
  });

  it('off: the rule does not run, nothing is shown, logged or counted', async () => {
    const s = setup({ [RULE]: 'off' });
    const d = s.evaluate(selfRef());
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
    assert.deepEqual(d.audited, []);

    const r = await s.post(selfRef());
    assert.deepEqual(r, { uid: 'uid-1', allowed: true });
    assert.deepEqual(s.decisions.lines(), []);
    for (const action of ['deny', 'warn', 'audit']) assert.equal(await s.findings(action), undefined);
  });

  it('a mode applies to its rule only: another rule still enforces', async () => {
    // No licence in the state: es-enterprise-license denies remote clusters.
    for (const mode of ['warn', 'audit', 'off'] as const) {
      const s = setup({ [RULE]: mode }, []);
      const r = await s.post(selfRef());
      assert.equal(r.allowed, false, mode);
      assert.match(r.status.message, /^es-enterprise-license: spec\.remoteClusters: /, mode);
      assert.doesNotMatch(r.status.message, /es-remote-ref/, mode);
    }
  });
});
