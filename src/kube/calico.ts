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
import { ObjectMeta, parseApiVersion } from './meta.js';

export const CALICO_CRD_GROUP = 'crd.projectcalico.org';
export const CALICO_API_GROUP = 'projectcalico.org';

/**
 * Calico API v1's IPIP settings (`spec.ipip` of a crd.projectcalico.org/v1
 * IPPool written by a Calico v2 client): `mode` is `always` or `cross-subnet`.
 */
const LegacyIPIP = z.object({ enabled: z.boolean().optional(), mode: z.string().optional() });

/**
 * IPPool `spec`. `blockSize` is a prefix length (bits), not an address count.
 * `ipip` and `nat-outgoing` are the Calico API v1 spellings (see
 * `normaliseLegacyIPPool`); after decoding, `ipipMode` and `natOutgoing`
 * already hold what Calico makes of them.
 */
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
  ipip: LegacyIPIP.optional(),
  'nat-outgoing': z.boolean().optional(),
});
export type IPPoolSpec = z.infer<typeof IPPoolSpec>;

const IPPoolObject = z.object({
  apiVersion: z.string(),
  kind: z.literal('IPPool'),
  metadata: ObjectMeta,
  spec: IPPoolSpec.optional(),
});

/** True for an object of the `crd.projectcalico.org` group, the one whose legacy spellings Calico reads. */
function inCrdGroup(pool: { apiVersion: string }): boolean {
  return parseApiVersion(pool.apiVersion).group === CALICO_CRD_GROUP;
}

/**
 * What Calico's Kubernetes datastore backend makes of the Calico API v1
 * spellings in a `crd.projectcalico.org/v1` IPPool, so that every rule reads
 * the pool as Calico does: Calico v3.31 and earlier, projectcalico/calico
 * `libcalico-go/lib/backend/k8s/resources/ippool.go`
 * `IPPoolv1v3Converter.ConvertFromK8s`, applied on every read of the CRD:
 *
 * - `ipip` set (even `{}`): `ipipMode` becomes `Never` unless `ipip.enabled`,
 *   else `CrossSubnet` when `ipip.mode` is `cross-subnet`, else `Always`
 *   (whatever `ipipMode` said: the legacy field wins);
 * - `natOutgoing` becomes `nat-outgoing || natOutgoing`.
 *
 * Those are the only two fields the converter maps: `disabled`,
 * `nodeSelector` and `blockSize` have one spelling, and
 * `libcalico-go/lib/upgrade/converters/ippool.go` (`IPPool.BackendV1ToAPIV3`)
 * converts etcd v2 data for `calico-upgrade`, never a CRD object. From
 * v3.32.0 (commit "Ability to use projectcalico.org/v3 custom resource
 * definitions") the converter maps nothing and the CRD schema no longer has
 * `ipip` or `nat-outgoing`, so the kube-apiserver prunes them before any
 * webhook sees them and this is a no-op. `projectcalico.org/v3` objects are
 * left alone: Calico's validator refuses both fields there (`mustBeNil`,
 * `mustBeFalse` on `IPPoolSpec.IPIP` / `NATOutgoingV1`).
 *
 * The legacy fields stay in the decoded spec (rules name them in messages,
 * `legacySpelling`); the raw object is never changed, so no patch is made
 * from this. Idempotent: decoding the result again gives the same spec.
 */
export function normaliseLegacyIPPool<T extends { apiVersion: string; spec?: IPPoolSpec | undefined }>(pool: T): T {
  const spec = pool.spec;
  if (!spec || !inCrdGroup(pool) || (spec.ipip === undefined && spec['nat-outgoing'] === undefined)) return pool;
  const out: IPPoolSpec = { ...spec };
  if (spec.ipip !== undefined) {
    out.ipipMode = !spec.ipip.enabled ? 'Never' : spec.ipip.mode === 'cross-subnet' ? 'CrossSubnet' : 'Always';
  }
  if (spec['nat-outgoing'] === true) out.natOutgoing = true;
  return { ...pool, spec: out };
}

/**
 * The legacy field behind the effective `ipipMode` or `natOutgoing` of a
 * decoded pool (`ipip`, `nat-outgoing`), for messages and field paths; undefined
 * when the current spelling decides.
 */
export function legacySpelling(pool: IPPool, field: 'ipipMode' | 'natOutgoing'): 'ipip' | 'nat-outgoing' | undefined {
  const spec = pool.spec;
  if (!spec || !inCrdGroup(pool)) return undefined;
  if (field === 'ipipMode') return spec.ipip !== undefined ? 'ipip' : undefined;
  return spec['nat-outgoing'] === true ? 'nat-outgoing' : undefined;
}

/**
 * An IPPool, decoded with its legacy spellings normalised (`normaliseLegacyIPPool`).
 * `.overwrite`, not `.transform`: a transform makes a zod pipe, and its result
 * handling made each decode allocate (in-process, 2.3 times the CPU of the
 * plain schema, 40 % of it in the garbage collector); `.overwrite` runs as a check.
 */
export const IPPool = IPPoolObject.overwrite(normaliseLegacyIPPool);
export type IPPool = z.output<typeof IPPool>;

/**
 * A pool only for LoadBalancer addresses: `allowedUses` is exactly
 * `[LoadBalancer]`. Felix leaves such pools out of the pools traffic to which
 * is never NATed (projectcalico/calico felix/dataplane/linux/masq_mgr.go
 * `isLoadBalancerOnly`).
 */
export function loadBalancerOnly(pool: IPPool): boolean {
  const uses = pool.spec?.allowedUses ?? [];
  return uses.length === 1 && uses[0] === 'LoadBalancer';
}

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
