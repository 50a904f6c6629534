/**
 * How discovery reaches a remote cluster: the access a RemoteClusterConfiguration
 * grants, turned into a client-node KubeConfig, or the reason it cannot be
 * used (one line, never a credential).
 *
 * The fields and the Secret keys are those of the Calico Enterprise
 * reference, https://docs.tigera.io/calico-enterprise/latest/reference/resources/remoteclusterconfiguration
 * (each spec field has a "Secret key"), in the order Calico reads them:
 * 1. `clusterAccessSecret`: a Secret holding `datastoreType` and the
 *    connection: `kubeconfig` (the content of a kubeconfig), or
 *    `k8sAPIEndpoint` with `k8sAPIToken` or `k8sCert` + `k8sKey`, and
 *    `k8sCA`, `k8sInsecureSkipTLSVerify`. Read only from the namespace
 *    discovery is allowed to read (`federation.secretNamespace`).
 * 2. `kubeconfigInline`, the content of a kubeconfig.
 * 3. `kubeconfig`, a path: used when it exists in the webhook's filesystem
 *    (an install that mounts Calico's `tigera-federation-remotecluster`
 *    Secret at the same path as Typha does).
 * 4. `k8sAPIEndpoint` with `k8sAPIToken`, or `k8sCertFile` + `k8sKeyFile`,
 *    and `k8sCAFile` (paths in the webhook's filesystem).
 * `datastoreType: etcdv3` is not discovered: discovery reads the Kubernetes
 * API datastore only (no maintained read-only etcd v3 client for Node that
 * could read Calico's etcd key layout is worth the risk).
 *
 * A kubeconfig that comes from a Secret or from the RCC itself may not name
 * files (`certificate-authority`, `client-certificate`, `client-key`,
 * `token-file`), nor run anything (`exec`, `auth-provider`): whoever writes
 * the Secret or the RCC could otherwise make the webhook read its own
 * service account token and send it to a server of their choosing, or run
 * a command in the webhook's container. Only a kubeconfig mounted into the
 * webhook (3.) may name files.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { RemoteClusterConfiguration } from '../../kube/calico.js';

/** A usable access: its client configuration, a digest of every input (to rebuild the client when one changes), and where it came from. */
export interface UsableAccess {
  usable: true;
  kubeConfig: KubeConfig;
  /** SHA-256 of the credentials and settings; never logged (it would let one test a guessed token). */
  fingerprint: string;
  /** Where the access came from, for logs and reasons: `clusterAccessSecret calico-system/b`, `kubeconfigInline`. No credential, no file path (RCC messages echo none). */
  via: string;
}

/**
 * Not usable: `applies` false when discovery does not apply to this RCC at
 * all (etcdv3, no access fields), true when it should and cannot (a Secret
 * missing, unreadable or holding garbage, a file absent), which makes the
 * remote unsynced.
 */
export type RemoteAccess = UsableAccess | { usable: false; applies: boolean; reason: string };

/** The Secret an RCC names, as the discovery read it. */
export type SecretRead =
  | { found: true; data: Readonly<Record<string, string>> }
  | { found: false; reason: string }
  /** No Secret named by this RCC. */
  | undefined;

/** The file reads discovery may make (tests pass their own). */
export interface FileAccess {
  exists(path: string): boolean;
  read(path: string): string;
}

const unusable = (reason: string): RemoteAccess => ({ usable: false, applies: true, reason });
const notApplicable = (reason: string): RemoteAccess => ({ usable: false, applies: false, reason });

/** `namespace/name` of the Secret an RCC names; the namespace defaults to `defaultNamespace`. */
export function accessSecretOf(rcc: RemoteClusterConfiguration, defaultNamespace: string): { namespace: string; name: string } | undefined {
  const ref = rcc.spec?.clusterAccessSecret;
  if (!ref) return undefined;
  return { namespace: ref.namespace || defaultNamespace, name: ref.name ?? '' };
}

