/**
 * The memory state's per-resource store table (src/state/memory/kind-stores.ts):
 * every resource it keeps is stored, counted, listed (admitted kinds) and
 * removed through its entry, and only namespaced kinds get the default
 * namespace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LICENSE_SCOPE_LABEL } from '../../../src/kube/elasticsearch.js';
import { STATE_RESOURCES, type StateResource } from '../../../src/state/cluster-state.js';
import { MemoryClusterState } from '../../../src/state/memory-state.js';

/** A minimal object of each resource, without a namespace. */
const OBJECTS: Record<StateResource, Record<string, unknown>> = {
  Elasticsearch: { apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', metadata: { name: 'es' } },
  IPPool: { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.0.0.0/16' } },
  RemoteClusterConfiguration: { apiVersion: 'crd.projectcalico.org/v1', kind: 'RemoteClusterConfiguration', metadata: { name: 'rcc' } },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } },
  Secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'licence', labels: { [LICENSE_SCOPE_LABEL]: 'operator' } } },
};
const NAMESPACED: readonly StateResource[] = ['Elasticsearch', 'ConfigMap', 'Secret'];

describe('memory state store table', () => {
  for (const resource of STATE_RESOURCES) {
    it(`${resource}: stored, counted and removed`, () => {
      const state = new MemoryClusterState();
      assert.deepEqual(state.apply(structuredClone(OBJECTS[resource]), 'ns'), { status: 'stored', resource });
      assert.equal(state.counts()[resource], 1);
      const namespace = NAMESPACED.includes(resource) ? 'ns' : '';
      state.remove(resource, { namespace, name: (OBJECTS[resource].metadata as { name: string }).name });
      assert.equal(state.counts()[resource], 0);
    });
  }

  it('namespaced kinds get the default namespace, cluster-scoped ones none', () => {
    const state = new MemoryClusterState();
    for (const o of Object.values(OBJECTS)) state.apply(structuredClone(o), 'ns');
    assert.equal(state.getElasticsearch({ namespace: 'ns', name: 'es' })?.metadata.namespace, 'ns');
    assert.equal(state.getConfigMap({ namespace: 'ns', name: 'cm' })?.metadata.namespace, 'ns');
    assert.equal(state.getIPPool('pool')?.metadata.namespace, undefined);
    assert.equal(state.getRemoteClusterConfiguration('rcc')?.metadata.namespace, undefined);
  });

  it('objects() lists the admitted kinds in the kind list order, not the core kinds', () => {
    const state = new MemoryClusterState();
    for (const o of Object.values(OBJECTS).reverse()) state.apply(structuredClone(o), 'ns');
    assert.deepEqual(
      [...state.objects()].map((o) => o.kind),
      ['Elasticsearch', 'IPPool', 'RemoteClusterConfiguration'],
    );
  });

  it('an unlabelled Secret is kept as CA summaries only (no data), an undecodable object reported', () => {
    const state = new MemoryClusterState();
    const data = { 'ca.crt': Buffer.from('not a certificate').toString('base64') };
    assert.deepEqual(state.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data }), {
      status: 'stored',
      resource: 'Secret',
    });
    assert.deepEqual(state.secretsWithLabel('ns', 'x', 'y'), []);
    const lookup = state.getCaSecret({ namespace: 'default', name: 's' });
    assert.equal(lookup.status, 'found');
    assert.ok(!JSON.stringify(lookup).includes(data['ca.crt']));
    assert.deepEqual(lookup.status === 'found' && lookup.secret.keys, { 'ca.crt': { certificates: [], problems: [] } });
    const r = state.apply({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 7 } });
    assert.equal(r.status, 'invalid');
  });
});

describe('Elasticsearch uid and name indexes', () => {
  it('follow replacement and deletion', () => {
    const state = new MemoryClusterState();
    const es = (namespace: string, uid: string) => ({
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      metadata: { name: 'cluster-one', namespace, uid },
    });
    state.apply(es('ns-one', 'u1'));
    state.apply(es('ns-two', 'u2'));
    assert.equal(state.elasticsearchByUid('u1')?.metadata.namespace, 'ns-one');
    assert.deepEqual(
      state.elasticsearchesNamed('cluster-one').map((e) => e.metadata.namespace),
      ['ns-one', 'ns-two'],
    );
    // Recreated: a new uid, the old one gone.
    state.apply(es('ns-one', 'u3'));
    assert.equal(state.elasticsearchByUid('u1'), undefined);
    assert.equal(state.elasticsearchByUid('u3')?.metadata.namespace, 'ns-one');
    state.remove('Elasticsearch', { namespace: 'ns-one', name: 'cluster-one' });
    state.remove('Elasticsearch', { namespace: 'ns-two', name: 'cluster-one' });
    assert.equal(state.elasticsearchByUid('u3'), undefined);
    assert.deepEqual(state.elasticsearchesNamed('cluster-one'), []);
  });
});
