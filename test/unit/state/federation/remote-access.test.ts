/**
 * The access a RemoteClusterConfiguration grants to its remote cluster
 * (src/state/federation/remote-access.ts): each way Calico Enterprise reads
 * it (clusterAccessSecret, kubeconfigInline, a mounted kubeconfig,
 * k8sAPIEndpoint), what is refused (a Secret outside the allowed namespace,
 * a kubeconfig from a Secret or the RCC that names files or runs commands),
 * what is not discovered at all (etcdv3, no access fields), and that no
 * reason ever carries a credential.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { RemoteClusterConfiguration } from '../../../../src/kube/calico.js';
import {
  accessSecretOf,
  remoteAccess,
  type FileAccess,
  type RemoteAccess,
  type SecretRead,
  type UsableAccess,
} from '../../../../src/state/federation/remote-access.js';

/** A token no reason may contain. */
const TOKEN = 'SENTINEL-TOKEN-d41d8cd98f00b204';
const NS = 'calico-system';

type Spec = NonNullable<RemoteClusterConfiguration['spec']>;
const rcc = (spec: Spec, name = 'cluster1'): RemoteClusterConfiguration => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'RemoteClusterConfiguration',
  metadata: { name },
  spec,
});

/** A fake filesystem: the paths it holds, and every path asked for. */
function files(contents: Record<string, string> = {}): FileAccess & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    exists: (p) => (asked.push(p), Object.hasOwn(contents, p)),
    read: (p) => {
      asked.push(p);
      if (!Object.hasOwn(contents, p)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return contents[p]!;
    },
  };
}

/** A kubeconfig whose user is `user` (a token by default). */
function kubeconfig(
  server = 'https://remote.example:6443',
  user: Record<string, unknown> = { token: TOKEN },
  cluster: Record<string, unknown> = {},
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'remote', cluster: { server, ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'c', context: { cluster: 'remote', user: 'u' } }],
    'current-context': 'c',
  });
}

const found = (data: Record<string, string>): SecretRead => ({ found: true, data });
const bySecret = (name = 'remote-access', namespace?: string) =>
  rcc({ clusterAccessSecret: { kind: 'Secret', name, ...(namespace !== undefined ? { namespace } : {}) } });

function usable(a: RemoteAccess): UsableAccess {
  if (!a.usable) assert.fail(`expected a usable access, got: ${a.reason}`);
  return a;
}
/** The reason of an access that is not usable; asserts `applies` and that the reason holds no token. */
function refused(a: RemoteAccess, applies: boolean): string {
  if (a.usable) assert.fail(`expected an unusable access, got one via ${a.via}`);
  assert.equal(a.applies, applies, `applies for: ${a.reason}`);
  assert.ok(!a.reason.includes(TOKEN), `the reason carries the token: ${a.reason}`);
  assert.ok(!a.reason.includes('\n'), 'one line');
  return a.reason;
}

