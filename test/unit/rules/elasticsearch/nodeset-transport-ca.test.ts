import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nodeSetTransportCaRule } from '../../../../src/rules/elasticsearch/nodeset-transport-ca.js';
import { elasticsearchRules } from '../../../../src/rules/elasticsearch/index.js';
import type { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { evaluate, stateOf, summary, TEST_NOW } from '../../../helpers/engine.js';
import { makeCerts } from './certs.js';
import { configMap, edit, es, fixture, fixtureObject, type Json } from './helpers.js';

const rules = [nodeSetTransportCaRule];
const certs = makeCerts(TEST_NOW);
const RULE = 'es-nodeset-transport-ca';
const SETTING = 'xpack.security.transport.ssl.certificate_authorities';
const F = `spec.nodeSets[0].config[${SETTING}]`;
const OTHER = '/usr/share/elasticsearch/config/other';

function secret(name: string, data: Record<string, string>, namespace = 'ns-two'): Json {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data: encoded };
}

/** The docs' pod template: volume `remote-certs` (a Secret unless `volume` says otherwise) mounted at config/other. */
function pod(volume: Json = { secret: { secretName: 'remote-certs' } }, mount: Json = {}): Json {
  return {
    containers: [{ name: 'elasticsearch', volumeMounts: [{ mountPath: OTHER, name: 'remote-certs', ...mount }] }],
    volumes: [{ name: 'remote-certs', ...volume }],
  };
}

function cluster(setting: unknown, podSpec: Json | undefined = pod(), extra: Json = {}): Json {
  const nodeSet: Json = { name: 'default', count: 3, config: { [SETTING]: setting } };
  if (podSpec) nodeSet['podTemplate'] = { spec: podSpec };
  return es('ns-two', 'cluster-two', { version: '8.16.1', nodeSets: [nodeSet], ...extra });
}

const remoteCerts = (pem = certs.ca) => secret('remote-certs', { 'remote.ca.crt': pem });
const check = (object: Json, state: MemoryClusterState = stateOf(remoteCerts())) => evaluate(object, { rules, state });

function unreadable(...objects: Json[]): MemoryClusterState {
  const state = stateOf(...objects);
  state.eck.unreadSecret = { status: 'unknown', reason: 'Secret reads not enabled (serve --read-ca-secrets)' };
  return state;
}

describe('es-nodeset-transport-ca: the documents', () => {
  test("the ECK docs' Secret mounted at config/other is allowed, through every Elasticsearch rule; denied without the Secret", () => {
    const docs = fixture('other-eck-ca.yaml');
    const two = fixtureObject('other-eck-ca.yaml', 'Elasticsearch', 'cluster-two');
    const d = evaluate(two, { rules: elasticsearchRules, state: stateOf(...docs), namespace: 'default' });
    assert.deepEqual(d.findings, []);
    assert.equal(d.allowed, true);
    const without = evaluate(two, { rules, state: stateOf(), namespace: 'default' });
    assert.deepEqual(summary(without), [`${RULE} deny ${F}[0]`]);
    assert.match(
      without.findings[0]?.message ?? '',
      /CA file \/usr\/share\/elasticsearch\/config\/other\/remote.ca.crt will not exist: Secret default\/remote-certs was not found; Elasticsearch nodes do not start without it/,
    );
  });
});

