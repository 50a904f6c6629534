import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { remoteVersionRule } from '../../../../src/rules/elasticsearch/remote-version.js';
import { evaluate, stateOf, summary } from '../../../helpers/engine.js';
import { es, ref } from './helpers.js';

const rules = [remoteVersionRule];
const one = (version: string | undefined, status?: string) =>
  es(
    'ns-one',
    'cluster-one',
    { ...(version === undefined ? {} : { version }), remoteClusters: [ref('two', 'cluster-two', 'ns-two')] },
    status ? { version: status } : undefined,
  );
const two = (version: string | undefined, status?: string) =>
  es('ns-two', 'cluster-two', version === undefined ? {} : { version }, status ? { version: status } : undefined);

describe('es-remote-version: this cluster as the local side', () => {
  test('allows a compatible pair', () => {
    const d = evaluate(one('8.16.1'), { rules, state: stateOf(two('8.17.0')) });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
  });

  test('denies 9.0 → 8.19, naming the remote, both versions and the reachable range', () => {
    const d = evaluate(one('9.0.1'), { rules, state: stateOf(two('8.19.2')) });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), ['es-remote-version deny spec.remoteClusters[0]']);
    const m = d.findings[0]?.message ?? '';
    assert.match(m, /this cluster at 9\.0\.1 cannot connect to remote ns-two\/cluster-two at 8\.19\.2/);
    assert.match(m, /reaches remote 8\.18 and 9\.0 or any later 9\.x only/);
    assert.doesNotMatch(m, /spec\.remoteClusters\[0\]/);
  });

  test('also checks the running status.version of a remote being upgraded', () => {
    const d = evaluate(one('8.17.0'), { rules, state: stateOf(two('8.18.0', '8.15.3')) });
    assert.deepEqual(summary(d), ['es-remote-version deny spec.remoteClusters[0]']);
    assert.match(d.findings[0]?.message ?? '', /at 8\.15\.3 \(running, upgrade in progress\)/);
  });

  test('a status.version equal to spec.version is checked once', () => {
    const d = evaluate(one('9.1.0'), { rules, state: stateOf(two('8.19.0', '8.19.0')) });
    assert.equal(d.findings.length, 1);
  });

  test('compares major.minor only: pre-release and patch do not matter', () => {
    const d = evaluate(one('8.16.1-SNAPSHOT'), { rules, state: stateOf(two('8.15.0')) });
    assert.deepEqual(d.findings, []);
  });

  test('warns for a pair outside the table (ECK 1.2 docs: 7.8.1 → 7.8.1)', () => {
    const d = evaluate(one('7.8.1'), { rules, state: stateOf(two('7.8.1')) });
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), ['es-remote-version warn spec.remoteClusters[0]']);
    assert.match(d.findings[0]?.message ?? '', /7\.8\.1 .*7\.8\.1 are outside Elastic's compatibility table/);
  });

  test('warns for a major beyond 9', () => {
    const d = evaluate(one('10.0.0'), { rules, state: stateOf(two('9.3.0')) });
    assert.deepEqual(summary(d), ['es-remote-version warn spec.remoteClusters[0]']);
  });

  test('warns when the remote version does not parse, and skips remotes not in the state', () => {
    const d = evaluate(one('8.16.1'), { rules, state: stateOf(two('latest')) });
    assert.deepEqual(summary(d), ['es-remote-version warn spec.remoteClusters[0]']);
    assert.match(d.findings[0]?.message ?? '', /ns-two\/cluster-two has version "latest", which does not parse/);
    assert.deepEqual(evaluate(one('8.16.1'), { rules, state: stateOf() }).findings, []);
  });

  test('denies a missing or unparseable spec.version on an object with remoteClusters', () => {
    const missing = evaluate(one(undefined), { rules, state: stateOf(two('8.16.1')) });
    assert.deepEqual(summary(missing), ['es-remote-version deny spec.version']);
    assert.match(missing.findings[0]?.message ?? '', /version is not set.*set it to a version such as 8\.16\.1/);
    const bad = evaluate(one('eight'), { rules, state: stateOf(two('8.16.1')) });
    assert.match(bad.findings[0]?.message ?? '', /is "eight", which is not a version/);
  });

  test("a missing version without remoteClusters is not this rule's concern", () => {
    assert.deepEqual(evaluate(two(undefined), { rules }).findings, []);
  });
});

describe('es-remote-version: this cluster as the remote of others', () => {
  const referrer = one('8.18.2');

  test('denies a version a referrer cannot reach, naming the referrer and its version', () => {
    const d = evaluate(two('9.1.0'), { rules, state: stateOf(referrer) });
    assert.equal(d.allowed, false);
    assert.deepEqual(summary(d), ['es-remote-version deny spec.version']);
    const m = d.findings[0]?.message ?? '';
    assert.match(m, /Elasticsearch ns-one\/cluster-one \(remote cluster alias two\) at 8\.18\.2 cannot connect to this cluster at 9\.1\.0/);
    assert.match(m, /reaches remote 8\.17 to 8\.19 and 9\.0 only/);
  });

  test('allows a version every referrer reaches', () => {
    assert.deepEqual(evaluate(two('9.0.0'), { rules, state: stateOf(referrer) }).findings, []);
  });

  test('denies on an UPDATE that changes the version', () => {
    const d = evaluate(two('9.1.0'), { rules, state: stateOf(referrer), oldObject: two('9.0.0') });
    assert.deepEqual(summary(d), ['es-remote-version deny spec.version']);
  });

  test('only warns on an UPDATE that keeps the version', () => {
    const d = evaluate(two('9.1.0'), { rules, state: stateOf(referrer), oldObject: two('9.1.0') });
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), ['es-remote-version warn spec.version']);
  });

  test("checks the referrer's running version during its upgrade", () => {
    const upgrading = one('8.19.0', '8.18.0');
    const d = evaluate(two('9.2.0'), { rules, state: stateOf(upgrading) });
    assert.deepEqual(summary(d), ['es-remote-version deny spec.version']);
    assert.match(d.findings[0]?.message ?? '', /at 8\.18\.0 \(running, upgrade in progress\)/);
  });

  test('a referrer with an omitted ref namespace in the same namespace counts', () => {
    const sameNs = es('ns-two', 'cluster-one', { version: '8.17.0', remoteClusters: [ref('two', 'cluster-two')] });
    const d = evaluate(two('9.0.0'), { rules, state: stateOf(sameNs) });
    assert.deepEqual(summary(d), ['es-remote-version deny spec.version']);
    assert.match(d.findings[0]?.message ?? '', /ns-two\/cluster-one/);
  });
});
