/**
 * es-ca-owner-reference and es-ca-copy-stale: the CA copies an Elasticsearch
 * trusts, through configMapName or a mounted Secret.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caCopyStaleRule } from '../../../../src/rules/elasticsearch/ca-copy-stale.js';
import { caOwnerReferenceRule } from '../../../../src/rules/elasticsearch/ca-owner-reference.js';
import type { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { evaluate, stateOf, summary, TEST_NOW } from '../../../helpers/engine.js';
import { makeEckTransportCa } from './certs.js';
import { configMap, es, fixtureObject, type Json } from './helpers.js';

const CM_FIELD = 'spec.transport.tls.certificateAuthorities.configMapName';
const MOUNT_FIELD = 'spec.nodeSets[0].config[xpack.security.transport.ssl.certificate_authorities][0]';
const oldCa = makeEckTransportCa(TEST_NOW, 'cluster-one', '0a');
const newCa = makeEckTransportCa(TEST_NOW, 'cluster-one', '0b');

/** cluster-one in ns-one, with its uid. */
const one = {
  ...es('ns-one', 'cluster-one', { version: '8.16.1' }),
  metadata: { name: 'cluster-one', namespace: 'ns-one', uid: 'uid-one' },
};
const ownerRef = (name = 'cluster-one', uid = 'uid-one') => ({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  name,
  uid,
  controller: true,
});

/** ConfigMap ns-two/remote-certs with `pem` under ca.crt and `meta` merged into its metadata. */
function copy(pem: string, meta: Json = {}): Json {
  const cm = configMap('ns-two', 'remote-certs', { 'ca.crt': pem });
  return { ...cm, metadata: { ...(cm['metadata'] as Json), ...meta } };
}

/** ECK's public transport Secret of cluster-one. */
function source(pem: string): Json {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cluster-one-es-transport-certs-public', namespace: 'ns-one', ownerReferences: [ownerRef()] },
    data: { 'ca.crt': Buffer.from(pem).toString('base64') },
  };
}

const trusting = es('ns-two', 'cluster-two', {
  version: '8.16.1',
  transport: { tls: { certificateAuthorities: { configMapName: 'remote-certs' } } },
});

/** cluster-two trusting Secret ns-two/remote-certs mounted as the docs do. */
const mounting = (() => {
  const two = structuredClone(fixtureObject('other-eck-ca.yaml', 'Elasticsearch', 'cluster-two'));
  (two['metadata'] as Json)['namespace'] = 'ns-two';
  return two;
})();
function secretCopy(pem: string, meta: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'remote-certs', namespace: 'ns-two', ...meta },
    data: { 'remote.ca.crt': Buffer.from(pem).toString('base64') },
  };
}