describe('remoteAccess: clusterAccessSecret', () => {
  it('a kubeconfig key gives a usable access named after the Secret, connecting to its server with its token', () => {
    const a = usable(remoteAccess(bySecret(), found({ datastoreType: 'kubernetes', kubeconfig: kubeconfig() }), NS, files()));
    assert.equal(a.via, `clusterAccessSecret ${NS}/remote-access key kubeconfig`);
    assert.equal(a.kubeConfig.getCurrentCluster()?.server, 'https://remote.example:6443');
    assert.equal(a.kubeConfig.getCurrentUser()?.token, TOKEN);
    assert.ok(!a.via.includes(TOKEN));
    assert.ok(!a.fingerprint.includes(TOKEN));
  });

  it('the fingerprint is the same for the same kubeconfig and changes when the kubeconfig changes', () => {
    const one = usable(remoteAccess(bySecret(), found({ kubeconfig: kubeconfig() }), NS, files()));
    const same = usable(remoteAccess(bySecret(), found({ kubeconfig: kubeconfig() }), NS, files()));
    const otherToken = usable(remoteAccess(bySecret(), found({ kubeconfig: kubeconfig(undefined, { token: 'rotated' }) }), NS, files()));
    const otherServer = usable(remoteAccess(bySecret(), found({ kubeconfig: kubeconfig('https://other:6443') }), NS, files()));
    assert.equal(one.fingerprint, same.fingerprint);
    assert.notEqual(one.fingerprint, otherToken.fingerprint);
    assert.notEqual(one.fingerprint, otherServer.fingerprint);
  });

  it('the namespace defaults to the allowed one; a Secret in another namespace is refused, and not read', () => {
    assert.deepEqual(accessSecretOf(bySecret('b'), NS), { namespace: NS, name: 'b' });
    assert.deepEqual(accessSecretOf(bySecret('b', 'kube-system'), NS), { namespace: 'kube-system', name: 'b' });
    assert.equal(accessSecretOf(rcc({ kubeconfig: '/k' }), NS), undefined);
    // Even with a readable Secret handed over, another namespace is never used.
    const reason = refused(remoteAccess(bySecret('b', 'kube-system'), found({ kubeconfig: kubeconfig() }), NS, files()), true);
    assert.match(reason, /clusterAccessSecret kube-system\/b is outside calico-system/);
  });

  it('a Secret not read yet, not found or forbidden makes the remote unsynced with that reason', () => {
    assert.match(
      refused(remoteAccess(bySecret(), undefined, NS, files()), true),
      /clusterAccessSecret calico-system\/remote-access not read yet/,
    );
    const notFound = `clusterAccessSecret ${NS}/remote-access not found`;
    assert.equal(refused(remoteAccess(bySecret(), { found: false, reason: notFound }, NS, files()), true), notFound);
    const forbidden = `clusterAccessSecret ${NS}/remote-access cannot be read: forbidden (HTTP 403)`;
    assert.equal(refused(remoteAccess(bySecret(), { found: false, reason: forbidden }, NS, files()), true), forbidden);
    assert.match(refused(remoteAccess(bySecret(''), undefined, NS, files()), true), /has no name/);
  });

  it('datastoreType etcdv3, in the Secret or in the spec, is not under discovery', () => {
    const inSecret = refused(remoteAccess(bySecret(), found({ datastoreType: 'etcdv3', kubeconfig: kubeconfig() }), NS, files()), false);
    assert.match(inSecret, /etcdv3/);
    const inSpec = refused(
      remoteAccess(rcc({ datastoreType: 'etcdv3', etcdEndpoints: 'https://etcd:2379' }), undefined, NS, files()),
      false,
    );
    assert.match(inSpec, /etcdv3/);
    assert.match(
      refused(remoteAccess(bySecret(), found({ datastoreType: 'consul' }), NS, files()), true),
      /datastoreType must be kubernetes or etcdv3/,
    );
  });

  it('a garbage kubeconfig is "not a valid kubeconfig", and the message repeats none of it', () => {
    for (const garbage of [`{{{ ${TOKEN}: [`, `just some text ${TOKEN}`, `- ${TOKEN}\n- x`, `token: ${TOKEN}\nclusters: 7`]) {
      const reason = refused(remoteAccess(bySecret(), found({ kubeconfig: garbage }), NS, files()), true);
      assert.match(reason, /not a valid kubeconfig|has no current context/, garbage);
      assert.ok(!reason.includes('SENTINEL'), reason);
    }
    assert.match(
      refused(remoteAccess(bySecret(), found({ kubeconfig: `]]${TOKEN}` }), NS, files()), true),
      /key kubeconfig is not a valid kubeconfig$/,
    );
  });

  it('a kubeconfig from the Secret that names a file or runs a command is refused, naming the key, and no file is touched', () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['token-file', { 'token-file': '/var/run/secrets/kubernetes.io/serviceaccount/token' }, {}],
      ['client-key', { 'client-certificate-data': 'Y2VydA==', 'client-key': '/etc/key.pem' }, {}],
      ['client-certificate', { 'client-certificate': '/etc/cert.pem', 'client-key-data': 'a2V5' }, {}],
      ['certificate-authority', { token: TOKEN }, { 'certificate-authority': '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' }],
      ['exec', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', 'id'] } }, {}],
      ['auth-provider', { 'auth-provider': { name: 'oidc', config: {} } }, {}],
    ];
    for (const [key, user, cluster] of cases) {
      const fs = files({ '/etc/key.pem': 'k', '/etc/cert.pem': 'c' });
      const reason = refused(remoteAccess(bySecret(), found({ kubeconfig: kubeconfig(undefined, user, cluster) }), NS, fs), true);
      assert.match(reason, new RegExp(`uses ${key}, which a kubeconfig from a Secret or an RCC may not`), key);
      assert.deepEqual(fs.asked, [], `${key}: no file read`);
    }
  });

  it('k8sAPIEndpoint keys: a token or a client certificate and key, the CA as data; none is refused', () => {
    const withToken = usable(
      remoteAccess(bySecret(), found({ k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sAPIToken: TOKEN, k8sCA: 'CA PEM' }), NS, files()),
    );
    assert.equal(withToken.via, `clusterAccessSecret ${NS}/remote-access`);
    assert.equal(withToken.kubeConfig.getCurrentUser()?.token, TOKEN);
    assert.equal(withToken.kubeConfig.getCurrentCluster()?.caData, Buffer.from('CA PEM').toString('base64'));
    const withCert = usable(
      remoteAccess(bySecret(), found({ k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sCert: 'CERT', k8sKey: 'KEY' }), NS, files()),
    );
    assert.equal(withCert.kubeConfig.getCurrentUser()?.keyData, Buffer.from('KEY').toString('base64'));
    assert.notEqual(withToken.fingerprint, withCert.fingerprint);
    assert.match(
      refused(remoteAccess(bySecret(), found({ k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sCert: 'CERT' }), NS, files()), true),
      /has no credentials/,
    );
    assert.match(
      refused(remoteAccess(bySecret(), found({ k8sAPIEndpoint: 'not a url', k8sAPIToken: TOKEN }), NS, files()), true),
      /is not a URL/,
    );
    assert.match(
      refused(remoteAccess(bySecret(), found({ k8sAPIEndpoint: 'ftp://x', k8sAPIToken: TOKEN }), NS, files()), true),
      /http\(s\) URL/,
    );
    assert.match(
      refused(remoteAccess(bySecret(), found({ datastoreType: 'kubernetes' }), NS, files()), true),
      /neither a kubeconfig nor a k8sAPIEndpoint/,
    );
  });
});

