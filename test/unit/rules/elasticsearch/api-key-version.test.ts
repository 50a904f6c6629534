import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiKeyVersionRule } from '../../../../src/rules/elasticsearch/api-key-version.js';
import { atLeast, parseEsVersion, supportsApiKeys } from '../../../../src/rules/elasticsearch/version.js';
import { evaluate, stateOf, summary } from '../../../helpers/engine.js';
import { API_KEY, es, ref } from './helpers.js';

const rules = [apiKeyVersionRule];
const withKey = (version: string) =>
  es('ns-one', 'cluster-one', { version, remoteClusters: [ref('two', 'cluster-two', 'ns-two', API_KEY)] });

describe('version helpers', () => {
  test('supportsApiKeys: 8.10.0 and later, pre-release ignored', () => {
    const v = (s: string) => parseEsVersion(s) ?? assert.fail(s);
    assert.deepEqual(
      ['8.9.2', '8.10.0', '8.10.0-SNAPSHOT', '8.11.1', '9.0.0', '7.17.30'].map((s) => supportsApiKeys(v(s))),
      [false, true, true, true, true, false],
    );
    assert.equal(atLeast(v('8.10.1'), 8, 10, 2), false);
  });
});

describe('es-api-key-version', () => {
  test('allows apiKey on 8.10.0 and on a remote at 8.16.1', () => {
    const d = evaluate(withKey('8.10.0'), {
      rules,
      state: stateOf(es('ns-two', 'cluster-two', { version: '8.16.1', remoteClusterServer: { enabled: true } })),
    });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
  });

  test('denies apiKey on 8.9.2, per entry', () => {
    const o = es('ns-one', 'cluster-one', { version: '8.9.2', remoteClusters: [ref('a', 'a', 'ns-a'), ref('b', 'b', 'ns-b', API_KEY)] });
    const d = evaluate(o, { rules });
    assert.deepEqual(summary(d), ['es-api-key-version deny spec.remoteClusters[1].apiKey']);
    assert.match(
      d.findings[0]?.message ?? '',
      /need Elasticsearch 8\.10\.0 or later and this cluster is at 8\.9\.2.*remove apiKey to use the certificate security model/,
    );
  });

  test('denies remoteClusterServer on 8.9.0, allows it disabled', () => {
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.9.0', remoteClusterServer: { enabled: true } }), { rules });
    assert.deepEqual(summary(d), ['es-api-key-version deny spec.remoteClusterServer.enabled']);
    assert.match(
      d.findings[0]?.message ?? '',
      /remote cluster server needs Elasticsearch 8\.10\.0 or later and this cluster is at 8\.9\.0/,
    );
    assert.deepEqual(
      evaluate(es('ns-two', 'cluster-two', { version: '8.9.0', remoteClusterServer: { enabled: false } }), { rules }).findings,
      [],
    );
  });

  test('denies remoteClusterServer without a usable version', () => {
    const d = evaluate(es('ns-two', 'cluster-two', { remoteClusterServer: { enabled: true } }), { rules });
    assert.deepEqual(summary(d), ['es-api-key-version deny spec.remoteClusterServer.enabled']);
    assert.match(d.findings[0]?.message ?? '', /version is not set/);
  });

  test('denies apiKey towards a remote below 8.10.0, naming it', () => {
    const d = evaluate(withKey('8.16.1'), { rules, state: stateOf(es('ns-two', 'cluster-two', { version: '8.9.1' })) });
    assert.deepEqual(summary(d), ['es-api-key-version deny spec.remoteClusters[0].apiKey']);
    assert.match(
      d.findings[0]?.message ?? '',
      /remote ns-two\/cluster-two is at 8\.9\.1 and cannot serve API-key connections before Elasticsearch 8\.10\.0/,
    );
  });

  test('denies apiKey towards a remote still running 8.9 during its upgrade', () => {
    const d = evaluate(withKey('8.16.1'), {
      rules,
      state: stateOf(es('ns-two', 'cluster-two', { version: '8.10.0' }, { version: '8.9.2' })),
    });
    assert.deepEqual(summary(d), ['es-api-key-version deny spec.remoteClusters[0].apiKey']);
    assert.match(d.findings[0]?.message ?? '', /8\.9\.2 \(running, upgrade in progress\)/);
  });

  test('a remote below 8.10.0 is fine with the certificate model', () => {
    const o = es('ns-one', 'cluster-one', { version: '8.16.1', remoteClusters: [ref('two', 'cluster-two', 'ns-two')] });
    assert.deepEqual(evaluate(o, { rules, state: stateOf(es('ns-two', 'cluster-two', { version: '8.9.1' })) }).findings, []);
  });
});