describe('es-ca-owner-reference', () => {
  const rules = [caOwnerReferenceRule];
  const run = (object: Json, state: MemoryClusterState) => evaluate(object, { rules, state });

  test('a copy without owner references, or owned by an Elasticsearch of its namespace, is allowed', () => {
    assert.deepEqual(run(trusting, stateOf(one, copy(newCa))).findings, []);
    const two = { ...trusting, metadata: { name: 'cluster-two', namespace: 'ns-two', uid: 'uid-two' } };
    const owned = copy(newCa, { ownerReferences: [ownerRef('cluster-two', 'uid-two')] });
    assert.deepEqual(run(two, stateOf(one, two, owned)).findings, []);
    const recreated = copy(newCa, { ownerReferences: [ownerRef('cluster-two', 'uid-before')] });
    assert.deepEqual(summary(run(two, stateOf(one, two, recreated))), [`es-ca-owner-reference deny ${CM_FIELD}`]);
  });

  test('a copy taken as-is from another namespace is denied: the garbage collector deletes it', () => {
    const d = run(trusting, stateOf(one, copy(newCa, { ownerReferences: [ownerRef()] })));
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), [`es-ca-owner-reference deny ${CM_FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /^ConfigMap ns-two\/remote-certs \(trusted through key ca\.crt of ConfigMap ns-two\/remote-certs\) has ownerReferences\[0\] to Elasticsearch ns-one\/cluster-one, in another namespace: owner references are namespace-local, so the garbage collector deletes the copy; remove metadata\.ownerReferences/,
    );
  });

  test('an owner that does not exist (or another uid) is denied', () => {
    const d = run(trusting, stateOf(copy(newCa, { ownerReferences: [ownerRef('gone', 'uid-gone')] })));
    assert.deepEqual(summary(d), [`es-ca-owner-reference deny ${CM_FIELD}`]);
    assert.match(d.findings[0]?.message ?? '', /Elasticsearch ns-two\/gone with uid uid-gone, which does not exist/);
  });

  test('a mounted Secret copied as-is is denied on its nodeSet field', () => {
    const d = run(mounting, stateOf(one, secretCopy(newCa, { ownerReferences: [ownerRef()] })));
    assert.deepEqual(summary(d), [`es-ca-owner-reference deny ${MOUNT_FIELD}`]);
    assert.match(d.findings[0]?.message ?? '', /^Secret ns-two\/remote-certs .* in another namespace/);
  });

  test('owner references to other kinds are not checked', () => {
    const other = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'copier', uid: 'u' };
    assert.deepEqual(run(trusting, stateOf(copy(newCa, { ownerReferences: [other] }))).findings, []);
    const both = copy(newCa, { ownerReferences: [other, ownerRef()] });
    assert.match(
      run(trusting, stateOf(one, both)).findings[0]?.message ?? '',
      /has ownerReferences\[1\] to Elasticsearch ns-one\/cluster-one/,
    );
  });
});

describe('es-ca-copy-stale', () => {
  const rules = [caCopyStaleRule];
  const run = (object: Json, state: MemoryClusterState) => evaluate(object, { rules, state });
  const annotated = { annotations: { 'remote-cluster-guard.io/ca-source': 'ns-one/cluster-one' } };

  test('an annotated copy holding the current ca.crt (with the old one beside it) is allowed', () => {
    assert.deepEqual(run(trusting, stateOf(one, source(newCa), copy(newCa, annotated))).findings, []);
    assert.deepEqual(run(trusting, stateOf(one, source(newCa), copy(oldCa + newCa, annotated))).findings, []);
    assert.deepEqual(summary(run(trusting, stateOf(one, source(oldCa + newCa), copy(newCa, annotated)))), [
      `es-ca-copy-stale warn ${CM_FIELD}`,
    ]);
  });

  test('an annotated copy without the current ca.crt is a stale copy: a warning', () => {
    const d = run(trusting, stateOf(one, source(newCa), copy(oldCa, annotated)));
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), [`es-ca-copy-stale warn ${CM_FIELD}`]);
    const m = d.findings[0]?.message ?? '';
    assert.match(
      m,
      /^key ca\.crt of ConfigMap ns-two\/remote-certs is a stale copy of the transport CA of Elasticsearch ns-one\/cluster-one: it lacks the current CN=cluster-one-transport, OU=cluster-one \(SHA-256 [0-9A-F:]{23}\.\.\., notAfter 2027-06-01T00:00:00\.000Z\) from ca\.crt of Secret ns-one\/cluster-one-es-transport-certs-public/,
    );
    assert.ok(!m.includes('BEGIN'), 'no certificate content in the message');
  });

  test('without the annotation, the ECK CA subject finds the source (best effort)', () => {
    assert.deepEqual(summary(run(trusting, stateOf(one, source(newCa), copy(oldCa)))), [`es-ca-copy-stale warn ${CM_FIELD}`]);
    assert.deepEqual(run(trusting, stateOf(one, source(newCa), copy(newCa))).findings, []);
    // Two clusters of that name: no guess.
    const twin = es('ns-three', 'cluster-one', { version: '8.16.1' });
    assert.deepEqual(run(trusting, stateOf(one, twin, source(newCa), copy(oldCa))).findings, []);
  });

  test('a mounted Secret copy is compared the same way', () => {
    const d = run(mounting, stateOf(one, source(newCa), secretCopy(oldCa, annotated)));
    assert.deepEqual(summary(d), [`es-ca-copy-stale warn ${MOUNT_FIELD}`]);
  });

  test('Secret reads not enabled: cannot verify, for an annotated copy only', () => {
    const state = stateOf(one, copy(oldCa, annotated));
    state.eck.unreadSecret = { status: 'unknown', reason: 'Secret reads not enabled (serve --read-ca-secrets)' };
    const d = run(trusting, state);
    assert.deepEqual(summary(d), [`es-ca-copy-stale warn ${CM_FIELD}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /^cannot verify that key ca\.crt of ConfigMap ns-two\/remote-certs is the current CA of ns-one\/cluster-one: Secret reads not enabled/,
    );
    const plain = stateOf(one, copy(oldCa));
    plain.eck.unreadSecret = { status: 'unknown', reason: 'Secret reads not enabled' };
    assert.deepEqual(run(trusting, plain).findings, []);
  });

  test('a malformed annotation or a source that does not exist: a warning', () => {
    const bad = run(trusting, stateOf(one, copy(oldCa, { annotations: { 'remote-cluster-guard.io/ca-source': 'cluster-one' } })));
    assert.match(
      bad.findings[0]?.message ?? '',
      /annotation remote-cluster-guard\.io\/ca-source is "cluster-one", not <namespace>\/<elasticsearch-name>/,
    );
    const gone = run(trusting, stateOf(one, copy(oldCa, annotated)));
    assert.match(gone.findings[0]?.message ?? '', /Secret ns-one\/cluster-one-es-transport-certs-public does not exist/);
  });
});
