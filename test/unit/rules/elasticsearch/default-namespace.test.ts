import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultNamespaceRule } from '../../../../src/rules/elasticsearch/default-namespace.js';
import { evaluate } from '../../../helpers/engine.js';
import { applied, es, ref } from './helpers.js';

const rules = [defaultNamespaceRule];

describe('es-default-namespace', () => {
  test('fills an omitted ref namespace with the object namespace', () => {
    const o = es('ns-one', 'cluster-one', { version: '8.16.1', remoteClusters: [ref('two', 'cluster-two')] });
    const d = evaluate(o, { rules, phase: 'mutate' });
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusters/0/elasticsearchRef/namespace', value: 'ns-one' }]);
    const again = evaluate(applied(o, d.patch), { rules, phase: 'mutate' });
    assert.deepEqual(again.patch, [], 'idempotent');
  });

  test('leaves explicit namespaces and entries without a ref name alone', () => {
    const o = es('ns-one', 'cluster-one', {
      remoteClusters: [ref('a', 'a', 'ns-a'), { name: 'b' }, { name: 'c', elasticsearchRef: { namespace: 'x' } }, ref('d', 'd')],
    });
    const d = evaluate(o, { rules, phase: 'mutate' });
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusters/3/elasticsearchRef/namespace', value: 'ns-one' }]);
  });

  test('replaces an empty-string namespace', () => {
    const o = es('ns-one', 'cluster-one', { remoteClusters: [ref('two', 'cluster-two', '')] });
    const d = evaluate(o, { rules, phase: 'mutate' });
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusters/0/elasticsearchRef/namespace', value: 'ns-one' }]);
    assert.equal(
      (applied(o, d.patch)['spec'] as { remoteClusters: { elasticsearchRef: { namespace: string } }[] }).remoteClusters[0]?.elasticsearchRef
        .namespace,
      'ns-one',
    );
  });

  test('uses the request namespace when metadata.namespace is missing', () => {
    const o = es(undefined, 'cluster-one', { remoteClusters: [ref('two', 'cluster-two')] });
    const d = evaluate(o, { rules, phase: 'mutate', namespace: 'team-a' });
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/remoteClusters/0/elasticsearchRef/namespace', value: 'team-a' }]);
  });

  test('no remoteClusters, no spec: no patch', () => {
    assert.deepEqual(evaluate(es('ns-one', 'c', { version: '8.16.1' }), { rules }).patch, []);
    assert.deepEqual(evaluate(es('ns-one', 'c', undefined), { rules }).patch, []);
  });
});
