import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TRANSPORT_CA_FOR_LABEL } from '../../../../src/kube/elasticsearch.js';
import { transportCaRule } from '../../../../src/rules/elasticsearch/transport-ca.js';
import { evaluate, stateOf, summary, TEST_NOW } from '../../../helpers/engine.js';
import { makeCerts } from './certs.js';
import { applied, configMap, es } from './helpers.js';

const rules = [transportCaRule];
const certs = makeCerts(TEST_NOW);
const FIELD = 'spec.transport.tls.certificateAuthorities.configMapName';
const trusting = (cm: string) =>
  es('ns-two', 'cluster-two', { version: '8.16.1', transport: { tls: { certificateAuthorities: { configMapName: cm } } } });
const caMap = (pem: string, name = 'remote-certs', namespace = 'ns-two') => configMap(namespace, name, { 'ca.crt': pem });

function check(pem: string) {
  return evaluate(trusting('remote-certs'), { rules, state: stateOf(caMap(pem)) });
}

describe('es-transport-ca: validate', () => {
  test('allows a ConfigMap with a valid CA, and a bundle of valid CAs', () => {
    assert.deepEqual(check(certs.ca).findings, []);
    assert.deepEqual(check(certs.ca + certs.ca).findings, []);
  });

  test('no configMapName: nothing to check', () => {
    assert.deepEqual(evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), { rules }).findings, []);
  });

  test('denies a missing ConfigMap, also one in another namespace', () => {
    const d = evaluate(trusting('remote-certs'), { rules, state: stateOf(caMap(certs.ca, 'remote-certs', 'ns-one')) });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), [`es-transport-ca deny ${FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /ConfigMap ns-two\/remote-certs was not found; create it in the same namespace .*kubectl create configmap remote-certs -n ns-two --from-file=ca\.crt=remote\.ca\.crt/,
    );
  });

  test('denies a ConfigMap without ca.crt, listing its keys', () => {
    const d = evaluate(trusting('remote-certs'), {
      rules,
      state: stateOf(configMap('ns-two', 'remote-certs', { 'remote.ca.crt': certs.ca })),
    });
    assert.deepEqual(summary(d), [`es-transport-ca deny ${FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /has no ca\.crt key \(it has remote\.ca\.crt\) and ECK fails with "must contain ca\.crt file"/,
    );
  });

  test('denies ca.crt without any PEM certificate', () => {
    const d = check('hello');
    assert.deepEqual(summary(d), [`es-transport-ca deny ${FIELD}`]);
    assert.match(d.findings[0]?.message ?? '', /ca\.crt of ConfigMap ns-two\/remote-certs holds no PEM certificate/);
  });

  test('denies a certificate that is not a CA', () => {
    const d = check(certs.ca + certs.leaf);
    assert.deepEqual(summary(d), [`es-transport-ca deny ${FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /certificate 2 \(CN=node-0\.test\) in ca\.crt of ConfigMap ns-two\/remote-certs is not a CA/,
    );
  });

  test('denies an expired CA, pointing at the rotated one', () => {
    const d = check(certs.expiredCa);
    assert.deepEqual(summary(d), [`es-transport-ca deny ${FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /certificate 1 \(CN=expired-ca\) .* expired on 2026-05-31T00:00:00\.000Z; copy the current CA from the remote's Secret <cluster>-es-transport-certs-public \(ECK rotates it yearly\)/,
    );
  });

  test('warns about a CA expiring within 30 days', () => {
    const d = check(certs.expiringCa);
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), [`es-transport-ca warn ${FIELD}`]);
    assert.match(d.findings[0]?.message ?? '', /CN=expiring-ca.* expires in 10 day\(s\), on 2026-06-11T00:00:00\.000Z/);
  });

  test('warns about a CA not valid yet', () => {
    const d = check(certs.futureCa);
    assert.equal(d.allowed, true);
    assert.match(d.findings[0]?.message ?? '', /not valid before 2026-06-06/);
  });

  test('warns about a private key in the bundle, without printing it', () => {
    const d = check(certs.ca + certs.keyPem);
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), [`es-transport-ca warn ${FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /block 2 of ca\.crt .* is ignored because it is a RSA PRIVATE KEY block.*a private key never belongs in a ConfigMap/,
    );
    assert.doesNotMatch(d.findings[0]?.message ?? '', /MII/);
  });

  test('denies a broken certificate block', () => {
    const d = check('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' + certs.ca);
    assert.deepEqual(summary(d), [`es-transport-ca deny ${FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /block 1 of ca\.crt of ConfigMap ns-two\/remote-certs cannot be used because it is not a valid X\.509 certificate/,
    );
  });
});

