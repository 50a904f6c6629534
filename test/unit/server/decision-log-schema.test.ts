/**
 * The decision log as an audit record: every line the webhook writes (deny,
 * warn, audit, patch only, clean at debug, converted request kinds) validates
 * against the JSON Schema kept beside the writer, patch-only decisions are
 * logged, and secret values never appear in any line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import request from 'supertest';
import { DEFAULT_POLICY, type RuleMode } from '../../../src/config/policy.js';
import { Engine } from '../../../src/engine/engine.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { createRequestListener } from '../../../src/server/app.js';
import { decisionLogger, DECISION_SCHEMA_VERSION } from '../../../src/server/decision-log.js';
import { addToState, loadManifests } from '../../../src/state/manifests.js';
import { reviewOf } from '../../helpers/reviews.js';
import { cluster, LICENSE, logSink, SELF_REF } from '../operations/support.js';
import { RCC_SECRET_FIELDS } from '../../../src/kube/calico.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../../../src/server/decision-log.schema.json', import.meta.url), 'utf-8')) as object;
const addFormats = ajvFormats.default;

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(SCHEMA);
}

const SENTINEL = 'sEcReT-sEnTiNeL-7f3a';

/** A RemoteClusterConfiguration with every secret-bearing field set to the sentinel and a half datastore config. */
const secretRcc = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'RemoteClusterConfiguration',
  metadata: { name: 'cluster-b' },
  spec: {
    datastoreType: 'kubernetes',
    ...Object.fromEntries(RCC_SECRET_FIELDS.map((f) => [f, SENTINEL])),
  },
};

function setup(modes: Record<string, RuleMode> = {}, level: 'info' | 'debug' = 'debug') {
  const decisions = logSink();
  const listener = createRequestListener({
    engine: new Engine(ALL_RULES, {
      operatorNamespace: 'elastic-system',
      policy: { ...DEFAULT_POLICY, modes, generation: 'abcdef012345' },
    }),
    state: addToState(loadManifests([LICENSE])).state,
    log: createLogger('silent'),
    decisionLogs: [decisionLogger(createLogger(level, decisions.stream))],
    maxBodyBytes: 1 << 20,
    ready: () => ({ ready: true }),
  });
  const post = async (path: '/validate' | '/mutate', review: object) => (await request(listener).post(path).send(review).expect(200)).body;
  return { post, lines: decisions.lines };
}

