/**
 * The kind list itself (src/kube/kinds.ts): each entry is the kind it is keyed
 * by, its schema decodes that kind only, lookups go by group and kind, and
 * the state's resources are the admitted kinds plus the core kinds it keeps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HANDLED_KINDS, KINDS, handledKind } from '../../../src/kube/kinds.js';
import { STATE_RESOURCES } from '../../../src/state/cluster-state.js';

describe('the kind list', () => {
  it('every kind has at least one group, each with at least one version, and groups once each', () => {
    for (const kind of HANDLED_KINDS) {
      const groups = KINDS[kind].groups;
      assert.ok(groups.length > 0, kind);
      assert.equal(new Set(groups.map((g) => g.group)).size, groups.length, `${kind}: a group listed twice`);
      for (const g of groups) assert.ok(g.versions.length > 0, `${kind} in ${g.group}`);
    }
  });

  for (const kind of HANDLED_KINDS) {
    it(`${kind}: keyed by its kind, its schema decodes that kind and no other`, () => {
      const info = KINDS[kind];
      assert.equal(info.kind, kind);
      const apiVersion = `${info.groups[0]!.group}/${info.groups[0]!.versions[0]!}`;
      assert.ok(info.schema.safeParse({ apiVersion, kind, metadata: { name: 'x' } }).success);
      assert.ok(!info.schema.safeParse({ apiVersion, kind: `${kind}X`, metadata: { name: 'x' } }).success);
    });
  }

  it('handledKind matches group and kind, any version, and nothing inherited', () => {
    assert.equal(handledKind('projectcalico.org', 'IPPool')?.kind, 'IPPool');
    assert.equal(handledKind('crd.projectcalico.org', 'RemoteClusterConfiguration')?.kind, 'RemoteClusterConfiguration');
    assert.equal(handledKind('elasticsearch.k8s.elastic.co', 'Elasticsearch')?.kind, 'Elasticsearch');
    assert.equal(handledKind('projectcalico.org', 'Elasticsearch'), undefined);
    assert.equal(handledKind('', 'IPPool'), undefined);
    assert.equal(handledKind('projectcalico.org', 'toString'), undefined);
    assert.equal(handledKind('projectcalico.org', '__proto__'), undefined);
  });

  it('the state keeps every admitted kind, then ConfigMaps and Secrets', () => {
    assert.deepEqual(STATE_RESOURCES, [...HANDLED_KINDS, 'ConfigMap', 'Secret']);
  });
});