describe('remoteAccess: the RCC spec', () => {
  it('kubeconfigInline is used as a Secret kubeconfig would be, and refused when it names a file', () => {
    const a = usable(remoteAccess(rcc({ datastoreType: 'kubernetes', kubeconfigInline: kubeconfig() }), undefined, NS, files()));
    assert.equal(a.via, 'kubeconfigInline');
    assert.equal(a.kubeConfig.getCurrentUser()?.token, TOKEN);
    for (const key of ['token-file', 'client-key', 'exec', 'auth-provider']) {
      const user =
        key === 'exec'
          ? { exec: { command: 'cat' } }
          : key === 'auth-provider'
            ? { 'auth-provider': { name: 'gcp' } }
            : { [key]: '/etc/x' };
      assert.match(
        refused(remoteAccess(rcc({ kubeconfigInline: kubeconfig(undefined, user) }), undefined, NS, files()), true),
        new RegExp(`kubeconfigInline uses ${key}`),
      );
    }
    assert.match(
      refused(
        remoteAccess(
          rcc({ kubeconfigInline: kubeconfig(undefined, { token: TOKEN }, { 'certificate-authority': '/ca' }) }),
          undefined,
          NS,
          files(),
        ),
        true,
      ),
      /kubeconfigInline uses certificate-authority/,
    );
    assert.match(
      refused(remoteAccess(rcc({ kubeconfigInline: `:${TOKEN}:[` }), undefined, NS, files()), true),
      /kubeconfigInline is not a valid kubeconfig/,
    );
  });

  it('a clusterAccessSecret wins over the spec fields, as Calico reads it', () => {
    const spec = { clusterAccessSecret: { name: 'remote-access' }, kubeconfigInline: kubeconfig('https://inline:6443') };
    const a = usable(remoteAccess(rcc(spec), found({ kubeconfig: kubeconfig('https://secret:6443') }), NS, files()));
    assert.equal(a.kubeConfig.getCurrentCluster()?.server, 'https://secret:6443');
  });

  it('a mounted kubeconfig path is used when it exists, may name files (relative to it), which count in the fingerprint', () => {
    const text = kubeconfig(undefined, { 'client-certificate': 'tls.crt', 'client-key': 'tls.key' }, { 'certificate-authority': 'ca.crt' });
    const mounted = {
      '/etc/remote/kubeconfig': text,
      '/etc/remote/tls.crt': 'C1',
      '/etc/remote/tls.key': 'K1',
      '/etc/remote/ca.crt': 'CA',
    };
    const a = usable(remoteAccess(rcc({ kubeconfig: '/etc/remote/kubeconfig' }), undefined, NS, files(mounted)));
    assert.equal(a.via, 'the kubeconfig file of spec.kubeconfig', 'the path itself is never echoed');
    assert.equal(a.kubeConfig.getCurrentUser()?.keyFile, '/etc/remote/tls.key');
    assert.equal(a.kubeConfig.getCurrentCluster()?.caFile, '/etc/remote/ca.crt');
    const same = usable(remoteAccess(rcc({ kubeconfig: '/etc/remote/kubeconfig' }), undefined, NS, files(mounted)));
    const rotated = usable(
      remoteAccess(rcc({ kubeconfig: '/etc/remote/kubeconfig' }), undefined, NS, files({ ...mounted, '/etc/remote/tls.key': 'K2' })),
    );
    assert.equal(a.fingerprint, same.fingerprint);
    assert.notEqual(a.fingerprint, rotated.fingerprint, 'a rotated client key rebuilds the client');
  });

  it('a mounted kubeconfig that is missing, or runs a credential plugin, makes the remote unsynced', () => {
    assert.match(
      refused(remoteAccess(rcc({ kubeconfig: '/etc/remote/kubeconfig' }), undefined, NS, files()), true),
      /the file spec\.kubeconfig names does not exist in the webhook's filesystem/,
    );
    const exec = kubeconfig(undefined, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } });
    assert.match(
      refused(remoteAccess(rcc({ kubeconfig: '/k' }), undefined, NS, files({ '/k': exec })), true),
      /exec or auth-provider credential plugin/,
    );
  });

  it('k8sAPIEndpoint with a token, or certificate and key files; without credentials, or with a missing CA file, unsynced', () => {
    const withToken = usable(
      remoteAccess(
        rcc({ k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sAPIToken: TOKEN, k8sInsecureSkipTLSVerify: true }),
        undefined,
        NS,
        files(),
      ),
    );
    assert.equal(withToken.via, 'k8sAPIEndpoint');
    assert.equal(withToken.kubeConfig.getCurrentUser()?.token, TOKEN);
    assert.equal(withToken.kubeConfig.getCurrentCluster()?.skipTLSVerify, true);
    const certFiles = files({ '/etc/c.pem': 'CERT', '/etc/k.pem': 'KEY', '/etc/ca.pem': 'CA' });
    const withCert = usable(
      remoteAccess(
        rcc({ k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sCertFile: '/etc/c.pem', k8sKeyFile: '/etc/k.pem', k8sCAFile: '/etc/ca.pem' }),
        undefined,
        NS,
        certFiles,
      ),
    );
    assert.equal(withCert.kubeConfig.getCurrentUser()?.certData, Buffer.from('CERT').toString('base64'));
    assert.equal(withCert.kubeConfig.getCurrentCluster()?.caData, Buffer.from('CA').toString('base64'));
    assert.match(
      refused(remoteAccess(rcc({ k8sAPIEndpoint: 'https://10.0.0.1:6443' }), undefined, NS, files()), true),
      /k8sAPIEndpoint has no credentials/,
    );
    assert.match(
      refused(
        remoteAccess(
          rcc({ k8sAPIEndpoint: 'https://10.0.0.1:6443', k8sAPIToken: TOKEN, k8sCAFile: '/etc/missing.pem' }),
          undefined,
          NS,
          files(),
        ),
        true,
      ),
      /the file k8sCAFile names does not exist/,
    );
  });

  it('no access field at all is not under discovery', () => {
    assert.match(refused(remoteAccess(rcc({ datastoreType: 'kubernetes' }), undefined, NS, files()), false), /no access to discover with/);
    assert.match(refused(remoteAccess(rcc({}), undefined, NS, files()), false), /no access to discover with/);
    // A token alone names no server.
    assert.equal(refused(remoteAccess(rcc({ k8sAPIToken: TOKEN }), undefined, NS, files()), false).includes('no access'), true);
  });
});
