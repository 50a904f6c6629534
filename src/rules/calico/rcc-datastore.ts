/**
 * `calico-rcc-datastore` (deny, warn): a RemoteClusterConfiguration says how
 * to reach the remote cluster's datastore completely and consistently.
 *
 * Source: Calico Enterprise docs "Configuring remote clusters" (Tigera Secure
 * EE usage/federation/configure-rcc; current:
 * https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig):
 * etcdv3 needs `etcdEndpoints` and also `kubeconfig` or the `k8s*` fields;
 * kubernetes needs `kubeconfig` or the `k8s*` fields (the docs say so, the
 * validator does not check it). And Calico Enterprise's validator
 * (libcalico-go/lib/validator/v3/validator.go `validateRemoteClusterConfigSpec`,
 * `validateEtcdEndpoints`, `validateK8sEndpoint`), mirrored:
 * - with `clusterAccessSecret`, every other connection field is empty
 *   (`syncOptions` aside): Calico clears them and reads the Secret instead.
 *   The reference needs `name` and `namespace` (the RCC is cluster-scoped, so
 *   there is no default namespace); `kind` is empty or `Secret`;
 * - otherwise `datastoreType` is `etcdv3` or `kubernetes`;
 * - `kubernetes` allows no `etcd*` field at all, `etcdUsername` included
 *   (Calico's validator forgets that one);
 * - `etcdEndpoints` matches `^https?://[^:]+:\d+(,https?://[^:]+:\d+)*$` and
 *   `k8sAPIEndpoint` `^https?://[^:]+:\d+$` (Calico's patterns, so IPv6
 *   literals in brackets are rejected as Calico rejects them);
 * - file fields (`etcdKeyFile`, `etcdCertFile`, `etcdCACertFile`, `kubeconfig`,
 *   `k8sKeyFile`, `k8sCertFile`, `k8sCAFile`) are absolute paths (they are read
 *   inside the Calico pods; Calico Enterprise docs use
 *   `/etc/tigera-federation-remotecluster/...`,
 *   https://docs.tigera.io/calico-enterprise/latest/reference/resources/remoteclusterconfiguration).
 *
 * "The k8s* fields" (decision; Calico's docs and validator are silent):
 * Kubernetes API access is `kubeconfig` or `kubeconfigInline`, or else
 * `k8sAPIEndpoint` plus a credential: `k8sAPIToken`, or `k8sKeyFile` and `k8sCertFile` together
 * (`k8sCAFile` optional). A client key without its certificate (or the
 * reverse) is denied for both Kubernetes and etcd (file or inline forms).
 *
 * Warnings: `k8sInsecureSkipTLSVerify: true`; an `http://` endpoint.
 *
 * Values of connection fields are never put in messages: secret fields
 * (`RCC_SECRET_FIELDS`) obviously, and endpoints and paths too, since a URL may
 * carry credentials and a "path" may be pasted content. Only `datastoreType`
 * and the Secret reference's `kind` are quoted.
 *
 * `syncOptions.overlayRoutingMode`, when set, is `Enabled` or `Disabled`
 * (validator `oneof=Enabled Disabled`), with or without clusterAccessSecret.
 * Checked here rather than in `calico-rcc-overlay-default` (which defaults it)
 * because that rule needs the IPPool state and this check needs nothing.
 */
import { deny, warn, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule } from '../../engine/rule.js';
import type { RemoteClusterConfiguration } from '../../kube/calico.js';
import { quote } from './common.js';
import { OVERLAY_ROUTING_MODES } from './rcc-overlay-default.js';

export const RCC_DATASTORE_RULE = 'calico-rcc-datastore';

type Spec = NonNullable<RemoteClusterConfiguration['spec']>;

export const DATASTORE_TYPES = ['etcdv3', 'kubernetes'] as const;

/** Every etcd connection field; all forbidden with datastoreType kubernetes. */
export const ETCD_FIELDS = [
  'etcdEndpoints',
  'etcdUsername',
  'etcdPassword',
  'etcdKeyFile',
  'etcdCertFile',
  'etcdCACertFile',
  'etcdKey',
  'etcdCert',
  'etcdCACert',
] as const;

/** Every Kubernetes API connection field. */
export const K8S_FIELDS = [
  'kubeconfig',
  'kubeconfigInline',
  'k8sAPIEndpoint',
  'k8sKeyFile',
  'k8sCertFile',
  'k8sCAFile',
  'k8sAPIToken',
  'k8sInsecureSkipTLSVerify',
] as const;

/** Fields that must be empty when `clusterAccessSecret` is set (`syncOptions` is not one). */
export const CONNECTION_FIELDS = ['datastoreType', ...ETCD_FIELDS, ...K8S_FIELDS] as const;

/** Fields holding a path to a file inside the Calico pods. */
export const FILE_FIELDS = [
  'etcdKeyFile',
  'etcdCertFile',
  'etcdCACertFile',
  'kubeconfig',
  'k8sKeyFile',
  'k8sCertFile',
  'k8sCAFile',
] as const;

type ConnectionField = (typeof CONNECTION_FIELDS)[number];

