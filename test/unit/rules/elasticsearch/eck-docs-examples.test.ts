/**
 * The ECK docs examples (test/fixtures/eck/, transcribed from the ECK 2.16 and
 * 1.2 "Remote clusters" pages)
 * through every Elasticsearch rule, as the webhook would see them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { elasticsearchRules } from '../../../../src/rules/elasticsearch/index.js';
import { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { evaluate, stateOf, summary } from '../../../helpers/engine.js';
import { applied, edit, fixture, fixtureObject, type Json } from './helpers.js';

const rules = elasticsearchRules;
const ENTERPRISE = fixture('license-enterprise.yaml');
const BASIC = fixture('license-basic.yaml');
const ES = 'Elasticsearch';

type Spec = Record<string, unknown>;
const specOf = (o: Json) => o['spec'] as Spec;

describe('ECK docs "Using the API key security model"', () => {
  const two = fixtureObject('api-key-model.yaml', ES, 'cluster-two');
  const one = fixtureObject('api-key-model.yaml', ES, 'cluster-one');

  test('cluster-one is allowed as is with the enterprise licence and cluster-two in the state', () => {
    const d = evaluate(one, { rules, state: stateOf(...ENTERPRISE, two) });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, []);
    assert.deepEqual(d.findings, []);
  });

  test('cluster-two is allowed as is with cluster-one in the state (server already enabled)', () => {
    const d = evaluate(two, { rules, state: stateOf(...ENTERPRISE, one) });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, []);
    assert.deepEqual(d.findings, []);
  });

  test('cluster-two without remoteClusterServer gets it back, with a restart warning', () => {
    const bare = edit(two, (o) => delete specOf(o)['remoteClusterServer']);
    const state = stateOf(...ENTERPRISE, one);
    const d = evaluate(bare, { rules, state });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusterServer', value: { enabled: true } }]);
    assert.deepEqual(summary(d), ['es-remote-cluster-server warn spec.remoteClusterServer.enabled']);
    assert.match(d.findings[0]?.message ?? '', /ns-one\/cluster-one connects with an API key; this restarts every node/);
    assert.deepEqual(applied(bare, d.patch), two);
    assert.deepEqual(evaluate(applied(bare, d.patch), { rules, state }).patch, []);
  });

  test('cluster-one is denied without a licence, saying what was looked for', () => {
    const d = evaluate(one, { rules, state: stateOf(two) });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), ['es-enterprise-license deny spec.remoteClusters']);
    assert.equal(
      d.findings[0]?.message,
      'remote clusters need an Enterprise or Enterprise trial licence and ECK silently ignores them without one, but there is no ConfigMap elastic-system/elastic-licensing and no Secret labelled license.k8s.elastic.co/scope=operator in elastic-system; install an Enterprise licence or start a trial in elastic-system',
    );
  });

  test('cluster-one is denied with a basic licence, naming the level', () => {
    const d = evaluate(one, { rules, state: stateOf(...BASIC, two) });
    assert.equal(d.allowed, false);
    assert.match(
      d.findings[0]?.message ?? '',
      /, but ECK reports licence level basic \(ConfigMap elastic-system\/elastic-licensing\) and no Secret labelled/,
    );
  });

  test('with the docs mistake (apiKey under elasticsearchRef) cluster-one is denied', () => {
    const wrong = edit(one, (o) => {
      const entry = (specOf(o)['remoteClusters'] as Json[])[0] as Json;
      (entry['elasticsearchRef'] as Json)['apiKey'] = entry['apiKey'];
      delete entry['apiKey'];
    });
    const d = evaluate(wrong, { rules, state: stateOf(...ENTERPRISE, two) });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), ['es-remote-ref deny spec.remoteClusters[0].elasticsearchRef.apiKey']);
  });
});

describe('ECK docs "Using the certificate security model"', () => {
  const one = fixtureObject('certificate-model.yaml', ES, 'cluster-one');
  const two = fixtureObject('api-key-model.yaml', ES, 'cluster-two');

  test('cluster-one is allowed with the enterprise licence', () => {
    const d = evaluate(one, { rules, state: stateOf(...ENTERPRISE, two) });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, []);
    assert.deepEqual(d.findings, []);
  });

  test('with the namespace omitted (both in ns-one), the ref namespace is defaulted', () => {
    const sameNs = edit(one, (o) => delete ((specOf(o)['remoteClusters'] as Json[])[0]?.['elasticsearchRef'] as Json)['namespace']);
    const twoHere = edit(two, (o) => ((o['metadata'] as Json)['namespace'] = 'ns-one'));
    const state = stateOf(...ENTERPRISE, twoHere);
    const d = evaluate(sameNs, { rules, state });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusters/0/elasticsearchRef/namespace', value: 'ns-one' }]);
    assert.deepEqual(d.findings, []);
    assert.deepEqual(evaluate(applied(sameNs, d.patch), { rules, state }).patch, []);
  });

  test('cluster-one is denied without the licence', () => {
    const d = evaluate(one, { rules, state: stateOf(...BASIC, two) });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), ['es-enterprise-license deny spec.remoteClusters']);
  });
});

describe('ECK docs "Connect from an Elasticsearch cluster running outside the Kubernetes cluster" (ConfigMap remote-certs)', () => {
  const docs = fixture('external-ca.yaml');
  const two = fixtureObject('external-ca.yaml', ES, 'cluster-two');
  const certs = fixtureObject('external-ca.yaml', 'ConfigMap', 'remote-certs');

  test('cluster-two is allowed with the CA ConfigMap in its namespace', () => {
    const d = evaluate(two, { rules, state: stateOf(...docs), namespace: 'default' });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, []);
    assert.deepEqual(d.findings, []);
  });

  test('cluster-two is denied when the ConfigMap is missing', () => {
    const d = evaluate(two, { rules, state: stateOf(), namespace: 'default' });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), ['es-transport-ca deny spec.transport.tls.certificateAuthorities.configMapName']);
    assert.match(d.findings[0]?.message ?? '', /ConfigMap default\/remote-certs was not found/);
  });

  test('without configMapName, a ConfigMap labelled for cluster-two is defaulted in', () => {
    const labelled = edit(
      certs,
      (o) => ((o['metadata'] as Json)['labels'] = { 'remote-cluster-guard.io/transport-ca-for': 'cluster-two' }),
    );
    const bare = edit(two, (o) => delete specOf(o)['transport']);
    const state = stateOf(labelled);
    const d = evaluate(bare, { rules, state, namespace: 'default' });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, [
      { op: 'add', path: '/spec/transport', value: { tls: { certificateAuthorities: { configMapName: 'remote-certs' } } } },
    ]);
    assert.deepEqual(summary(d), ['es-transport-ca warn spec.transport.tls.certificateAuthorities.configMapName']);
    assert.deepEqual(specOf(applied(bare, d.patch))['transport'], specOf(two)['transport']);
  });
});

describe('ECK 1.2 docs, cluster-one 7.8.1 → cluster-two', () => {
  const one = fixtureObject('legacy-7.8.yaml', ES, 'cluster-one');
  const two = fixtureObject('legacy-7.8.yaml', ES, 'cluster-two');
  const stateWith = (...extra: unknown[]) => {
    const s = new MemoryClusterState();
    for (const o of extra) s.apply(o);
    s.apply(two, 'ns-two'); // kubectl apply -n ns-two
    return s;
  };

  test('allowed with the enterprise licence, with a warning that 7.8 is outside the table', () => {
    const d = evaluate(one, { rules, state: stateWith(...ENTERPRISE) });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, []);
    assert.deepEqual(summary(d), ['es-remote-version warn spec.remoteClusters[0]']);
    assert.match(
      d.findings[0]?.message ?? '',
      /this cluster at 7\.8\.1 and remote ns-two\/cluster-two at 7\.8\.1 are outside Elastic's compatibility table/,
    );
  });

  test('denied without the licence', () => {
    const d = evaluate(one, { rules, state: stateWith(...BASIC) });
    assert.equal(d.allowed, false);
    assert.ok(summary(d).includes('es-enterprise-license deny spec.remoteClusters'));
  });

  test('an API key on 7.8.1 would be denied', () => {
    const withKey = edit(
      one,
      (o) => (((specOf(o)['remoteClusters'] as Json[])[0] as Json)['apiKey'] = { access: { search: { names: ['*'] } } }),
    );
    const d = evaluate(withKey, { rules, state: stateWith(...ENTERPRISE) });
    assert.ok(summary(d).includes('es-api-key-version deny spec.remoteClusters[0].apiKey'));
    assert.ok(summary(d).includes('es-remote-cluster-server warn spec.remoteClusters[0].apiKey'));
  });
});

describe('rule registry', () => {
  test('ids and order: namespace defaulting first, then mutations, then validations', () => {
    assert.deepEqual(
      rules.map((r) => r.id),
      [
        'es-default-namespace',
        'es-remote-cluster-server',
        'es-transport-ca',
        'es-nodeset-transport-ca',
        'es-ca-owner-reference',
        'es-ca-copy-stale',
        'es-remote-ref',
        'es-remote-version',
        'es-api-key-version',
        'es-enterprise-license',
      ],
    );
    const firstValidateOnly = rules.findIndex((r) => !r.mutate);
    assert.ok(rules.slice(firstValidateOnly).every((r) => !r.mutate));
  });
});
