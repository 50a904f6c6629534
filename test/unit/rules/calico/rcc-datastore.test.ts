import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ETCD_FIELDS, RCC_DATASTORE_RULE } from '../../../../src/rules/calico/rcc-datastore.js';
import { assertAllowed, assertDenied, assertNoFindings, assertWarned, findingsOf, GROUPS, rcc, run } from './_helpers.js';

const R = RCC_DATASTORE_RULE;
const DIR = '/etc/tigera-federation-remotecluster';
const KUBECONFIG = `${DIR}/kubeconfig-rem-cluster-n`;
const ETCD = { datastoreType: 'etcdv3', etcdEndpoints: 'https://10.0.0.1:2379,https://10.0.0.2:2379', kubeconfig: KUBECONFIG };
const K8S = { datastoreType: 'kubernetes', kubeconfig: KUBECONFIG };
const SECRET_REF = { name: 'remote-cluster-n', namespace: 'calico-system' };

/** A value for each etcd field, for "no etcd field with kubernetes". */
const ETCD_VALUES: Record<(typeof ETCD_FIELDS)[number], string> = {
  etcdEndpoints: 'https://10.0.0.1:2379',
  etcdUsername: 'calico',
  etcdPassword: 'pw',
  etcdKeyFile: `${DIR}/etcd-key`,
  etcdCertFile: `${DIR}/etcd-cert`,
  etcdCACertFile: `${DIR}/etcd-ca`,
  etcdKey: 'key',
  etcdCert: 'cert',
  etcdCACert: 'ca',
};

