import assert from 'node:assert/strict';
import { DEFAULT_POLICY } from '../../../../src/config/policy.js';
import { describe, test } from 'node:test';
import { enterpriseLicenseRule } from '../../../../src/rules/elasticsearch/enterprise-license.js';
import { evaluate, stateOf, summary, TEST_NOW } from '../../../helpers/engine.js';
import { es, licensing, ref, type Json } from './helpers.js';

const rules = [enterpriseLicenseRule];
const one = es('ns-one', 'cluster-one', { version: '8.16.1', remoteClusters: [ref('two', 'cluster-two', 'ns-two')] });
const DAY = 24 * 60 * 60 * 1000;
const at = (days: number) => TEST_NOW.getTime() + days * DAY;

interface SecretOpts {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function secret(o: SecretOpts): Json {
  const metadata: Json = {
    name: o.name ?? 'eck-license',
    namespace: o.namespace ?? 'elastic-system',
    labels: o.labels ?? { 'license.k8s.elastic.co/scope': 'operator' },
  };
  if (o.annotations) metadata['annotations'] = o.annotations;
  if (o.creationTimestamp) metadata['creationTimestamp'] = o.creationTimestamp;
  const s: Json = { apiVersion: 'v1', kind: 'Secret', metadata };
  if (o.data) s['data'] = o.data;
  if (o.stringData) s['stringData'] = o.stringData;
  return s;
}

function licenseJson(type: string, start: number, expiry: number): string {
  return JSON.stringify({
    license: {
      uid: 'abc',
      type,
      issue_date_in_millis: start,
      start_date_in_millis: start,
      expiry_date_in_millis: expiry,
      max_resource_units: 1,
      issued_to: 'test',
      issuer: 'test',
      signature: 'SIGNATURE-SECRET-CONTENT',
    },
  });
}

function licenseSecret(type: string, startDays: number, expiryDays: number, o: SecretOpts = {}): Json {
  return secret({ ...o, data: { license: Buffer.from(licenseJson(type, at(startDays), at(expiryDays))).toString('base64') } });
}

describe('es-enterprise-license: the ECK ConfigMap', () => {
  for (const level of ['enterprise', 'enterprise_trial', 'enterprise-trial']) {
    test(`allows remoteClusters with level ${level} in force`, () => {
      const d = evaluate(one, { rules, state: stateOf(licensing(level, '2030-01-01T00:00:00Z')) });
      assert.equal(d.allowed, true);
      assert.deepEqual(d.findings, []);
    });
  }

  test('an object without remoteClusters needs no licence', () => {
    assert.deepEqual(evaluate(es('ns-two', 'cluster-two', { version: '8.16.1' }), { rules }).findings, []);
    assert.deepEqual(evaluate(es('ns-two', 'cluster-two', { version: '8.16.1', remoteClusters: [] }), { rules }).findings, []);
  });

  test('denies with level basic, naming the level, the ConfigMap and the Secret label looked for', () => {
    const d = evaluate(one, { rules, state: stateOf(licensing('basic')) });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), ['es-enterprise-license deny spec.remoteClusters']);
    const m = d.findings[0]?.message ?? '';
    assert.match(m, /, but ECK reports licence level basic \(ConfigMap elastic-system\/elastic-licensing\)/);
    assert.match(m, /no Secret labelled license\.k8s\.elastic\.co\/scope=operator in elastic-system/);
    assert.match(m, /need an Enterprise or Enterprise trial licence and ECK silently ignores them/);
  });

  test('denies an expired enterprise level, naming the expiry', () => {
    const d = evaluate(one, { rules, state: stateOf(licensing('enterprise', '2026-05-01T00:00:00Z')) });
    assert.equal(d.allowed, false);
    assert.match(d.findings[0]?.message ?? '', /ECK reports licence level enterprise that expired on 2026-05-01T00:00:00\.000Z/);
  });