const ETCD_ENDPOINTS = /^https?:\/\/[^:]+:\d+(,https?:\/\/[^:]+:\d+)*$/;
const ETCD_ENDPOINT = /^https?:\/\/[^:]+:\d+$/;
const K8S_ENDPOINT = /^https?:\/\/[^:]+:\d+$/;

/** Where the content of a file field may be given inline instead. */
const INLINE_ALTERNATIVE: Partial<Record<(typeof FILE_FIELDS)[number], string>> = {
  kubeconfig: 'kubeconfigInline',
  etcdKeyFile: 'etcdKey',
  etcdCertFile: 'etcdCert',
  etcdCACertFile: 'etcdCACert',
};

/** Example file names for messages (the directory Calico Enterprise's RemoteClusterConfiguration docs use). */
const EXAMPLE_FILE: Record<(typeof FILE_FIELDS)[number], string> = {
  etcdKeyFile: 'etcd-key.pem',
  etcdCertFile: 'etcd-cert.pem',
  etcdCACertFile: 'etcd-ca.pem',
  kubeconfig: 'kubeconfig-rem-cluster-n',
  k8sKeyFile: 'k8s-key.pem',
  k8sCertFile: 'k8s-cert.pem',
  k8sCAFile: 'k8s-ca.pem',
};