/**
 * The access of one RCC. `secret` is the read of the Secret it names (see
 * `accessSecretOf`), `secretNamespace` the only namespace Secrets are read
 * from. Pure but for `files`.
 */
export function remoteAccess(
  rcc: RemoteClusterConfiguration,
  secret: SecretRead,
  secretNamespace: string,
  files: FileAccess,
): RemoteAccess {
  const spec = rcc.spec ?? {};
  const ref = accessSecretOf(rcc, secretNamespace);
  if (ref) {
    if (!ref.name) return unusable('clusterAccessSecret has no name');
    if (ref.namespace !== secretNamespace) {
      return unusable(
        `clusterAccessSecret ${ref.namespace}/${ref.name} is outside ${secretNamespace}, the only namespace discovery reads Secrets in`,
      );
    }
    if (!secret) return unusable(`clusterAccessSecret ${ref.namespace}/${ref.name} not read yet`);
    if (!secret.found) return unusable(secret.reason);
    return fromFields(secret.data, `clusterAccessSecret ${ref.namespace}/${ref.name}`, 'secret', files);
  }
  if (spec.datastoreType === 'etcdv3') return notApplicable(ETCD);
  if (spec.kubeconfigInline) return fromKubeconfigText(spec.kubeconfigInline, 'kubeconfigInline', false, files);
  if (spec.kubeconfig) {
    if (!files.exists(spec.kubeconfig)) {
      return unusable(`the file spec.kubeconfig names does not exist in the webhook's filesystem (mount the Secret that holds it there)`);
    }
    let text: string;
    try {
      text = files.read(spec.kubeconfig);
    } catch (err) {
      return unusable(`the file spec.kubeconfig names cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return fromKubeconfigText(text, 'the kubeconfig file of spec.kubeconfig', true, files, dirname(spec.kubeconfig));
  }
  const fields: Record<string, string> = {};
  for (const key of ['k8sAPIEndpoint', 'k8sAPIToken'] as const) if (spec[key]) fields[key] = spec[key];
  if (spec.k8sInsecureSkipTLSVerify) fields['k8sInsecureSkipTLSVerify'] = 'true';
  // The k8s*File fields name files of the webhook's filesystem, read here as the Secret's inline keys would be.
  for (const [field, key] of [
    ['k8sCAFile', 'k8sCA'],
    ['k8sCertFile', 'k8sCert'],
    ['k8sKeyFile', 'k8sKey'],
  ] as const) {
    const path = spec[field];
    if (!path) continue;
    if (!files.exists(path)) return unusable(`the file ${field} names does not exist in the webhook's filesystem`);
    try {
      fields[key] = files.read(path);
    } catch (err) {
      return unusable(`the file ${field} names cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!fields['k8sAPIEndpoint'])
    return notApplicable('no access to discover with: none of clusterAccessSecret, kubeconfigInline, kubeconfig or k8sAPIEndpoint is set');
  return fromFields(fields, 'k8sAPIEndpoint', 'spec', files);
}

const ETCD =
  'datastoreType etcdv3: discovery reads the Kubernetes API datastore only; declare the ranges with the remote-cluster-guard.io/remote-cidrs annotation';

/** The connection keys of a Secret (or the inline fields of a spec). */
function fromFields(data: Readonly<Record<string, string>>, via: string, from: 'secret' | 'spec', files: FileAccess): RemoteAccess {
  const datastoreType = data['datastoreType'];
  if (from === 'secret' && datastoreType !== undefined && datastoreType !== 'kubernetes') {
    return datastoreType === 'etcdv3' ? notApplicable(ETCD) : unusable(`${via}: datastoreType must be kubernetes or etcdv3`);
  }
  if (data['kubeconfig']) return fromKubeconfigText(data['kubeconfig'], `${via} key kubeconfig`, false, files);
  const server = data['k8sAPIEndpoint'];
  if (!server) return unusable(`${via} has neither a kubeconfig nor a k8sAPIEndpoint key`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return unusable(`${via}: k8sAPIEndpoint is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return unusable(`${via}: k8sAPIEndpoint must be an http(s) URL`);
  const token = data['k8sAPIToken'];
  const cert = data['k8sCert'];
  const key = data['k8sKey'];
  if (!token && !(cert && key)) return unusable(`${via} has no credentials: set k8sAPIToken, or k8sCert and k8sKey`);
  const b64 = (s: string | undefined) => (s ? Buffer.from(s).toString('base64') : undefined);
  const kc = new KubeConfig();
  try {
    kc.loadFromOptions({
      clusters: [
        {
          name: 'remote',
          server,
          skipTLSVerify: data['k8sInsecureSkipTLSVerify'] === 'true',
          ...(data['k8sCA'] ? { caData: b64(data['k8sCA']) } : {}),
        },
      ],
      users: [{ name: 'remote', ...(token ? { token } : { certData: b64(cert), keyData: b64(key) }) }],
      contexts: [{ name: 'remote', cluster: 'remote', user: 'remote' }],
      currentContext: 'remote',
    });
  } catch {
    return unusable(`${via}: the connection settings are not usable`);
  }
  const fingerprint = digest(
    JSON.stringify([server, token ?? '', cert ?? '', key ?? '', data['k8sCA'] ?? '', data['k8sInsecureSkipTLSVerify'] ?? '']),
  );
  return { usable: true, kubeConfig: kc, fingerprint, via };
}

/** Keys of a kubeconfig cluster or user that name a file or run something; refused outside a mounted kubeconfig. */
const CLUSTER_FILE_KEYS = ['certificate-authority'];
const USER_FILE_KEYS = ['client-certificate', 'client-key', 'token-file', 'tokenFile', 'exec', 'auth-provider'];

/** `baseDir`: the directory of a mounted kubeconfig, which its relative paths are relative to (as kubectl reads them). */
function fromKubeconfigText(text: string, via: string, mayNameFiles: boolean, files: FileAccess, baseDir?: string): RemoteAccess {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 10 });
  } catch {
    return unusable(`${via} is not a valid kubeconfig`);
  }
  if (typeof doc !== 'object' || doc === null) return unusable(`${via} is not a valid kubeconfig`);
  if (!mayNameFiles) {
    const named = (list: unknown, inner: string, keys: readonly string[]): string | undefined => {
      if (!Array.isArray(list)) return undefined;
      for (const item of list) {
        const body = (item as Record<string, unknown> | null)?.[inner];
        if (typeof body !== 'object' || body === null) continue;
        const hit = keys.find((k) => Object.hasOwn(body, k));
        if (hit) return hit;
      }
      return undefined;
    };
    const d = doc as Record<string, unknown>;
    const hit = named(d['clusters'], 'cluster', CLUSTER_FILE_KEYS) ?? named(d['users'], 'user', USER_FILE_KEYS);
    if (hit) {
      return unusable(
        `${via} uses ${hit}, which a kubeconfig from a Secret or an RCC may not (it would name a file of the webhook or run a command); inline the data (certificate-authority-data, client-certificate-data, client-key-data, token)`,
      );
    }
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
    if (baseDir) kc.makePathsAbsolute(baseDir);
  } catch {
    return unusable(`${via} is not a valid kubeconfig`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) return unusable(`${via} has no current context with a cluster`);
  const user = kc.getCurrentUser();
  if (mayNameFiles && (user?.exec || user?.authProvider)) {
    return unusable(`${via} uses an exec or auth-provider credential plugin, which the webhook does not run`);
  }
  // A mounted kubeconfig's files are read into the fingerprint, so a rotated client certificate rebuilds the client.
  const fileContents = mayNameFiles
    ? [cluster.caFile, user?.certFile, user?.keyFile].map((f) => (f && files.exists(f) ? files.read(f) : ''))
    : [];
  return { usable: true, kubeConfig: kc, fingerprint: digest(JSON.stringify([text, ...fileContents])), via };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