describe('es-nodeset-transport-ca: the setting', () => {
  test('no setting, or a nodeSet without config: nothing to check', () => {
    assert.deepEqual(check(es('ns-two', 'c', { nodeSets: [{ name: 'default', count: 1 }] })).findings, []);
    assert.deepEqual(check(cluster(undefined)).findings, []);
    assert.deepEqual(summary(check(cluster('other/none.crt'))), [`${RULE} deny ${F}`]);
  });

  test('a string is a comma-separated list; relative paths resolve against the config directory', () => {
    const state = stateOf(secret('remote-certs', { 'a.crt': certs.ca, 'b.crt': certs.ca }));
    assert.deepEqual(check(cluster('other/a.crt, ./other/b.crt', pod()), state).findings, []);
    const d = check(cluster('other/a.crt,other/c.crt'), state);
    assert.deepEqual(summary(d), [`${RULE} deny ${F}`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /CA file other\/c\.crt will not exist: Secret ns-two\/remote-certs has no key c\.crt \(it has a\.crt, b\.crt\)/,
    );
  });

  test('nested and mixed spellings of the setting are read', () => {
    const nested = edit(cluster(undefined), (o) => {
      const ns = ((o['spec'] as Json)['nodeSets'] as Json[])[0]!;
      ns['config'] = { xpack: { security: { 'transport.ssl': { certificate_authorities: [`${OTHER}/missing.crt`] } } } };
    });
    const d = check(nested);
    assert.deepEqual(summary(d), [`${RULE} deny spec.nodeSets[0].config.xpack.security[transport.ssl].certificate_authorities[0]`]);
  });

  test('a value that is not a path: cannot verify, a warning', () => {
    const d = check(cluster([`${OTHER}/remote.ca.crt`, 7]));
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), [`${RULE} warn ${F}[1]`]);
    assert.match(d.findings[0]?.message ?? '', /^cannot verify the trusted CA files: entry 1 is a number, not a path$/);
    assert.deepEqual(summary(check(cluster({ a: 1 }))), [`${RULE} warn ${F}`]);
  });

  test("'..' in a path: cannot verify (resolved through the volume's symlinks), never a denial", () => {
    const d = check(cluster([`${OTHER}/../other/remote.ca.crt`]));
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), [`${RULE} warn ${F}[0]`]);
    assert.match(d.findings[0]?.message ?? '', /cannot verify .* has a '\.\.' segment/);
  });

  test("ECK's own CA files are accepted as they are", () => {
    assert.deepEqual(
      check(cluster(['transport-certs/ca.crt', '/usr/share/elasticsearch/config/transport-remote-certs/ca.crt'], undefined)).findings,
      [],
    );
    const other = check(cluster(['transport-certs/tls.crt'], undefined));
    assert.deepEqual(summary(other), [`${RULE} warn ${F}[0]`]);
    assert.match(other.findings[0]?.message ?? '', /is in a volume ECK mounts/);
  });
});

describe('es-nodeset-transport-ca: mounts', () => {
  test('a path outside every mount, in the config directory of the stock image: denied', () => {
    const d = check(cluster([`/usr/share/elasticsearch/config/elsewhere/remote.ca.crt`]));
    assert.deepEqual(summary(d), [`${RULE} deny ${F}[0]`]);
    assert.match(
      d.findings[0]?.message ?? '',
      /no volume of the elasticsearch container is mounted at \/usr\/share\/elasticsearch\/config\/elsewhere\/remote\.ca\.crt or above it/,
    );
  });

  test('outside every mount with a custom image, or outside the config directory: cannot verify', () => {
    const custom = check(cluster(['elsewhere/remote.ca.crt'], pod(), { image: 'registry.example/es:8.16.1-ca' }));
    assert.deepEqual(summary(custom), [`${RULE} warn ${F}[0]`]);
    assert.match(custom.findings[0]?.message ?? '', /image registry\.example\/es:8\.16\.1-ca may ship it/);
    assert.deepEqual(summary(check(cluster(['/etc/pki/tls/certs/ca-bundle.crt']))), [`${RULE} warn ${F}[0]`]);
  });

  test('items remapping: the file is the item path, and a key not listed is not there', () => {
    const items = pod({ secret: { secretName: 'remote-certs', items: [{ key: 'remote.ca.crt', path: 'pem/ca.pem' }] } });
    assert.deepEqual(check(cluster([`${OTHER}/pem/ca.pem`], items)).findings, []);
    const d = check(cluster([`${OTHER}/remote.ca.crt`], items));
    assert.deepEqual(summary(d), [`${RULE} deny ${F}[0]`]);
    assert.match(d.findings[0]?.message ?? '', /volume remote-certs projects only pem\/ca\.pem \(its items\), not remote\.ca\.crt/);
  });

  test('without items a Secret volume has no sub-directories', () => {
    const d = check(cluster([`${OTHER}/pem/remote.ca.crt`]));
    assert.deepEqual(summary(d), [`${RULE} deny ${F}[0]`]);
    assert.match(d.findings[0]?.message ?? '', /has files only at its top level/);
  });

  test('a subPath mount names the key as a file', () => {
    const file = '/usr/share/elasticsearch/config/remote-ca.pem';
    const sub = (key: string) => ({
      containers: [{ name: 'elasticsearch', volumeMounts: [{ mountPath: file, name: 'remote-certs', subPath: key }] }],
      volumes: [{ name: 'remote-certs', secret: { secretName: 'remote-certs' } }],
    });
    assert.deepEqual(check(cluster([file], sub('remote.ca.crt'))).findings, []);
    assert.deepEqual(summary(check(cluster([file], sub('other.crt')))), [`${RULE} deny ${F}[0]`]);
  });

  test('only the elasticsearch container counts', () => {
    const sidecar = edit(pod(), (p) => ((p['containers'] as Json[])[0]!['name'] = 'sidecar'));
    assert.deepEqual(summary(check(cluster([`${OTHER}/remote.ca.crt`], sidecar))), [`${RULE} deny ${F}[0]`]);
  });

  test('a ConfigMap volume is read like the Secret', () => {
    const cmPod = pod({ configMap: { name: 'remote-certs' } });
    const state = stateOf(configMap('ns-two', 'remote-certs', { 'remote.ca.crt': certs.ca }));
    assert.deepEqual(check(cluster([`${OTHER}/remote.ca.crt`], cmPod), state).findings, []);
    const d = check(cluster([`${OTHER}/remote.ca.crt`], cmPod), stateOf());
    assert.deepEqual(summary(d), [`${RULE} deny ${F}[0]`]);
    assert.match(d.findings[0]?.message ?? '', /ConfigMap ns-two\/remote-certs was not found/);
  });

  test('a projected volume: the source that has the key; none: denied; an unreadable Secret: cannot verify', () => {
    const projected = pod({ projected: { sources: [{ configMap: { name: 'trust' } }, { secret: { name: 'remote-certs' } }] } });
    const trust = configMap('ns-two', 'trust', { 'trust.yml': 'trust.subject_name: "*.es.local"' });
    assert.deepEqual(check(cluster([`${OTHER}/remote.ca.crt`], projected), stateOf(trust, remoteCerts())).findings, []);
    const none = check(cluster([`${OTHER}/remote.ca.crt`], projected), stateOf(trust, secret('remote-certs', { 'x.crt': certs.ca })));
    assert.deepEqual(summary(none), [`${RULE} deny ${F}[0]`]);
    const unknown = check(cluster([`${OTHER}/remote.ca.crt`], projected), unreadable(trust));
    assert.deepEqual(summary(unknown), [`${RULE} warn ${F}[0]`]);
    assert.match(unknown.findings[0]?.message ?? '', /cannot verify CA file .*: Secret ns-two\/remote-certs: Secret reads not enabled/);
    const token = pod({ projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } });
    assert.deepEqual(summary(check(cluster([`${OTHER}/remote.ca.crt`], token))), [`${RULE} warn ${F}[0]`]);
  });

  test('other volume types and subPathExpr: cannot verify', () => {
    assert.deepEqual(summary(check(cluster([`${OTHER}/remote.ca.crt`], pod({ emptyDir: {} })))), [`${RULE} warn ${F}[0]`]);
    assert.deepEqual(summary(check(cluster([`${OTHER}/remote.ca.crt`], pod(undefined, { subPathExpr: '$(POD_NAME)' })))), [
      `${RULE} warn ${F}[0]`,
    ]);
  });

  test('a Secret that may not be read: cannot verify, a warning; one that is absent: denied', () => {
    const d = check(cluster([`${OTHER}/remote.ca.crt`]), unreadable());
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), [`${RULE} warn ${F}[0]`]);
    const absent = unreadable();
    absent.eck.markSecretMissing({ namespace: 'ns-two', name: 'remote-certs' });
    assert.deepEqual(summary(check(cluster([`${OTHER}/remote.ca.crt`]), absent)), [`${RULE} deny ${F}[0]`]);
  });
});