for (const g of GROUPS) {
  describe(`${R} (${g})`, () => {
    const check = (spec: Record<string, unknown> | undefined) => run(rcc(g, 'cluster-n', spec));

    describe('allows', () => {
      const allowed: [string, Record<string, unknown>][] = [
        ['the docs etcdv3 configuration', ETCD],
        ['the docs kubernetes configuration', K8S],
        [
          'kubernetes with k8sAPIEndpoint and a token',
          { datastoreType: 'kubernetes', k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sAPIToken: 'tok' },
        ],
        [
          'kubernetes with k8sAPIEndpoint, client key and certificate, and a CA',
          {
            datastoreType: 'kubernetes',
            k8sAPIEndpoint: 'https://api.remote.example:6443',
            k8sKeyFile: `${DIR}/k.pem`,
            k8sCertFile: `${DIR}/c.pem`,
            k8sCAFile: `${DIR}/ca.pem`,
          },
        ],
        ['kubernetes with kubeconfigInline', { datastoreType: 'kubernetes', kubeconfigInline: 'apiVersion: v1\nkind: Config\n' }],
        [
          'etcdv3 with etcd TLS files, user and the k8s* fields',
          {
            datastoreType: 'etcdv3',
            etcdEndpoints: 'https://10.0.0.1:2379',
            etcdUsername: 'calico',
            etcdPassword: 'pw',
            etcdKeyFile: `${DIR}/etcd-key`,
            etcdCertFile: `${DIR}/etcd-cert`,
            etcdCACertFile: `${DIR}/etcd-ca`,
            k8sAPIEndpoint: 'https://10.0.0.1:6443',
            k8sAPIToken: 'tok',
          },
        ],
        ['etcdv3 with inline etcd key, certificate and CA', { ...ETCD, etcdKey: 'k', etcdCert: 'c', etcdCACert: 'ca' }],
        ['clusterAccessSecret alone', { clusterAccessSecret: SECRET_REF }],
        [
          'clusterAccessSecret with kind Secret, apiVersion and syncOptions',
          {
            clusterAccessSecret: { ...SECRET_REF, kind: 'Secret', apiVersion: 'v1' },
            syncOptions: { overlayRoutingMode: 'Enabled' },
            k8sInsecureSkipTLSVerify: false,
          },
        ],
      ];
      for (const [name, spec] of allowed) {
        it(name, () => {
          const d = check(spec);
          assertAllowed(d);
          assertNoFindings(d, R);
        });
      }
    });

    describe('with clusterAccessSecret', () => {
      it('denies every other connection field, one finding each', () => {
        const d = check({ clusterAccessSecret: SECRET_REF, ...ETCD, k8sInsecureSkipTLSVerify: true, k8sAPIToken: 't' });
        for (const f of ['datastoreType', 'etcdEndpoints', 'kubeconfig', 'k8sInsecureSkipTLSVerify', 'k8sAPIToken']) {
          assertDenied(d, R, `spec.${f}`, 'must be empty when clusterAccessSecret is set');
        }
        assert.equal(findingsOf(d, R).length, 5, 'nothing else (no datastore checks on top)');
      });

      it('denies a reference without name or namespace, or of another kind', () => {
        assertDenied(
          check({ clusterAccessSecret: { namespace: 'calico-system' } }),
          R,
          'spec.clusterAccessSecret.name',
          'name of the Secret',
        );
        assertDenied(check({ clusterAccessSecret: { name: 'x' } }), R, 'spec.clusterAccessSecret.namespace', 'cluster-scoped');
        assertDenied(check({ clusterAccessSecret: {} }), R, 'spec.clusterAccessSecret.namespace');
        assertDenied(
          check({ clusterAccessSecret: { ...SECRET_REF, kind: 'ConfigMap' } }),
          R,
          'spec.clusterAccessSecret.kind',
          '"ConfigMap"',
          'Secret',
        );
      });
    });

    describe('datastoreType', () => {
      it('is required without clusterAccessSecret', () => {
        assertDenied(check({}), R, 'spec.datastoreType', 'etcdv3 or kubernetes', 'clusterAccessSecret');
        assertDenied(check(undefined), R, 'spec.datastoreType');
        assertDenied(check({ kubeconfig: KUBECONFIG }), R, 'spec.datastoreType');
      });

      it('is etcdv3 or kubernetes', () => {
        for (const t of ['etcd', 'Kubernetes', 'etcdv2'])
          assertDenied(check({ ...K8S, datastoreType: t }), R, 'spec.datastoreType', JSON.stringify(t));
      });
    });

    describe('etcdv3', () => {
      it('needs etcdEndpoints', () => {
        const { etcdEndpoints: _, ...rest } = ETCD;
        assertDenied(check(rest), R, 'spec.etcdEndpoints', 'required with datastoreType etcdv3');
      });

      it('also needs kubeconfig or the k8s* fields (Calico Enterprise docs)', () => {
        const d = check({ datastoreType: 'etcdv3', etcdEndpoints: 'https://10.0.0.1:2379' });
        assertDenied(
          d,
          R,
          'spec.kubeconfig',
          'etcdv3 remote cluster also needs access to its Kubernetes API',
          'kubeconfigInline',
          'k8sAPIToken',
        );
      });
    });

    describe('kubernetes', () => {
      it('needs kubeconfig or the k8s* fields', () => {
        assertDenied(check({ datastoreType: 'kubernetes' }), R, 'spec.kubeconfig', 'remote Kubernetes API');
        assertDenied(check({ datastoreType: 'kubernetes', k8sCAFile: `${DIR}/ca` }), R, 'spec.kubeconfig', 'remote Kubernetes API');
      });

      it('denies every etcd field, etcdUsername included (Calico forgets that one)', () => {
        for (const [f, v] of Object.entries(ETCD_VALUES)) {
          assertDenied(check({ ...K8S, [f]: v }), R, `spec.${f}`, 'etcd setting', 'etcdv3');
        }
        const d = check({ ...K8S, etcdUsername: 'calico' });
        assert.equal(findingsOf(d, R).length, 1);
      });

      it('ignores empty etcd fields (omitempty)', () => {
        assertAllowed(check({ ...K8S, etcdUsername: '', etcdEndpoints: '' }));
      });
    });

    describe('the k8s* fields without kubeconfig', () => {
      it('need k8sAPIEndpoint', () => {
        assertDenied(
          check({ datastoreType: 'kubernetes', k8sAPIToken: 't' }),
          R,
          'spec.k8sAPIEndpoint',
          'required when the k8s* fields are used without kubeconfig',
        );
      });

      it('need a credential: a token, or a key and a certificate', () => {
        assertDenied(
          check({ datastoreType: 'kubernetes', k8sAPIEndpoint: 'https://10.0.0.1:6443' }),
          R,
          'spec.k8sAPIToken',
          'needs a credential',
        );
        assertDenied(
          check({ datastoreType: 'kubernetes', k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sKeyFile: `${DIR}/k` }),
          R,
          'spec.k8sCertFile',
          'k8sKeyFile is set without',
        );
        assertDenied(
          check({ datastoreType: 'kubernetes', k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sCertFile: `${DIR}/c` }),
          R,
          'spec.k8sKeyFile',
          'k8sCertFile is set without',
        );
      });

      it('deny a half key pair even next to kubeconfig, for etcd too', () => {
        assertDenied(check({ ...K8S, k8sKeyFile: `${DIR}/k` }), R, 'spec.k8sCertFile');
        assertDenied(check({ ...ETCD, etcdKeyFile: `${DIR}/k` }), R, 'spec.etcdCertFile', 'etcdCert');
        assertDenied(check({ ...ETCD, etcdKey: 'inline' }), R, 'spec.etcdCertFile');
        assertDenied(check({ ...ETCD, etcdCert: 'inline' }), R, 'spec.etcdKeyFile', 'etcdKey');
        assertAllowed(check({ ...ETCD, etcdKey: 'inline', etcdCertFile: `${DIR}/c` }));
      });
    });

    describe('formats (Calico patterns)', () => {
      it('denies etcdEndpoints not of the form http(s)://host:port, naming the bad entry', () => {
        assertDenied(check({ ...ETCD, etcdEndpoints: '10.0.0.1:2379' }), R, 'spec.etcdEndpoints', '1st endpoint');
        assertDenied(
          check({ ...ETCD, etcdEndpoints: 'https://10.0.0.1:2379, https://10.0.0.2:2379' }),
          R,
          'spec.etcdEndpoints',
          '2nd endpoint',
          'without spaces',
        );
        assertDenied(check({ ...ETCD, etcdEndpoints: 'httpp:/1:500' }), R, 'spec.etcdEndpoints');
        assertDenied(check({ ...ETCD, etcdEndpoints: 'https://10.0.0.1:2379,' }), R, 'spec.etcdEndpoints', '2nd endpoint');
        assertDenied(check({ ...ETCD, etcdEndpoints: 'https://[fd00::1]:2379' }), R, 'spec.etcdEndpoints');
        assertDenied(check({ ...ETCD, etcdEndpoints: 'https://etcd.example' }), R, 'spec.etcdEndpoints');
      });

      it('denies a k8sAPIEndpoint not of the form http(s)://host:port', () => {
        for (const ep of ['htps://127.0.0.1:880', 'https://127.0.0.1', '127.0.0.1:6443', 'https://a:1,https://b:2']) {
          assertDenied(check({ ...K8S, k8sAPIEndpoint: ep }), R, 'spec.k8sAPIEndpoint', 'https://host:port');
        }
      });

      it('denies file fields that are not absolute paths, pointing at the inline field', () => {
        assertDenied(check({ ...K8S, kubeconfig: 'kubeconfig-rem-cluster-n' }), R, 'spec.kubeconfig', 'absolute path', 'kubeconfigInline');
        assertDenied(check({ ...K8S, kubeconfig: 'apiVersion: v1\nkind: Config' }), R, 'spec.kubeconfig', 'kubeconfigInline');
        assertDenied(check({ ...K8S, k8sCAFile: 'ca.pem' }), R, 'spec.k8sCAFile', 'absolute path');
        assertDenied(check({ ...ETCD, etcdCACertFile: './ca.pem' }), R, 'spec.etcdCACertFile', 'etcdCACert');
        assertDenied(check({ ...K8S, kubeconfig: '/a/secret/\u0000null/' }), R, 'spec.kubeconfig');
        assertAllowed(check({ ...K8S, k8sCAFile: '/a/cert.pem' }));
      });
    });

    describe('warnings', () => {
      it('warns about k8sInsecureSkipTLSVerify and still allows', () => {
        const d = check({ ...K8S, k8sInsecureSkipTLSVerify: true });
        assertAllowed(d);
        assertWarned(d, R, 'spec.k8sInsecureSkipTLSVerify', 'k8sCAFile');
      });

      it('warns about http endpoints', () => {
        const etcd = check({ ...ETCD, etcdEndpoints: 'https://10.0.0.1:2379,http://123.123.123.123:2379' });
        assertAllowed(etcd);
        assertWarned(etcd, R, 'spec.etcdEndpoints', 'plain http');
        const k8s = check({ ...K8S, k8sAPIEndpoint: 'http://10.0.0.1:8080' });
        assertAllowed(k8s);
        assertWarned(k8s, R, 'spec.k8sAPIEndpoint', 'plain http');
        assertNoFindings(check(ETCD), R);
      });
    });

    it('allows overlayRoutingMode Enabled or Disabled and denies anything else, with or without clusterAccessSecret', () => {
      for (const mode of ['Enabled', 'Disabled']) assertNoFindings(check({ ...K8S, syncOptions: { overlayRoutingMode: mode } }), R);
      assertDenied(
        check({ ...K8S, syncOptions: { overlayRoutingMode: 'enabled' } }),
        R,
        'spec.syncOptions.overlayRoutingMode',
        '"enabled"',
        'Enabled or Disabled',
      );
      assertDenied(
        check({ clusterAccessSecret: SECRET_REF, syncOptions: { overlayRoutingMode: 'On' } }),
        R,
        'spec.syncOptions.overlayRoutingMode',
        '"On"',
      );
    });

    it('never repeats the field path in its messages', () => {
      const d = check({
        datastoreType: 'kubernetes',
        etcdUsername: 'u',
        k8sAPIEndpoint: 'x',
        k8sKeyFile: 'k',
        k8sInsecureSkipTLSVerify: true,
      });
      assert.ok(findingsOf(d, R).length >= 4);
      for (const f of findingsOf(d, R)) assert.ok(!f.message.includes(f.field), f.message);
    });
  });
}
