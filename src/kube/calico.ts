/**
 * Calico's `IPPool` and `RemoteClusterConfiguration`, both cluster-scoped and
 * served in two API groups: `crd.projectcalico.org/v1` (CRDs stored by the
 * kube-apiserver, no Calico validation or defaulting) and
 * `projectcalico.org/v3` (Calico API server). The same object has the same
 * name in both groups, so the state keys them by name alone.
 *
 * Source: projectcalico/calico `api/pkg/apis/projectcalico/v3/ippool.go`
 * (IPPoolSpec) and tigera/api `pkg/apis/projectcalico/v3/remoteclusterconfig.go`
 * (RemoteClusterConfigurationSpec: a Calico Enterprise type, absent from
 * projectcalico/calico and projectcalico/api);
 * https://docs.tigera.io/calico-enterprise/latest/reference/resources/remoteclusterconfiguration.
 *
 * Enumerated fields (`ipipMode`, `datastoreType`, ...) are plain strings here:
 * crd/v1 objects may carry any string, and the rules reject unknown values
 * with a message that lists the accepted ones.
 *
 * The inline credential fields of RemoteClusterConfigurationSpec (`etcdKey`,
 * `etcdCert`, `etcdCACert` in `EtcdConfig`, `kubeconfigInline` in `KubeConfig`)
 * come from Tigera's v3 API, tigera/api `pkg/apis/projectcalico/v3/remoteclusterconfig.go`
 * (inlined `EtcdConfig` and `KubeConfig` structs): inline key, certificate and CA as
 * alternatives to the `etcd*File` paths, and `kubeconfigInline`, the content
 * of a kubeconfig, overriding `kubeconfig` when set.
 */
import { z } from 'zod';
import { ObjectMeta } from './meta.js';

export const CALICO_CRD_GROUP = 'crd.projectcalico.org';
export const CALICO_API_GROUP = 'projectcalico.org';

/** IPPool `spec`. `blockSize` is a prefix length (bits), not an address count. */
export const IPPoolSpec = z.object({
  cidr: z.string().optional(),
  blockSize: z.number().int().optional(),
  ipipMode: z.string().optional(),
  vxlanMode: z.string().optional(),
  natOutgoing: z.boolean().optional(),
  disabled: z.boolean().optional(),
  disableBGPExport: z.boolean().optional(),
  nodeSelector: z.string().optional(),
  allowedUses: z.array(z.string()).optional(),
  assignmentMode: z.string().optional(),
});

export const IPPool = z.object({
  apiVersion: z.string(),
  kind: z.literal('IPPool'),
  metadata: ObjectMeta,
  spec: IPPoolSpec.optional(),
});
export type IPPool = z.infer<typeof IPPool>;

/** RemoteClusterConfiguration `spec`. Secret-bearing fields are never echoed in messages or logs. */
export const RemoteClusterConfigurationSpec = z.object({
  clusterAccessSecret: z
    .object({
      apiVersion: z.string().optional(),
      kind: z.string().optional(),
      name: z.string().optional(),
      namespace: z.string().optional(),
    })
    .optional(),
  datastoreType: z.string().optional(),
  etcdEndpoints: z.string().optional(),
  etcdUsername: z.string().optional(),
  etcdPassword: z.string().optional(),
  etcdKeyFile: z.string().optional(),
  etcdCertFile: z.string().optional(),
  etcdCACertFile: z.string().optional(),
  /** Inline PEM client key, certificate and CA: alternatives to the `etcd*File` fields. Secret. */
  etcdKey: z.string().optional(),
  etcdCert: z.string().optional(),
  etcdCACert: z.string().optional(),
  kubeconfig: z.string().optional(),
  /** The content of a kubeconfig file; overrides `kubeconfig` when set. Secret. */
  kubeconfigInline: z.string().optional(),
  k8sAPIEndpoint: z.string().optional(),
  k8sKeyFile: z.string().optional(),
  k8sCertFile: z.string().optional(),
  k8sCAFile: z.string().optional(),
  k8sAPIToken: z.string().optional(),
  k8sInsecureSkipTLSVerify: z.boolean().optional(),
  syncOptions: z.object({ overlayRoutingMode: z.string().optional() }).optional(),
});

export const RemoteClusterConfiguration = z.object({
  apiVersion: z.string(),
  kind: z.literal('RemoteClusterConfiguration'),
  metadata: ObjectMeta,
  spec: RemoteClusterConfigurationSpec.optional(),
});
export type RemoteClusterConfiguration = z.infer<typeof RemoteClusterConfiguration>;

/**
 * RCC fields whose values are secrets: never in a message, a log line or CLI
 * output. The inline certificates are not secret in themselves but travel
 * with the inline key and are treated alike.
 */
export const RCC_SECRET_FIELDS = ['etcdPassword', 'k8sAPIToken', 'kubeconfigInline', 'etcdKey', 'etcdCert', 'etcdCACert'] as const;

/**
 * Label marking an IPPool as a federation pool (a disabled pool covering a
 * remote cluster's range, per Calico Enterprise docs "Configuring remote
 * clusters", https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig);
 * its value is the name of the RemoteClusterConfiguration of that remote
 * cluster.
 */
export const FEDERATION_POOL_LABEL = 'remote-cluster-guard.io/remote-cluster';

/**
 * Annotation on a RemoteClusterConfiguration declaring the remote cluster's
 * pod (and node) ranges: comma-separated IPv4 and IPv6 CIDRs, for example
 * `10.8.0.0/16, fd00:8::/56`. Calico has no such field; the overlap rules
 * read it to compare local pools with remote ranges.
 */
export const REMOTE_CIDRS_ANNOTATION = 'remote-cluster-guard.io/remote-cidrs';