  test('an enterprise level without a readable expiry is not proof', () => {
    const none = evaluate(one, { rules, state: stateOf(licensing('enterprise')) });
    assert.match(none.findings[0]?.message ?? '', /level enterprise with no expiry date/);
    const bad = evaluate(one, { rules, state: stateOf(licensing('enterprise', 'next year')) });
    assert.match(bad.findings[0]?.message ?? '', /expiry date that is not RFC 3339/);
  });

  test('denies when there is no licence information at all, saying what was looked for', () => {
    const d = evaluate(one, { rules, state: stateOf() });
    assert.equal(d.allowed, false);
    const m = d.findings[0]?.message ?? '';
    assert.match(
      m,
      /there is no ConfigMap elastic-system\/elastic-licensing and no Secret labelled license\.k8s\.elastic\.co\/scope=operator in elastic-system/,
    );
  });

  test('reads the configured operator namespace', () => {
    const state = stateOf(licensing('enterprise', '2030-01-01T00:00:00Z', 'eck'));
    assert.equal(evaluate(one, { rules, state, operatorNamespace: 'eck' }).allowed, true);
    const d = evaluate(one, { rules, state });
    assert.match(d.findings[0]?.message ?? '', /no ConfigMap elastic-system\/elastic-licensing/);
  });

  test('answers "cannot verify yet" while the live state has not synced the licence Secrets', () => {
    const state = stateOf();
    state.setSynced('Secret', false);
    const d = evaluate(one, { rules, state });
    assert.equal(d.allowed, false);
    assert.match(d.findings[0]?.message ?? '', /cannot verify yet: the webhook is still reading Secrets from the cluster/);
    assert.equal(evaluate(one, { rules, state, policy: { ...DEFAULT_POLICY, unsynced: 'warn' } }).allowed, true);
  });
});

describe('es-enterprise-license: licence Secrets', () => {
  test('allows with a warning on a valid enterprise Secret when ECK reports basic', () => {
    const d = evaluate(one, { rules, state: stateOf(licensing('basic'), licenseSecret('enterprise', -10, 300)) });
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), ['es-enterprise-license warn spec.remoteClusters']);
    const m = d.findings[0]?.message ?? '';
    assert.match(m, /accepted on the enterprise licence in Secret elastic-system\/eck-license \(valid until 2027-03-28\)/);
    assert.match(m, /signature only the ECK operator can verify/);
    assert.match(m, /ECK reports licence level basic \(ConfigMap elastic-system\/elastic-licensing\)/);
    assert.doesNotMatch(m, /SIGNATURE-SECRET-CONTENT/);
  });

  test('accepts stringData, and says when the ConfigMap is missing', () => {
    const d = evaluate(one, { rules, state: stateOf(secret({ stringData: { lic: licenseJson('enterprise_trial', at(-1), at(20)) } })) });
    assert.equal(d.allowed, true);
    assert.match(
      d.findings[0]?.message ?? '',
      /enterprise_trial licence in Secret elastic-system\/eck-license.*ECK has not published ConfigMap elastic-system\/elastic-licensing yet/,
    );
  });

  test('names the longest-lasting valid Secret', () => {
    const d = evaluate(one, {
      rules,
      state: stateOf(licenseSecret('enterprise', -10, 30, { name: 'a' }), licenseSecret('enterprise', -10, 900, { name: 'b' })),
    });
    assert.match(d.findings[0]?.message ?? '', /Secret elastic-system\/b/);
  });

  const rejected: [string, Json, RegExp][] = [
    ['expired', licenseSecret('enterprise', -400, -1), /its enterprise licence expired on 2026-05-31T00:00:00\.000Z/],
    ['not started', licenseSecret('enterprise', 3, 300), /only starts on 2026-06-04/],
    ['of another type', licenseSecret('platinum', -1, 300), /licence type "platinum" is not enterprise or enterprise_trial/],
    [
      'malformed JSON',
      secret({ data: { license: Buffer.from('{"license": SIGNATURE-SECRET-CONTENT').toString('base64') } }),
      /its data is not valid JSON/,
    ],
    [
      'missing fields',
      secret({ stringData: { license: JSON.stringify({ license: { type: 'enterprise', signature: 'SIGNATURE-SECRET-CONTENT' } }) } }),
      /wrong types for license\.start_date_in_millis, license\.expiry_date_in_millis/,
    ],
    ['with two keys', secret({ stringData: { a: '{}', b: '{}' } }), /has 2 data keys where ECK expects exactly one/],
    ['empty', secret({}), /it has no data/],
    ['with dates out of range', secret({ stringData: { l: licenseJson('enterprise', -1e300, 1e300) } }), /dates are out of range/],
  ];
  for (const [what, s, reason] of rejected) {
    test(`denies with a licence Secret ${what}, giving the reason but no content`, () => {
      const d = evaluate(one, { rules, state: stateOf(licensing('basic'), s) });
      assert.equal(d.allowed, false);
      assert.deepEqual(summary(d), ['es-enterprise-license deny spec.remoteClusters']);
      const m = d.findings[0]?.message ?? '';
      assert.match(m, /Secret elastic-system\/eck-license was ignored because/);
      assert.match(m, reason);
      assert.doesNotMatch(m, /SIGNATURE-SECRET-CONTENT/);
    });
  }

  test('ignores licence Secrets outside the operator namespace', () => {
    const d = evaluate(one, { rules, state: stateOf(licenseSecret('enterprise', -1, 300, { namespace: 'ns-one' })) });
    assert.equal(d.allowed, false);
  });
});

