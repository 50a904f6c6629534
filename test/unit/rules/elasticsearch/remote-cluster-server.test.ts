import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { remoteClusterServerRule } from '../../../../src/rules/elasticsearch/remote-cluster-server.js';
import { evaluate, stateOf, summary } from '../../../helpers/engine.js';
import { API_KEY, applied, es, ref, type Json } from './helpers.js';

const rules = [remoteClusterServerRule];
const referrer = es('ns-one', 'cluster-one', { version: '8.16.1', remoteClusters: [ref('two', 'cluster-two', 'ns-two', API_KEY)] });

function expectIdempotent(object: Json, d: ReturnType<typeof evaluate>, state: ReturnType<typeof stateOf>): void {
  const again = evaluate(applied(object, d.patch), { rules, state });
  assert.deepEqual(again.patch, []);
  assert.deepEqual(again.findings, []);
}

describe('es-remote-cluster-server: mutate', () => {
  test('enables the server on a cluster referenced with an API key, warning about the restart', () => {
    const state = stateOf(referrer);
    const two = es('ns-two', 'cluster-two', { version: '8.16.1' });
    const d = evaluate(two, { rules, state });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusterServer', value: { enabled: true } }]);
    assert.deepEqual(summary(d), ['es-remote-cluster-server warn spec.remoteClusterServer.enabled']);
    assert.match(
      d.findings[0]?.message ?? '',
      /set to true because ns-one\/cluster-one connects with an API key; this restarts every node of this cluster/,
    );
    expectIdempotent(two, d, state);
  });

  test('adds only enabled when remoteClusterServer exists, and replaces false', () => {
    const state = stateOf(referrer);
    const empty = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1', remoteClusterServer: {} }), { rules, state });
    assert.deepEqual(empty.patch, [{ op: 'add', path: '/spec/remoteClusterServer/enabled', value: true }]);
    const off = es('ns-two', 'cluster-two', { version: '8.16.1', remoteClusterServer: { enabled: false } });
    const d = evaluate(off, { rules, state });
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusterServer/enabled', value: true }]);
    assert.match(d.findings[0]?.message ?? '', /set to true \(it was false\)/);
    expectIdempotent(off, d, state);
  });

  test('an already enabled cluster yields no patch and no finding', () => {
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1', remoteClusterServer: { enabled: true } }), {
      rules,
      state: stateOf(referrer),
    });
    assert.deepEqual(d.patch, []);
    assert.deepEqual(d.findings, []);
  });

  test('no patch when referrers use the certificate model, or nobody references it', () => {
    const certRef = es('ns-one', 'cluster-one', { version: '8.16.1', remoteClusters: [ref('two', 'cluster-two', 'ns-two')] });
    assert.deepEqual(evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), { rules, state: stateOf(certRef) }).patch, []);
    assert.deepEqual(evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), { rules }).patch, []);
  });

  test('names every referrer, including one in the same namespace with the namespace omitted', () => {
    const local = es('ns-two', 'cluster-three', { version: '8.16.1', remoteClusters: [ref('two', 'cluster-two', undefined, API_KEY)] });
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), { rules, state: stateOf(referrer, local) });
    assert.match(d.findings[0]?.message ?? '', /because ns-one\/cluster-one, ns-two\/cluster-three connects with an API key/);
  });

  test('a cluster without a version (here without spec) is not patched: warns', () => {
    const d = evaluate(es('ns-two', 'cluster-two', undefined), { rules, state: stateOf(referrer) });
    assert.deepEqual(d.patch, []);
    assert.match(d.findings[0]?.message ?? '', /this cluster has no valid version/);
  });

  test('does not patch a cluster below 8.10.0: warns instead', () => {
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.9.2' }), { rules, state: stateOf(referrer) });
    assert.deepEqual(d.patch, []);
    assert.deepEqual(summary(d), ['es-remote-cluster-server warn spec.remoteClusterServer.enabled']);
    assert.match(
      d.findings[0]?.message ?? '',
      /not enabled for the API key of ns-one\/cluster-one: the server needs 8\.10\.0 or later and this cluster is at 8\.9\.2/,
    );
  });
});

describe('es-remote-cluster-server: validate', () => {
  test('warns when an API-key remote in the state does not have the server enabled', () => {
    const d = evaluate(referrer, { rules, state: stateOf(es('ns-two', 'cluster-two', { version: '8.16.1' })) });
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), ['es-remote-cluster-server warn spec.remoteClusters[0].apiKey']);
    assert.match(
      d.findings[0]?.message ?? '',
      /remote ns-two\/cluster-two lacks remoteClusterServer\.enabled: true, which API keys need; the webhook sets it when ns-two\/cluster-two is next applied \(restarting it\)/,
    );
  });

  test('no warning when the remote has it enabled, is not in the state, or the entry has no API key', () => {
    const enabled = stateOf(es('ns-two', 'cluster-two', { version: '8.16.1', remoteClusterServer: { enabled: true } }));
    assert.deepEqual(evaluate(referrer, { rules, state: enabled }).findings, []);
    assert.deepEqual(evaluate(referrer, { rules }).findings, []);
    const certRef = es('ns-one', 'cluster-one', { version: '8.16.1', remoteClusters: [ref('two', 'cluster-two', 'ns-two')] });
    assert.deepEqual(evaluate(certRef, { rules, state: stateOf(es('ns-two', 'cluster-two', { version: '8.16.1' })) }).findings, []);
  });
});