describe('es-nodeset-transport-ca: content', () => {
  const at = (pem: string) => check(cluster([`${OTHER}/remote.ca.crt`]), stateOf(remoteCerts(pem)));

  test('text between PEM blocks is ignored, as Elasticsearch ignores it', () => {
    assert.deepEqual(at(`subject=CN=test\n${certs.ca}\n# rotated\n${certs.ca}trailing`).findings, []);
    assert.deepEqual(summary(at(`subject=CN=test\n${certs.ca}\n# node\n${certs.leaf}trailing`)), [`${RULE} deny ${F}[0]`]);
  });

  test('a node certificate, an expired CA, no certificate: denied', () => {
    assert.deepEqual(summary(at(certs.leaf)), [`${RULE} deny ${F}[0]`]);
    assert.match(
      at(certs.leaf).findings[0]?.message ?? '',
      /certificate 1 \(CN=node-0\.test\) in CA file .* \(key remote\.ca\.crt of Secret ns-two\/remote-certs\) is not a CA/,
    );
    assert.deepEqual(summary(at(certs.expiredCa)), [`${RULE} deny ${F}[0]`]);
    assert.deepEqual(summary(at('hello')), [`${RULE} deny ${F}[0]`]);
  });

  test('a private key block beside the CA, a CA expiring soon: warnings', () => {
    assert.deepEqual(summary(at(certs.ca + certs.keyPem)), [`${RULE} warn ${F}[0]`]);
    assert.match(
      at(certs.ca + certs.keyPem).findings[0]?.message ?? '',
      /^cannot verify that Elasticsearch accepts CA file .*: block 2 is a RSA PRIVATE KEY block, not a CERTIFICATE; keep only CA certificates there$/,
    );
    assert.deepEqual(summary(at(certs.expiringCa)), [`${RULE} warn ${F}[0]`]);
  });
});