describe('es-transport-ca: mutate', () => {
  const labelled = (name: string, data: Record<string, string> | undefined, target = 'cluster-two') =>
    configMap('ns-two', name, data, { [TRANSPORT_CA_FOR_LABEL]: target });

  test('sets configMapName to the only labelled ConfigMap with a ca.crt, then validates it', () => {
    const state = stateOf(
      labelled('cluster-one-ca', { 'ca.crt': certs.ca }),
      labelled('for-another', { 'ca.crt': certs.ca }, 'cluster-three'),
    );
    const two = es('ns-two', 'cluster-two', { version: '8.16.1' });
    const d = evaluate(two, { rules, state });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, [
      { op: 'add', path: '/spec/transport', value: { tls: { certificateAuthorities: { configMapName: 'cluster-one-ca' } } } },
    ]);
    assert.deepEqual(summary(d), [`es-transport-ca warn ${FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /set to cluster-one-ca, the only ConfigMap in ns-two labelled remote-cluster-guard\.io\/transport-ca-for=cluster-two with a ca\.crt/,
    );
    const again = evaluate(applied(two, d.patch), { rules, state });
    assert.deepEqual(again.patch, []);
    assert.deepEqual(again.findings, []);
  });

  test('adds below existing parents', () => {
    const state = stateOf(labelled('ca', { 'ca.crt': certs.ca }));
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1', transport: { tls: { certificateAuthorities: {} } } }), {
      rules,
      state,
    });
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/transport/tls/certificateAuthorities/configMapName', value: 'ca' }]);
    const noSpec = evaluate(es('ns-two', 'cluster-two', undefined), { rules, state });
    assert.deepEqual(noSpec.patch, [
      { op: 'add', path: '/spec', value: { transport: { tls: { certificateAuthorities: { configMapName: 'ca' } } } } },
    ]);
  });

  test('the mutated object is then validated: an expired labelled CA is denied', () => {
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), {
      rules,
      state: stateOf(labelled('ca', { 'ca.crt': certs.expiredCa })),
    });
    assert.equal(d.patch.length, 1);
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), [`es-transport-ca warn ${FIELD}`, `es-transport-ca deny ${FIELD}`]);
  });

  test('several labelled ConfigMaps: warns and patches nothing', () => {
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), {
      rules,
      state: stateOf(labelled('b', { 'ca.crt': certs.ca }), labelled('a', { 'ca.crt': certs.ca })),
    });
    assert.deepEqual(d.patch, []);
    assert.deepEqual(summary(d), [`es-transport-ca warn ${FIELD}`]);
    assert.match(d.findings[0]?.message ?? '', /not defaulted because 2 ConfigMaps in ns-two are labelled .* \(a, b\)/);
  });

  test('a labelled ConfigMap without ca.crt is not chosen', () => {
    const d = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), { rules, state: stateOf(labelled('a', { other: 'x' })) });
    assert.deepEqual(d.patch, []);
    assert.match(d.findings[0]?.message ?? '', /ConfigMap ns-two\/a is labelled .* but has no ca\.crt/);
    const mixed = evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), {
      rules,
      state: stateOf(labelled('a', undefined), labelled('b', { 'ca.crt': certs.ca })),
    });
    assert.deepEqual(mixed.patch, [
      { op: 'add', path: '/spec/transport', value: { tls: { certificateAuthorities: { configMapName: 'b' } } } },
    ]);
  });

  test('an explicit configMapName is never replaced', () => {
    const d = evaluate(trusting('mine'), { rules, state: stateOf(caMap(certs.ca, 'mine'), labelled('other', { 'ca.crt': certs.ca })) });
    assert.deepEqual(d.patch, []);
    assert.deepEqual(d.findings, []);
  });
});