/** Set as Go's omitempty sees it: a non-empty string, or true. */
function isSet(spec: Spec, field: ConnectionField): boolean {
  const v = spec[field];
  return typeof v === 'boolean' ? v : v !== undefined && v !== '';
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${s}`;
}

class Checker {
  readonly findings: Finding[] = [];
  constructor(readonly spec: Spec) {}

  deny(field: string, message: string): void {
    this.findings.push(deny(RCC_DATASTORE_RULE, fieldPath(['spec', ...field.split('.')]), message));
  }
  warn(field: string, message: string): void {
    this.findings.push(warn(RCC_DATASTORE_RULE, fieldPath(['spec', ...field.split('.')]), message));
  }
  set(field: ConnectionField): boolean {
    return isSet(this.spec, field);
  }

  clusterAccessSecret(): void {
    const ref = this.spec.clusterAccessSecret ?? {};
    for (const f of CONNECTION_FIELDS) {
      if (this.set(f)) {
        this.deny(
          f,
          'must be empty when clusterAccessSecret is set, because Calico then takes all connection settings from the Secret; move it into the Secret or remove clusterAccessSecret',
        );
      }
    }
    if (!ref.name)
      this.deny(
        'clusterAccessSecret.name',
        'the Secret reference needs the name of the Secret holding the remote cluster connection settings',
      );
    if (!ref.namespace) {
      this.deny(
        'clusterAccessSecret.namespace',
        'the Secret reference needs a namespace, since a RemoteClusterConfiguration is cluster-scoped and has none to default to',
      );
    }
    if (ref.kind && ref.kind !== 'Secret')
      this.deny('clusterAccessSecret.kind', `${quote(ref.kind)} is not a Secret; set kind to Secret or leave it empty`);
  }

  overlayRoutingMode(): void {
    const mode = this.spec.syncOptions?.overlayRoutingMode;
    if (mode && !(OVERLAY_ROUTING_MODES as readonly string[]).includes(mode)) {
      this.deny(
        'syncOptions.overlayRoutingMode',
        `${quote(mode)} is not an overlay routing mode; use Enabled or Disabled, or leave it unset to get the default`,
      );
    }
  }

  datastore(): void {
    const type = this.spec.datastoreType;
    if (!type) {
      this.deny(
        'datastoreType',
        "is required without clusterAccessSecret; set etcdv3 or kubernetes (the remote cluster's Calico datastore), or reference a Secret with clusterAccessSecret",
      );
    } else if (!(DATASTORE_TYPES as readonly string[]).includes(type)) {
      this.deny('datastoreType', `${quote(type)} is not a datastore type; use etcdv3 or kubernetes`);
    }
    const etcdAllowed = type !== 'kubernetes';
    if (type === 'etcdv3' && !this.set('etcdEndpoints')) {
      this.deny(
        'etcdEndpoints',
        'is required with datastoreType etcdv3; list the remote etcd endpoints, for example https://10.0.0.1:2379,https://10.0.0.2:2379',
      );
    }
    if (type === 'etcdv3' || type === 'kubernetes') this.kubernetesAccess(type);
    if (type === 'kubernetes') {
      for (const f of ETCD_FIELDS) {
        if (this.set(f))
          this.deny(
            f,
            'is an etcd setting and a kubernetes datastore uses none; remove it, or set datastoreType to etcdv3 if the remote cluster stores its Calico data in etcd',
          );
      }
    }
    this.pairs(etcdAllowed);
    this.formats(etcdAllowed);
  }

  /** Kubernetes API access: kubeconfig(Inline), or k8sAPIEndpoint with a token or a key and certificate. */
  private kubernetesAccess(type: 'etcdv3' | 'kubernetes'): void {
    if (this.set('kubeconfig') || this.set('kubeconfigInline')) return;
    const endpoint = this.set('k8sAPIEndpoint');
    const token = this.set('k8sAPIToken');
    const key = this.set('k8sKeyFile');
    const cert = this.set('k8sCertFile');
    if (!endpoint && !token && !key && !cert) {
      const why =
        type === 'etcdv3'
          ? 'an etcdv3 remote cluster also needs access to its Kubernetes API'
          : 'a kubernetes datastore is reached through the remote Kubernetes API';
      this.deny(
        'kubeconfig',
        `${why}; set kubeconfig (or kubeconfigInline), or k8sAPIEndpoint with k8sAPIToken or with k8sKeyFile and k8sCertFile`,
      );
      return;
    }
    if (!endpoint) {
      this.deny(
        'k8sAPIEndpoint',
        'is required when the k8s* fields are used without kubeconfig; set the remote API server URL, for example https://10.0.0.1:6443',
      );
    }
    if (!token && !key && !cert) {
      this.deny(
        'k8sAPIToken',
        'the remote API server needs a credential; set k8sAPIToken, or k8sKeyFile and k8sCertFile, or use kubeconfig instead',
      );
    }
  }

  /** A client key without its certificate, or the reverse, cannot authenticate. */
  private pairs(etcdAllowed: boolean): void {
    const k8sKey = this.set('k8sKeyFile');
    const k8sCert = this.set('k8sCertFile');
    if (k8sKey && !k8sCert) this.deny('k8sCertFile', 'k8sKeyFile is set without this client certificate; set both or neither');
    if (k8sCert && !k8sKey) this.deny('k8sKeyFile', 'k8sCertFile is set without this client key; set both or neither');
    if (!etcdAllowed) return;
    const etcdKey = this.set('etcdKeyFile') || this.set('etcdKey');
    const etcdCert = this.set('etcdCertFile') || this.set('etcdCert');
    if (etcdKey && !etcdCert)
      this.deny('etcdCertFile', 'an etcd client key is set without its certificate; set etcdCertFile (or etcdCert) too, or remove the key');
    if (etcdCert && !etcdKey)
      this.deny(
        'etcdKeyFile',
        'an etcd client certificate is set without its key; set etcdKeyFile (or etcdKey) too, or remove the certificate',
      );
  }

  private formats(etcdAllowed: boolean): void {
    const endpoints = this.spec.etcdEndpoints;
    if (etcdAllowed && endpoints) {
      if (!ETCD_ENDPOINTS.test(endpoints)) {
        const bad = endpoints.split(',').findIndex((e) => !ETCD_ENDPOINT.test(e));
        const which = bad >= 0 ? `the ${ordinal(bad + 1)} endpoint is not` : 'is not a list';
        this.deny(
          'etcdEndpoints',
          `${which} of the form https://host:port; write them comma-separated without spaces, for example https://10.0.0.1:2379,https://10.0.0.2:2379`,
        );
      } else if (endpoints.split(',').some((e) => e.startsWith('http://'))) {
        this.warn(
          'etcdEndpoints',
          'uses plain http, so traffic to the remote etcd (credentials included) is not encrypted; use https endpoints',
        );
      }
    }
    const k8s = this.spec.k8sAPIEndpoint;
    if (k8s) {
      if (!K8S_ENDPOINT.test(k8s))
        this.deny(
          'k8sAPIEndpoint',
          'is not of the form https://host:port; set the remote API server URL, for example https://10.0.0.1:6443',
        );
      else if (k8s.startsWith('http://'))
        this.warn('k8sAPIEndpoint', 'uses plain http, so traffic to the remote API server (token included) is not encrypted; use https');
    }
    for (const f of FILE_FIELDS) {
      if (!etcdAllowed && f.startsWith('etcd')) continue;
      const v = this.spec[f];
      if (v && (!v.startsWith('/') || v.includes('\0'))) {
        const inline = INLINE_ALTERNATIVE[f];
        const alt = inline ? `; to give the content itself use ${inline}` : '';
        this.deny(
          f,
          `must be an absolute path to a file in the Calico pods, for example /etc/tigera-federation-remotecluster/${EXAMPLE_FILE[f]}${alt}`,
        );
      }
    }
    if (this.spec.k8sInsecureSkipTLSVerify === true) {
      this.warn(
        'k8sInsecureSkipTLSVerify',
        "skips verification of the remote API server's certificate, so its identity is not checked; set k8sCAFile (or a CA in the kubeconfig) and remove this",
      );
    }
  }
}

export const rccDatastoreRule: Rule<'RemoteClusterConfiguration'> = {
  id: RCC_DATASTORE_RULE,
  kind: 'RemoteClusterConfiguration',
  summary:
    'RemoteClusterConfiguration connection settings are complete and consistent for its datastore type (or come from a Secret); overlayRoutingMode is Enabled or Disabled',
  validate: ({ object }) => {
    const c = new Checker(object.spec ?? {});
    if (object.spec?.clusterAccessSecret !== undefined) c.clusterAccessSecret();
    else c.datastore();
    c.overlayRoutingMode();
    return c.findings;
  },
};