describe('decision log lines', () => {
  it('every line the webhook writes validates against decision-log.schema.json', async () => {
    const validate = validator();
    const s = setup();
    const converted = reviewOf(cluster([SELF_REF]), { uid: 'converted' });
    const withExtras = {
      ...converted,
      request: {
        ...converted.request,
        requestKind: { group: 'elasticsearch.k8s.elastic.co', version: 'v1beta1', kind: 'Elasticsearch' },
        subResource: 'status',
        userInfo: { username: 'alice', uid: 'u-123', groups: ['devs'] },
      },
    };
    await s.post('/validate', reviewOf(cluster([SELF_REF]), { uid: 'denied' }));
    await s.post(
      '/validate',
      reviewOf(cluster([{ name: 'two', elasticsearchRef: { name: 'missing', namespace: 'ns-two' } }]), { uid: 'warned' }),
    );
    await s.post('/validate', reviewOf(cluster(), { uid: 'clean' }));
    await s.post('/mutate', reviewOf(cluster([{ name: 'two', elasticsearchRef: { name: 'cluster-two' } }]), { uid: 'patched' }));
    await s.post('/validate', reviewOf(secretRcc, { uid: 'rcc' }));
    await s.post('/validate', withExtras);

    const lines = s.lines();
    assert.deepEqual(lines.map((l) => l['uid']).sort(), ['clean', 'converted', 'denied', 'patched', 'rcc', 'warned']);
    for (const line of lines) assert.ok(validate(line), `${String(line['uid'])}: ${JSON.stringify(validate.errors)}`);

    const byUid = new Map(lines.map((l) => [l['uid'], l]));
    assert.equal(byUid.get('denied')!['level'], 'warn');
    assert.equal(byUid.get('denied')!['schemaVersion'], DECISION_SCHEMA_VERSION);
    assert.equal(byUid.get('denied')!['configGeneration'], 'abcdef012345');
    assert.equal(byUid.get('warned')!['level'], 'info');
    assert.ok((byUid.get('rcc')!['findings'] as unknown[]).length > 0, 'the RCC with a half datastore config has findings');
    assert.equal(byUid.get('clean')!['level'], 'debug');
    const extras = byUid.get('converted')!;
    assert.deepEqual(extras['requestKind'], { group: 'elasticsearch.k8s.elastic.co', version: 'v1beta1', kind: 'Elasticsearch' });
    assert.equal(extras['subResource'], 'status');
    assert.deepEqual(extras['userInfo'], { username: 'alice', uid: 'u-123', groups: ['devs'] });
    assert.deepEqual(extras['resource'], { group: 'elasticsearch.k8s.elastic.co', version: 'v1', resource: 'elasticsearchs' });
    assert.equal(byUid.get('denied')!['requestKind'], undefined, 'requestKind only when it differs from kind');
  });

  it('the schema refuses what a SIEM parser could not rely on (it is not a schema that accepts anything)', () => {
    const validate = validator();
    const good = {
      level: 'warn',
      time: '2026-12-02T10:00:00.000Z',
      app: 'remote-cluster-guard',
      pod: 'remote-cluster-guard-7d9f-abcde',
      log: 'decision',
      schemaVersion: 'v1',
      msg: 'admission denied',
      uid: 'u',
      path: '/validate',
      operation: 'CREATE',
      dryRun: false,
      allowed: false,
      userInfo: { username: 'alice', groups: [] },
      kind: { group: 'g', version: 'v1', kind: 'K' },
      namespace: '',
      name: 'n',
      findings: [{ rule: 'r', action: 'deny', mode: 'enforce', field: '', message: 'm' }],
      patch: [],
      configGeneration: 'default',
    };
    assert.ok(validate(good), JSON.stringify(validate.errors));
    const broken: [string, object][] = [
      ['numeric level', { ...good, level: 40 }],
      ['time not RFC 3339', { ...good, time: 'yesterday' }],
      ['unknown field (an object would land there)', { ...good, object: {} }],
      ['finding without mode', { ...good, findings: [{ rule: 'r', action: 'deny', field: '', message: 'm' }] }],
      ['other schema version', { ...good, schemaVersion: 'v0' }],
    ];
    for (const [what, line] of broken) assert.equal(validate(line), false, what);
  });

  it('a patch-only decision is logged at info, with each operation and the rule that made it', async () => {
    const s = setup({}, 'info');
    const body = await s.post(
      '/mutate',
      reviewOf(cluster([{ name: 'two', elasticsearchRef: { name: 'cluster-two' } }]), { uid: 'patched' }),
    );
    assert.equal(body.response.patchType, 'JSONPatch');
    const [line, ...more] = s.lines();
    assert.equal(more.length, 0);
    assert.equal(line!['msg'], 'admission allowed with changes');
    assert.equal(line!['level'], 'info');
    assert.deepEqual(line!['findings'], []);
    assert.deepEqual(line!['patch'], [
      { rule: 'es-default-namespace', op: 'add', path: '/spec/remoteClusters/0/elasticsearchRef/namespace', value: 'ns-one' },
    ]);
  });

  it('a clean allowed request writes nothing at info', async () => {
    const s = setup({}, 'info');
    await s.post('/validate', reviewOf(cluster()));
    await s.post('/mutate', reviewOf(cluster()));
    assert.deepEqual(s.lines(), []);
  });

  it('secret values never appear, on /validate or /mutate, in any rule mode', async () => {
    for (const mode of ['enforce', 'warn', 'audit'] as const) {
      const modes = Object.fromEntries(ALL_RULES.filter((r) => r.id.startsWith('calico-rcc')).map((r) => [r.id, mode]));
      const s = setup(modes);
      await s.post('/validate', reviewOf(secretRcc));
      await s.post('/mutate', reviewOf(secretRcc));
      const text = JSON.stringify(s.lines());
      assert.ok(s.lines().length >= 2, 'both decisions are logged at debug');
      assert.ok(!text.includes(SENTINEL), `${mode}: a secret value reached the decision log`);
    }
  });
});
