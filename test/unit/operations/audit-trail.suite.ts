/**
 * The audit trail: `auditAnnotations` on every response with findings (keys
 * the kube-apiserver accepts), and the decision log file of `runServe`: one
 * JSON object per decision with who asked for what and why, reopened at the
 * same path after rotation (`reopenLogs`, what SIGHUP calls).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { auditAnnotations } from '../../../src/admission/response.js';
import { DEFAULT_POLICY } from '../../../src/config/policy.js';
import { Engine, INTERNAL_ERROR_RULE, OBJECT_SHAPE_RULE } from '../../../src/engine/engine.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { createRequestListener } from '../../../src/server/app.js';
import { addToState, loadManifests } from '../../../src/state/manifests.js';
import type { RunningServer } from '../../../src/cli/serve.js';
import { reviewOf } from '../../helpers/reviews.js';
import { admit, serve } from './server.js';
import { cluster, LICENSE, SELF_REF, SELF_REF_FIELD, tempDir, waitFor } from './support.js';

/** Kubernetes qualified name (the part after the webhook-name prefix the API server adds). */
const QUALIFIED_NAME = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

describe('auditAnnotations', () => {
  it('every rule id (and the engine-made ones) is a valid annotation key of at most 63 characters', () => {
    const ids = new Set([...ALL_RULES.map((r) => r.id), OBJECT_SHAPE_RULE, INTERNAL_ERROR_RULE]);
    for (const id of ids) {
      assert.match(id, QUALIFIED_NAME);
      assert.ok(id.length <= 63, id);
    }
  });

  it('one key per rule, the value listing each action and field', () => {
    assert.equal(auditAnnotations([]), undefined);
    assert.deepEqual(
      auditAnnotations([
        { rule: 'es-remote-ref', action: 'deny', field: 'spec.remoteClusters[0].name' },
        { rule: 'es-remote-ref', action: 'warn', field: 'spec.remoteClusters[1].elasticsearchRef' },
        { rule: 'es-enterprise-license', action: 'audit', field: 'spec.remoteClusters' },
        { rule: 'es-remote-version', action: 'warn', field: '' },
      ]),
      {
        'es-remote-ref': 'deny spec.remoteClusters[0].name, warn spec.remoteClusters[1].elasticsearchRef',
        'es-enterprise-license': 'audit spec.remoteClusters',
        'es-remote-version': 'warn',
      },
    );
  });

  it('are on every response with findings (deny, warn, audit, object shape) and on no other', async () => {
    const { state } = addToState(loadManifests([LICENSE]));
    const listener = (modes = {}) =>
      createRequestListener({
        engine: new Engine(ALL_RULES, { operatorNamespace: 'elastic-system', policy: { ...DEFAULT_POLICY, modes } }),
        state,
        log: createLogger('silent'),
        maxBodyBytes: 1 << 20,
        ready: () => ({ ready: true }),
      });
    const post = async (l: ReturnType<typeof listener>, object: unknown, path = '/validate') =>
      (await request(l).post(path).send(reviewOf(object)).expect(200)).body.response;
    const missing = { name: 'cluster-three', elasticsearchRef: { name: 'cluster-three', namespace: 'ns-three' } };
    const cases: [string, unknown, Record<string, string> | undefined, ReturnType<typeof listener>][] = [
      ['deny', cluster([SELF_REF]), { 'es-remote-ref': `deny ${SELF_REF_FIELD}` }, listener()],
      ['warn', cluster([missing]), { 'es-remote-ref': `warn ${SELF_REF_FIELD}` }, listener()],
      ['audit', cluster([SELF_REF]), { 'es-remote-ref': `audit ${SELF_REF_FIELD}` }, listener({ 'es-remote-ref': 'audit' })],
      ['object shape', { ...cluster(), spec: { version: 8 } }, { [OBJECT_SHAPE_RULE]: 'deny spec.version' }, listener()],
      ['clean', cluster(), undefined, listener()],
    ];
    for (const [what, object, expected, l] of cases) {
      const r = await post(l, object);
      assert.deepEqual(r.auditAnnotations, expected, what);
      for (const key of Object.keys(r.auditAnnotations ?? {})) assert.ok(QUALIFIED_NAME.test(key) && key.length <= 63, key);
    }
    // /mutate responses carry them too.
    const shape = await post(listener(), { ...cluster(), spec: { version: 8 } }, '/mutate');
    assert.deepEqual(shape.auditAnnotations, { [OBJECT_SHAPE_RULE]: 'deny spec.version' });
  });
});

