/**
 * fieldPosition: the line and column of a finding's field in the manifest file,
 * from the YAML or JSON syntax tree, for SARIF, GitHub annotations and JSON output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldPath, parseFieldPath } from '../../../src/common/field-path.js';
import { fieldPosition, parseJsonManifest, parseManifests, type ManifestDocument } from '../../../src/state/manifests.js';

const at = (d: ManifestDocument, field: string) => {
  const p = fieldPosition(d, field);
  return `${p.line}:${p.column}`;
};

const multi = `apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
# the second document
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: second
  labels:
    remote-cluster-guard.io/remote-cluster: x
spec:
  version: 8
  remoteClusters:
    - name: one
      elasticsearchRef:
        name: two
  nodeSets: [{name: default, count: 1}]
`;

describe('parseFieldPath', () => {
  it('splits dotted and bracketed segments, inverse of fieldPath', () => {
    assert.deepEqual(parseFieldPath('spec.remoteClusters[0].elasticsearchRef'), ['spec', 'remoteClusters', '0', 'elasticsearchRef']);
    assert.deepEqual(parseFieldPath('metadata.labels[remote-cluster-guard.io/remote-cluster]'), [
      'metadata',
      'labels',
      'remote-cluster-guard.io/remote-cluster',
    ]);
    assert.deepEqual(parseFieldPath(''), []);
    for (const segments of [
      ['a', 0, 'b.c', 'd'],
      ['x', 'y/z', 3, 4],
    ]) {
      assert.deepEqual(parseFieldPath(fieldPath(segments)), segments.map(String));
    }
  });
});

describe('fieldPosition', () => {
  const docs = parseManifests(multi, 'multi.yaml');
  const es = docs[1]!;

  it('points at the key of the field in the second document of a multi-document YAML file', () => {
    assert.equal(es.line, 6);
    assert.equal(at(es, 'spec.version'), '13:3');
    assert.equal(at(es, 'spec.remoteClusters[0].elasticsearchRef'), '16:7');
    assert.equal(at(es, 'spec.remoteClusters[0].elasticsearchRef.name'), '17:9');
    assert.equal(at(es, 'spec.remoteClusters[0]'), '15:7', 'a list item: the item itself');
    assert.equal(at(es, 'spec.nodeSets[0].count'), '18:30', 'flow style');
    assert.equal(at(docs[0]!, 'metadata.name'), '3:12');
  });

  it('finds bracketed keys (labels, annotations)', () => {
    assert.equal(at(es, 'metadata.labels[remote-cluster-guard.io/remote-cluster]'), '11:5');
  });

  it('gives the nearest written parent for a field that is not written, the document for the whole object', () => {
    assert.equal(at(es, 'spec.remoteClusterServer.enabled'), '12:1');
    assert.equal(at(es, 'spec.remoteClusters[4].name'), '14:3');
    assert.equal(at(es, 'spec.version.major'), '13:3', 'below a scalar');
    assert.equal(at(es, ''), '6:1');
  });

  it('locates within an item of a kind: List (YAML)', () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: A
    metadata: {name: a}
  - apiVersion: v1
    kind: B
    spec:
      x: 1
`;
    const [a, b] = parseManifests(list, 'list.yaml');
    assert.equal(at(a!, ''), '4:5');
    assert.equal(at(b!, 'spec.x'), '10:7');
    assert.equal(at(b!, 'spec.missing'), '9:5');
    assert.equal(at(b!, 'items'), '7:5', 'paths are relative to the item, not the List');
  });

  it('locates in JSON, a single object and the items of a List', () => {
    const one = '{\n  "kind": "A",\n  "spec": {"remoteClusters": [{"name": "x"}, {"name": "y"}]}\n}\n';
    const [d] = parseJsonManifest(one, 'one.json')!;
    assert.equal(at(d!, 'spec.remoteClusters[1].name'), '3:47');
    assert.equal(at(d!, 'spec.remoteClusters[1]'), '3:46');
    assert.equal(at(d!, 'spec.nope'), '3:3');
    assert.equal(at(d!, ''), '1:1');
    const list = JSON.stringify({ kind: 'List', items: [{ kind: 'A' }, { kind: 'B', metadata: { labels: { 'a/b': 'c' } } }] }, null, 2);
    const [, b] = parseJsonManifest(list, 'list.json')!;
    assert.equal(at(b!, ''), `${b!.line}:5`);
    assert.equal(at(b!, 'metadata.labels[a/b]'), '11:11');
  });

  it('JSON read through the YAML path (not a .json name) locates as well', () => {
    const [d] = parseManifests('{"kind": "A",\n "spec": {"version": 8}}', 'stdin');
    assert.equal(at(d!, 'spec.version'), '2:11');
  });

  it('keeps the documents plain data', () => {
    assert.deepEqual(Object.keys(es), ['file', 'line', 'object']);
    assert.doesNotThrow(() => JSON.stringify(docs));
  });
});
