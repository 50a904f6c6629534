import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fjp from 'fast-json-patch';
import { Elasticsearch } from '../../../../src/kube/elasticsearch.js';
import { addWithParents, declaredVersions, referrersOf, remoteEntries } from '../../../../src/rules/elasticsearch/common.js';
import { stateOf } from '../../../helpers/engine.js';
import { API_KEY, es, ref } from './helpers.js';

const SEGMENTS = ['spec', 'transport', 'tls', 'certificateAuthorities', 'configMapName'];

describe('addWithParents', () => {
  const cases: [string, unknown, { path: string; value: unknown }][] = [
    ['no spec', {}, { path: '/spec', value: { transport: { tls: { certificateAuthorities: { configMapName: 'x' } } } } }],
    ['empty spec', { spec: {} }, { path: '/spec/transport', value: { tls: { certificateAuthorities: { configMapName: 'x' } } } }],
    [
      'transport.tls present',
      { spec: { transport: { tls: {} } } },
      { path: '/spec/transport/tls/certificateAuthorities', value: { configMapName: 'x' } },
    ],
    [
      'all parents present',
      { spec: { transport: { tls: { certificateAuthorities: {} } } } },
      { path: '/spec/transport/tls/certificateAuthorities/configMapName', value: 'x' },
    ],
  ];
  for (const [what, root, expected] of cases) {
    test(`${what}: adds at the deepest existing parent`, () => {
      const op = addWithParents(root, SEGMENTS, 'x');
      assert.deepEqual(op, { op: 'add', ...expected });
      const out = fjp.applyPatch(structuredClone(root), [op], true, false).newDocument as {
        spec: { transport: { tls: { certificateAuthorities: { configMapName: string } } } };
      };
      assert.equal(out.spec.transport.tls.certificateAuthorities.configMapName, 'x');
    });
  }
});

describe('reference helpers', () => {
  test('remoteEntries resolves omitted namespaces and leaves nameless refs unresolved', () => {
    const o = Elasticsearch.parse(es('ns-one', 'c', { remoteClusters: [ref('a', 'a'), ref('b', 'b', 'ns-b'), { name: 'c' }] }));
    assert.deepEqual(
      remoteEntries(o, 'ns-one').map((e) => e.target),
      [{ namespace: 'ns-one', name: 'a' }, { namespace: 'ns-b', name: 'b' }, undefined],
    );
  });

  test('referrersOf lists other clusters and their matching entries, never the cluster itself', () => {
    const state = stateOf(
      es('ns-one', 'one', { remoteClusters: [ref('x', 'two', 'ns-two'), ref('y', 'other', 'ns-two'), ref('z', 'two', 'ns-two', API_KEY)] }),
      es('ns-two', 'two', { remoteClusters: [ref('self', 'two')] }),
    );
    const r = referrersOf(state, { namespace: 'ns-two', name: 'two' });
    assert.deepEqual(
      r.map((x) => [x.key, x.entries.map((e) => e.index)]),
      [[{ namespace: 'ns-one', name: 'one' }, [0, 2]]],
    );
  });

  test('declaredVersions: spec, then a differing status', () => {
    const v = (spec?: string, status?: string) =>
      declaredVersions(Elasticsearch.parse(es('n', 'c', spec ? { version: spec } : {}, status ? { version: status } : undefined))).map(
        (d) => `${d.source}:${d.raw}:${d.parsed ? 'ok' : 'bad'}`,
      );
    assert.deepEqual(v('8.16.1'), ['spec:8.16.1:ok']);
    assert.deepEqual(v('8.16.1', '8.16.1'), ['spec:8.16.1:ok']);
    assert.deepEqual(v('8.17.0', '8.16.1'), ['spec:8.17.0:ok', 'status:8.16.1:ok']);
    assert.deepEqual(v(undefined, 'x'), ['status:x:bad']);
  });
});
