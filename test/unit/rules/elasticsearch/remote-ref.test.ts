import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { elasticsearchRules } from '../../../../src/rules/elasticsearch/index.js';
import { REMOTE_REF_RULE, remoteRefRule } from '../../../../src/rules/elasticsearch/remote-ref.js';
import { evaluate, stateOf, summary } from '../../../helpers/engine.js';
import { API_KEY, es, of, ref } from './helpers.js';

const rules = [remoteRefRule];
const two = es('ns-two', 'cluster-two', { version: '8.16.1' });
const state = () => stateOf(two);
const one = (remoteClusters: unknown[]) => es('ns-one', 'cluster-one', { version: '8.16.1', remoteClusters });

describe('es-remote-ref', () => {
  test('allows a well-formed entry whose remote exists', () => {
    const d = evaluate(one([ref('cluster-two', 'cluster-two', 'ns-two', API_KEY)]), { rules, state: state() });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
  });

  test('denies a missing or empty name', () => {
    for (const entry of [{ elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } }, ref('', 'cluster-two', 'ns-two')]) {
      const d = evaluate(one([entry]), { rules, state: state() });
      assert.equal(d.allowed, false);
      assert.deepEqual(summary(d), ['es-remote-ref deny spec.remoteClusters[0].name']);
      assert.match(d.findings[0]?.message ?? '', /no name; set it to the alias/);
    }
  });

  for (const [alias, what] of [
    ['a:b', '":"'],
    ['logs*', '"\\*"'],
    ['a,b', '","'],
    ['a b', 'whitespace'],
    ['a\tb', 'whitespace'],
  ] as const) {
    test(`denies the alias ${JSON.stringify(alias)}`, () => {
      const d = evaluate(one([ref(alias, 'cluster-two', 'ns-two')]), { rules, state: state() });
      assert.deepEqual(summary(d), ['es-remote-ref deny spec.remoteClusters[0].name']);
      assert.match(d.findings[0]?.message ?? '', new RegExp(`contains ${what}.*rename it`));
    });
  }

  test('allows aliases with dashes, dots and underscores', () => {
    const d = evaluate(one([ref('cluster-two_eu.1', 'cluster-two', 'ns-two')]), { rules, state: state() });
    assert.deepEqual(d.findings, []);
  });

  test('denies a duplicated name on every entry ECK would drop, saying the last one wins', () => {
    const d = evaluate(
      one([
        ref('dup', 'cluster-two', 'ns-two'),
        ref('other', 'cluster-two', 'ns-two'),
        ref('dup', 'cluster-two', 'ns-two'),
        ref('dup', 'cluster-two', 'ns-two'),
      ]),
      { rules, state: state() },
    );
    assert.deepEqual(summary(d), ['es-remote-ref deny spec.remoteClusters[0].name', 'es-remote-ref deny spec.remoteClusters[2].name']);
    assert.match(d.findings[0]?.message ?? '', /"dup" is used again by entry 3 and ECK silently keeps only the last entry/);
  });

  test('denies an entry without elasticsearchRef or its name', () => {
    for (const entry of [{ name: 'x' }, { name: 'x', elasticsearchRef: {} }, { name: 'x', elasticsearchRef: { name: '' } }]) {
      const d = evaluate(one([entry]), { rules, state: state() });
      assert.deepEqual(summary(d), ['es-remote-ref deny spec.remoteClusters[0].elasticsearchRef.name']);
      assert.match(d.findings[0]?.message ?? '', /ECK would silently skip this remote cluster/);
    }
  });

  test('denies namespace or serviceName without name', () => {
    const d = evaluate(
      one([
        { name: 'x', elasticsearchRef: { namespace: 'ns-two' } },
        { name: 'y', elasticsearchRef: { serviceName: 'svc', namespace: 'ns-two' } },
      ]),
      { rules, state: state() },
    );
    assert.deepEqual(summary(d), [
      'es-remote-ref deny spec.remoteClusters[0].elasticsearchRef.name',
      'es-remote-ref deny spec.remoteClusters[1].elasticsearchRef.name',
    ]);
    assert.match(d.findings[0]?.message ?? '', /sets namespace but no name/);
    assert.match(d.findings[1]?.message ?? '', /sets namespace and serviceName but no name/);
  });

  test('denies a reference to itself, with or without the namespace', () => {
    for (const entry of [ref('me', 'cluster-one', 'ns-one'), ref('me', 'cluster-one')]) {
      const d = evaluate(one([entry]), { rules, state: state() });
      assert.deepEqual(summary(d), ['es-remote-ref deny spec.remoteClusters[0].elasticsearchRef']);
      assert.match(d.findings[0]?.message ?? '', /references ns-one\/cluster-one itself/);
    }
  });

  test('denies a self-reference after namespace defaulting by the full rule list', () => {
    const d = evaluate(one([ref('me', 'cluster-one')]), { rules: elasticsearchRules, state: state() });
    assert.ok(summary(d).includes('es-remote-ref deny spec.remoteClusters[0].elasticsearchRef'));
  });

  test('the same name in another namespace is not a self-reference; warns when it does not exist', () => {
    const d = evaluate(one([ref('other', 'cluster-one', 'ns-three')]), { rules, state: state() });
    assert.equal(d.allowed, true);
    assert.deepEqual(summary(d), ['es-remote-ref warn spec.remoteClusters[0].elasticsearchRef']);
    assert.match(d.findings[0]?.message ?? '', /Elasticsearch ns-three\/cluster-one was not found, so ECK waits until it exists/);
  });

  test('resolves an omitted ref namespace to the object namespace when looking the remote up', () => {
    const d = evaluate(one([ref('two', 'cluster-two')]), { rules, state: state() });
    assert.match(of(d, REMOTE_REF_RULE)[0]?.message ?? '', /ns-one\/cluster-two was not found/);
    const same = evaluate(one([ref('two', 'cluster-two')]), { rules, state: stateOf(es('ns-one', 'cluster-two', { version: '8.16.1' })) });
    assert.deepEqual(same.findings, []);
  });

  test('does not warn about a missing remote before the state has synced', () => {
    const s = stateOf();
    s.setSynced('Elasticsearch', false);
    const d = evaluate(one([ref('two', 'cluster-two', 'ns-two')]), { rules, state: s });
    assert.deepEqual(d.findings, []);
  });

  test('denies apiKey nested under elasticsearchRef', () => {
    const d = evaluate(
      one([
        { name: 'two', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two', apiKey: { access: { search: { names: ['*'] } } } } },
      ]),
      { rules, state: state() },
    );
    assert.deepEqual(summary(d), ['es-remote-ref deny spec.remoteClusters[0].elasticsearchRef.apiKey']);
    assert.match(d.findings[0]?.message ?? '', /ECK ignores it here.*move apiKey up one level, beside elasticsearchRef/);
  });

  test('denies apiKey without access, and access granting nothing', () => {
    const d = evaluate(
      one([ref('a', 'cluster-two', 'ns-two', { apiKey: {} }), ref('b', 'cluster-two', 'ns-two', { apiKey: { access: {} } })]),
      { rules, state: state() },
    );
    assert.deepEqual(summary(d), [
      'es-remote-ref deny spec.remoteClusters[0].apiKey',
      'es-remote-ref deny spec.remoteClusters[1].apiKey.access',
    ]);
    assert.match(d.findings[0]?.message ?? '', /apiKey has no access/);
    assert.match(d.findings[1]?.message ?? '', /neither search nor replication/);
  });

  test('allows replication-only access', () => {
    const d = evaluate(one([ref('a', 'cluster-two', 'ns-two', { apiKey: { access: { replication: { names: ['x'] } } } })]), {
      rules,
      state: state(),
    });
    assert.deepEqual(d.findings, []);
  });

  test('an object without remoteClusters has nothing to check', () => {
    assert.deepEqual(evaluate(es('ns-one', 'cluster-one', { version: '8.16.1' }), { rules }).findings, []);
  });
});
