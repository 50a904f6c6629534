import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCertificate, inspectPemBundle } from '../../../src/certs/pem-bundle.js';
import { TEST_NOW } from '../../helpers/engine.js';
import { makeCerts } from '../rules/elasticsearch/certs.js';
import { fixtureObject } from '../rules/elasticsearch/helpers.js';

const certs = makeCerts(TEST_NOW);

describe('inspectPemBundle', () => {
  test('reads a CA: subject, CA flag, validity', () => {
    const r = inspectPemBundle(certs.ca);
    assert.deepEqual(r.problems, []);
    assert.equal(r.certificates.length, 1);
    const c = r.certificates[0];
    assert.equal(c?.index, 1);
    assert.equal(c?.subject, 'CN=test-transport-ca');
    assert.equal(c?.isCa, true);
    assert.equal(c?.notAfter.toISOString(), new Date(TEST_NOW.getTime() + 3650 * 86400000).toISOString());
    assert.equal(c && describeCertificate(c), 'certificate 1 (CN=test-transport-ca)');
  });

  test('a leaf is not a CA', () => {
    assert.equal(inspectPemBundle(certs.leaf).certificates[0]?.isCa, false);
  });

  test('reads every certificate of a bundle, in order', () => {
    const r = inspectPemBundle(`${certs.ca}\n${certs.expiredCa}${certs.expiringCa}`);
    assert.deepEqual(
      r.certificates.map((c) => [c.index, c.subject]),
      [
        [1, 'CN=test-transport-ca'],
        [2, 'CN=expired-ca'],
        [3, 'CN=expiring-ca'],
      ],
    );
    assert.ok((r.certificates[1]?.notAfter ?? TEST_NOW) < TEST_NOW);
  });

  test('reports a non-certificate block without its content', () => {
    const r = inspectPemBundle(`${certs.ca}${certs.keyPem}`);
    assert.equal(r.certificates.length, 1);
    assert.deepEqual(r.problems, [{ index: 2, kind: 'not-certificate', detail: 'it is a RSA PRIVATE KEY block, not a CERTIFICATE' }]);
  });

  test('reports a CERTIFICATE block that is not a certificate, and keeps going', () => {
    const junk = '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n';
    const r = inspectPemBundle(junk + certs.ca);
    assert.deepEqual(r.problems, [{ index: 1, kind: 'unparseable', detail: 'it is not a valid X.509 certificate' }]);
    assert.equal(r.certificates[0]?.index, 2);
  });

  test('reports malformed PEM and a block without END', () => {
    const r = inspectPemBundle('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAAAA\n');
    assert.deepEqual(
      r.problems.map((p) => [p.index, p.kind]),
      [
        [1, 'unparseable'],
        [0, 'unparseable'],
      ],
    );
    assert.match(r.problems[1]?.detail ?? '', /BEGIN line without a matching END/);
  });

  test('text without PEM blocks has neither certificates nor problems', () => {
    assert.deepEqual(inspectPemBundle('not a certificate'), { certificates: [], problems: [] });
    assert.deepEqual(inspectPemBundle(''), { certificates: [], problems: [] });
  });

  test('reads the committed docs-example fixture CA (valid 2025-01-01 to 2035-01-01)', () => {
    const cm = fixtureObject('external-ca.yaml', 'ConfigMap', 'remote-certs') as { data: Record<string, string> };
    const r = inspectPemBundle(cm.data['ca.crt'] ?? '');
    assert.deepEqual(r.problems, []);
    assert.equal(r.certificates[0]?.isCa, true);
    assert.equal(r.certificates[0]?.subject, 'CN=cluster-one-transport, OU=cluster-one');
    assert.equal(r.certificates[0]?.notAfter.toISOString(), '2035-01-01T00:00:00.000Z');
  });
});
