/**
 * The Calico Enterprise "Configuring remote clusters" examples and the typical local pools, as fixtures: allowed by
 * every Calico rule, in both API groups, on CREATE and on UPDATE.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateOf } from '../../../helpers/engine.js';
import { assertAllowed, fixture, GROUPS, inGroup, run } from './_helpers.js';

const [rccEtcd] = fixture('calico-docs-rcc-etcd.yaml');
const [rccK8s] = fixture('calico-docs-rcc-kubernetes.yaml');
const [federationPool] = fixture('calico-docs-federation-pool.yaml');
const [local4] = fixture('local-pool-ipv4.yaml');
const [local6] = fixture('local-pool-ipv6.yaml');
const example = fixture('federation-example.yaml');

describe('fixtures', () => {
  it('transcribe the Calico docs examples', () => {
    assert.equal(rccEtcd?.metadata?.name, 'cluster-n');
    assert.deepEqual(rccEtcd?.spec, {
      datastoreType: 'etcdv3',
      etcdEndpoints: 'https://10.0.0.1:2379,https://10.0.0.2:2379',
      kubeconfig: '/etc/tigera-federation-remotecluster/kubeconfig-rem-cluster-n',
    });
    assert.deepEqual(rccK8s?.spec, {
      datastoreType: 'kubernetes',
      kubeconfig: '/etc/tigera-federation-remotecluster/kubeconfig-rem-cluster-n',
    });
    assert.deepEqual(federationPool?.spec, { cidr: '192.168.0.0/18', disabled: true });
    assert.equal(example.length, 5);
  });

  for (const g of GROUPS) {
    describe(g, () => {
      const state = () => stateOf(inGroup(local4, g), inGroup(local6, g), inGroup(federationPool, g));

      it('allows the docs etcdv3 RemoteClusterConfiguration', () => {
        assertAllowed(run(inGroup(rccEtcd, g), { state: state() }));
        assertAllowed(run(inGroup(rccEtcd, g)));
      });

      it('allows the docs kubernetes RemoteClusterConfiguration', () => {
        assertAllowed(run(inGroup(rccK8s, g), { state: state() }));
      });

      it('allows the docs disabled pool cluster1-main-pool 192.168.0.0/18', () => {
        assertAllowed(run(inGroup(federationPool, g), { state: stateOf(inGroup(local4, g), inGroup(local6, g)) }));
      });

      it('allows typical enabled local pools, IPv4 with VXLAN and IPv6', () => {
        assertAllowed(run(inGroup(local4, g), { state: stateOf(inGroup(local6, g), inGroup(federationPool, g)) }));
        assertAllowed(run(inGroup(local6, g), { state: stateOf(inGroup(local4, g), inGroup(federationPool, g)) }));
      });

      it('allows every object of a federated cluster on CREATE and UPDATE', () => {
        const docs = example.map((d) => inGroup(d, g));
        for (const [i, doc] of docs.entries()) {
          const others = stateOf(...docs.filter((_, j) => j !== i));
          const d = run(doc, { state: others });
          assertAllowed(d);
          assert.deepEqual(d.findings, [], `${doc.metadata?.name}: no warnings either`);
          assertAllowed(run(doc, { state: stateOf(...docs), oldObject: doc }));
        }
      });
    });
  }
});