describe('es-enterprise-license: trial Secrets', () => {
  const trial = (o: SecretOpts) =>
    secret({
      name: 'eck-trial-license',
      labels: { 'license.k8s.elastic.co/type': 'enterprise_trial' },
      annotations: { 'elastic.co/eula': 'accepted' },
      ...o,
    });

  test('allows a trial started 10 days ago, with a warning', () => {
    const d = evaluate(one, { rules, state: stateOf(licensing('basic'), trial({ creationTimestamp: new Date(at(-10)).toISOString() })) });
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), ['es-enterprise-license warn spec.remoteClusters']);
    assert.match(
      d.findings[0]?.message ?? '',
      /the enterprise trial Secret elastic-system\/eck-trial-license \(30 days from 2026-05-22, until 2026-06-21\).*only the ECK operator can verify/,
    );
  });

  test('allows a trial being created (no creationTimestamp)', () => {
    assert.equal(evaluate(one, { rules, state: stateOf(trial({})) }).allowed, true);
  });

  test('uses the licence the operator wrote into the trial Secret', () => {
    const s = trial({
      creationTimestamp: new Date(at(-100)).toISOString(),
      stringData: { license: licenseJson('enterprise_trial', at(-2), at(28)) },
    });
    const d = evaluate(one, { rules, state: stateOf(s) });
    assert.equal(d.allowed, true);
    assert.match(d.findings[0]?.message ?? '', /enterprise trial in Secret elastic-system\/eck-trial-license \(valid until 2026-06-29\)/);
  });

  test('denies a trial older than 30 days', () => {
    const d = evaluate(one, { rules, state: stateOf(trial({ creationTimestamp: new Date(at(-40)).toISOString() })) });
    assert.equal(d.allowed, false);
    assert.match(d.findings[0]?.message ?? '', /30-day trial started 2026-04-22T00:00:00\.000Z ended on 2026-05-22T00:00:00\.000Z/);
  });

  test('denies a trial Secret without the EULA annotation', () => {
    const d = evaluate(one, {
      rules,
      state: stateOf(secret({ name: 'eck-trial-license', labels: { 'license.k8s.elastic.co/type': 'enterprise_trial' } })),
    });
    assert.equal(d.allowed, false);
    assert.match(d.findings[0]?.message ?? '', /trial Secret without the annotation elastic\.co\/eula: accepted/);
  });
});
