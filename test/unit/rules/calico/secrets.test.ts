/**
 * Secret values never reach a finding message: a sentinel string in every
 * secret field (RCC_SECRET_FIELDS), in valid and invalid configurations, in
 * both API groups, through every Calico rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RCC_SECRET_FIELDS } from '../../../../src/kube/calico.js';
import { stateOf } from '../../../helpers/engine.js';
import { GROUPS, pool, rcc, run } from './_helpers.js';

const SENTINEL = 'S3NTINEL-d0-not-leak';
const secrets = Object.fromEntries(RCC_SECRET_FIELDS.map((f) => [f, `${SENTINEL}-${f}`]));
const DIR = '/etc/tigera-federation-remotecluster';

/** Specs that carry every secret field and trip as many checks as possible. */
const SPECS: [string, Record<string, unknown>][] = [
  [
    'a valid etcdv3 configuration',
    {
      datastoreType: 'etcdv3',
      etcdEndpoints: 'https://10.0.0.1:2379',
      etcdUsername: 'calico',
      k8sAPIEndpoint: 'https://10.0.0.1:6443',
      ...secrets,
    },
  ],
  ['a kubernetes datastore (every etcd secret is forbidden)', { datastoreType: 'kubernetes', ...secrets }],
  [
    'clusterAccessSecret (every secret field must be empty)',
    { clusterAccessSecret: { name: 's', namespace: 'calico-system' }, ...secrets },
  ],
  ['no datastoreType', { ...secrets }],
  ['an unknown datastoreType', { datastoreType: 'consul', ...secrets }],
  [
    'half key pairs and bad endpoints',
    { datastoreType: 'etcdv3', etcdEndpoints: 'nope', k8sAPIEndpoint: 'nope', k8sKeyFile: `${DIR}/k`, etcdKeyFile: 'rel', ...secrets },
  ],
  [
    'credentials in endpoint URLs and content pasted into path fields',
    {
      datastoreType: 'etcdv3',
      etcdEndpoints: `https://root:${SENTINEL}@10.0.0.1:2379`,
      k8sAPIEndpoint: `https://admin:${SENTINEL}@10.0.0.1:6443`,
      kubeconfig: `apiVersion: v1\nusers:\n- user:\n    token: ${SENTINEL}`,
      k8sCAFile: `-----BEGIN CERTIFICATE-----${SENTINEL}`,
      etcdKeyFile: `-----BEGIN PRIVATE KEY-----${SENTINEL}`,
      etcdCertFile: `${SENTINEL}`,
      etcdCACertFile: `${SENTINEL}`,
      k8sKeyFile: `${SENTINEL}`,
      k8sCertFile: `${SENTINEL}`,
    },
  ],
];

for (const g of GROUPS) {
  describe(`secret fields (${g})`, () => {
    const state = () =>
      stateOf(
        pool(g, 'local', { cidr: '10.244.0.0/16', vxlanMode: 'Always' }),
        rcc(g, 'cluster-n', { datastoreType: 'kubernetes', kubeconfig: `${DIR}/k`, ...secrets }),
      );

    it('covers the inline and token fields', () => {
      assert.deepEqual([...RCC_SECRET_FIELDS].sort(), [
        'etcdCACert',
        'etcdCert',
        'etcdKey',
        'etcdPassword',
        'k8sAPIToken',
        'kubeconfigInline',
      ]);
    });

    for (const [name, spec] of SPECS) {
      it(`never appear in a message: ${name}`, () => {
        for (const object of [rcc(g, 'cluster-n', spec), rcc(g, 'cluster-n', { ...spec, syncOptions: { overlayRoutingMode: 'bogus' } })]) {
          for (const opts of [{}, { oldObject: rcc(g, 'cluster-n', { ...spec, datastoreType: 'etcdv3' }) }]) {
            const d = run(object, { state: state(), ...opts });
            assert.ok(d.findings.length > 0 || name.startsWith('a valid'), 'the case exercises some check');
            for (const f of d.findings) {
              assert.ok(!f.message.includes(SENTINEL), `${f.rule} ${f.field}: ${f.message}`);
              assert.ok(!f.field.includes(SENTINEL));
            }
            assert.ok(!JSON.stringify(d.patch).includes(SENTINEL), 'patches add no secret either');
          }
        }
      });
    }
  });
}