describe('decision log file (runServe decisionLog)', () => {
  const dir = tempDir('decisions');
  const path = join(dir, 'decisions.jsonl');
  let server: RunningServer | undefined;
  after(async () => server?.close());

  const lines = (file: string) =>
    existsSync(file)
      ? readFileSync(file, 'utf-8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  const lineFor = (file: string, uid: string) => waitFor(`the decision ${uid} in ${file}`, () => lines(file).find((l) => l['uid'] === uid));

  it('one JSON object per line with time, uid, operation, kind, namespace, name, userInfo, dryRun and findings; never the object', async () => {
    server = await serve({ state: [LICENSE], decisionLog: path });
    await admit(server.port, cluster([SELF_REF]), { uid: 'uid-denied', dryRun: true });
    await admit(server.port, cluster(), { uid: 'uid-clean' });
    await admit(server.port, cluster([SELF_REF], 3), { uid: 'uid-ratcheted', oldObject: cluster([SELF_REF], 1) });
    const denied = await lineFor(path, 'uid-denied');
    const ratcheted = await lineFor(path, 'uid-ratcheted');

    assert.equal(typeof denied['time'], 'string');
    assert.ok(Math.abs(Date.parse(denied['time'] as string) - Date.now()) < 60_000, String(denied['time']));
    assert.equal(denied['msg'], 'admission denied');
    assert.equal(denied['path'], '/validate');
    assert.equal(denied['operation'], 'CREATE');
    assert.deepEqual(denied['kind'], { group: 'elasticsearch.k8s.elastic.co', version: 'v1', kind: 'Elasticsearch' });
    assert.equal(denied['namespace'], 'ns-one');
    assert.equal(denied['name'], 'cluster-one');
    assert.deepEqual(denied['userInfo'], { username: 'alice', groups: ['system:authenticated'] });
    assert.equal(denied['dryRun'], true);
    assert.equal(denied['allowed'], false);
    assert.deepEqual(denied['findings'], [
      {
        rule: 'es-remote-ref',
        action: 'deny',
        mode: 'enforce',
        field: SELF_REF_FIELD,
        message:
          'this entry references ns-one/cluster-one itself, and a cluster cannot be its own remote cluster; reference another Elasticsearch or remove the entry',
      },
    ]);
    assert.equal(denied['object'], undefined);
    assert.doesNotMatch(JSON.stringify(denied), /nodeSets/, 'no part of the object is logged');

    assert.equal(ratcheted['operation'], 'UPDATE');
    assert.equal(ratcheted['dryRun'], false);
    assert.equal(ratcheted['allowed'], true);
    assert.match((ratcheted['findings'] as { message: string }[])[0]!.message, /predates this change/);

    // A clean allowed request is not logged at info level, and every line of the file is a decision.
    const all = lines(path);
    assert.deepEqual(
      all.map((l) => l['uid']),
      ['uid-denied', 'uid-ratcheted'],
    );
  });

  it('close() right after start resolves (the file may not be open yet)', async () => {
    const s = await serve({ decisionLog: join(tempDir('decisions-early'), 'sub', 'decisions.jsonl') });
    await s.close();
  });

  it('after rotation (rename + reopenLogs), the next decision goes to a new file at the original path', async () => {
    assert.ok(server, 'runs after the previous test');
    const rotated = `${path}.1`;
    renameSync(path, rotated);
    assert.equal(await server.reopenLogs(), true, 'the new file is open');
    await admit(server.port, cluster([SELF_REF]), { uid: 'uid-after-rotation' });
    await lineFor(path, 'uid-after-rotation');
    assert.deepEqual(
      lines(path).map((l) => l['uid']),
      ['uid-after-rotation'],
    );
    assert.deepEqual(
      lines(rotated).map((l) => l['uid']),
      ['uid-denied', 'uid-ratcheted'],
    );

    // Nothing is lost at close().
    await admit(server.port, cluster([SELF_REF]), { uid: 'uid-before-close' });
    await server.close();
    server = undefined;
    assert.deepEqual(
      lines(path).map((l) => l['uid']),
      ['uid-after-rotation', 'uid-before-close'],
    );
  });
});
