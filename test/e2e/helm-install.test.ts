/**
 * End to end through the chart, the way a real install runs: `helm install`
 * of deploy/helm/remote-cluster-guard (default values: self-managed
 * certificates) into the real kube-apiserver, which then calls the webhook
 * through the chart's Service and that Service's EndpointSlice, not through a
 * URL on 127.0.0.1.
 *
 * There is no kubelet, so the chart's Pods never run. This test plays the Pod:
 * it starts `remote-cluster-guard serve` with the container args of the
 * rendered Deployment and its environment (only the listen address and
 * ports, the mounted paths and the kubeconfig differ), authenticated as the chart's ServiceAccount so
 * the chart's RBAC is what it runs under, and publishes its address in an
 * EndpointSlice, as the endpointslice controller would for a ready Pod.
 * kube-apiserver runs with --enable-aggregator-routing=true (the harness sets
 * it), so it resolves the Service to that address instead of the ClusterIP,
 * which nothing routes here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startTestCluster, type KubectlResult, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { runHelmTool } from '../helpers/helm.js';
import { freePort } from '../helpers/net.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');
const CHART = join(ROOT, 'deploy/helm/remote-cluster-guard');
const RELEASE = 'remote-cluster-guard';
const NAMESPACE = 'remote-cluster-guard';
/** The Secret the chart's selfManaged mode has `serve --manage-certs` keep its certificates in (`<fullname>-certs`). */
const CERT_SECRET = 'remote-cluster-guard-certs';
const WEBHOOK_CONFIGURATIONS = ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration'];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

let cluster: TestCluster;
let address: string;
let manifest: K8sObject[];
let webhook: LocalWebhook;
/** Kubeconfig of the chart's ServiceAccount (a token from the TokenRequest API). */
let saKubeconfig: string;

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = (r: KubectlResult) => assert.equal(r.code, 0, `kubectl failed:\n${r.stdout}\n${r.stderr}`);
const b64decode = (s: string) => Buffer.from(s, 'base64').toString('utf-8');

/**
 * The first IPv4 address of this machine that an EndpointSlice may hold:
 * not loopback and not link-local (EndpointSlice validation refuses both).
 */
function nodeAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
    }
  }
  throw new Error(
    'no IPv4 address other than loopback or link-local on this machine (os.networkInterfaces()): ' +
      "an EndpointSlice cannot point at 127.0.0.0/8, so the kube-apiserver cannot reach the webhook through the chart's Service",
  );
}

/** Polls `probe` until `done` holds for its result; throws with the last result after `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(250);
  }
}

const objectsOf = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object' && 'kind' in o);
function find<T>(kind: string, name?: string): T {
  const o = manifest.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.ok(o, `the chart's manifest has a ${kind}${name ? ` ${name}` : ''}`);
  return o as T;
}
/** `helm ARGS` against the test cluster; a failure throws with Helm's output. */
async function helm(args: string[]): Promise<string> {
  const r = await runHelmTool('helm', args, { kubeconfig: cluster.kubeconfig });
  assert.equal(r.code, 0, `helm ${args.join(' ')}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
const releaseManifest = async () => objectsOf(await helm(['get', 'manifest', RELEASE, '-n', NAMESPACE]));

// ---------------------------------------------------------------------------
// the webhook process, with the rendered Deployment's arguments

interface LocalWebhook {
  port: number;
  healthPort: number;
  args: string[];
  /** Local directory standing in for each mounted ConfigMap volume, by ConfigMap name. */
  configMapDirs: Map<string, string>;
  output(): string;
  stop(): Promise<void>;
}

/** Listen flags that must differ locally: other processes on this machine use the chart's ports. */
const LISTEN_FLAGS = ['--host', '--port', '--metrics-port', '--health-port'];

/**
 * `serve`'s arguments as the rendered Deployment's container has them, with
 * what must differ outside a Pod substituted: the listen address and ports,
 * each volume's mount path (a temp dir; a ConfigMap volume gets the
 * ConfigMap's files, written by writeConfigMap) and `--kubeconfig` (a Pod
 * would use its in-cluster ServiceAccount token).
 */
function localArgs(
  deployment: V1Deployment,
  local: { workDir: string; host: string; port: number; metricsPort: number; healthPort: number; kubeconfig: string },
): { args: string[]; env: Record<string, string>; configMapDirs: Map<string, string> } {
  const pod = deployment.spec!.template.spec!;
  const container = pod.containers.find((c) => c.args?.[0] === 'serve');
  assert.ok(container, "a container of the chart's Deployment runs `serve`");
  const mounts = new Map<string, string>();
  const configMapDirs = new Map<string, string>();
  for (const m of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === m.name);
    assert.ok(volume, `volume ${m.name} of mount ${m.mountPath}`);
    assert.ok(!m.subPath && !volume.configMap?.items, `mount ${m.mountPath} is a whole volume (no subPath, no items)`);
    const dir = join(local.workDir, m.name);
    mkdirSync(dir, { recursive: true });
    if (volume.configMap) configMapDirs.set(volume.configMap.name!, dir);
    else assert.ok(volume.emptyDir, `volume ${m.name} is a ConfigMap or an emptyDir (a Secret volume would need the Secret's files here)`);
    mounts.set(m.mountPath, dir);
  }
  const listen = { '--host': local.host, '--port': local.port, '--metrics-port': local.metricsPort, '--health-port': local.healthPort };
  const args = container.args!.filter((a) => !LISTEN_FLAGS.includes(a.split('=')[0]!));
  for (const a of args) assert.ok(!LISTEN_FLAGS.includes(a), `${a} is written --flag=value, so its value can be replaced`);
  const rewritten = args.map((a) => {
    for (const [mountPath, dir] of mounts) {
      const at = a.indexOf(`=${mountPath}`);
      if (at >= 0 && (a.length === at + 1 + mountPath.length || a[at + 1 + mountPath.length] === '/'))
        return `${a.slice(0, at + 1)}${dir}${a.slice(at + 1 + mountPath.length)}`;
    }
    return a;
  });
  // The container's environment, with the downward API's Pod fields a Pod would get.
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const value =
      e.value ?? (field === 'metadata.namespace' ? NAMESPACE : field === 'metadata.name' ? 'remote-cluster-guard-e2e' : undefined);
    assert.ok(value !== undefined, `env ${e.name}: a value, or the Pod's namespace or name`);
    env[e.name] = value;
  }
  return {
    args: [...rewritten, ...Object.entries(listen).map(([f, v]) => `${f}=${v}`), `--kubeconfig=${local.kubeconfig}`],
    env,
    configMapDirs,
  };
}

/**
 * Writes a ConfigMap's data into the directory standing in for its volume,
 * each file replaced by a rename as the kubelet's atomic writer swaps a
 * volume's files, so the webhook never reads half a file.
 */
function writeConfigMap(cm: V1ConfigMap, dir: string): void {
  for (const [key, value] of Object.entries(cm.data ?? {})) {
    const tmp = join(dir, `.${key}.tmp`);
    writeFileSync(tmp, value);
    renameSync(tmp, join(dir, key));
  }
}

/** GET http://host:port/path: status, or 0 when nothing answers. */
const httpStatus = (host: string, port: number, path: string) =>
  new Promise<number>((resolve) => {
    http
      .get({ host, port, path, timeout: 2000, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0))
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy();
      });
  });

async function startLocalWebhook(deployment: V1Deployment, kubeconfig: string): Promise<LocalWebhook> {
  const workDir = mkdtempSync(join(tmpdir(), 'rcg-e2e-pod-'));
  const [port, metricsPort, healthPort] = [await freePort(address), await freePort(address), await freePort(address)];
  const { args, env, configMapDirs } = localArgs(deployment, { workDir, host: address, port, metricsPort, healthPort, kubeconfig });
  for (const [name, dir] of configMapDirs) writeConfigMap(find<V1ConfigMap>('ConfigMap', name), dir);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // serve's --shutdown-delay (5 s by default) and drain come first.
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(workDir, { recursive: true, force: true });
  };
  const hook: LocalWebhook = { port, healthPort, args, configMapDirs, output: () => out, stop };
  try {
    await eventually(
      `/readyz of the webhook on ${address}:${healthPort}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`the webhook exited with ${child.exitCode}:\n${out.slice(-3000)}`);
        return httpStatus(address, healthPort, '/readyz');
      },
      (s) => s === 200,
      90_000,
    );
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\nwebhook output:\n${out.slice(-3000)}`, { cause: e });
  }
  return hook;
}

// ---------------------------------------------------------------------------
// objects the test applies

/** An IPPool with host bits set: calico-pool-spec denies it in enforce mode. */
const BAD_POOL = JSON.stringify({
  apiVersion: 'crd.projectcalico.org/v1',
  kind: 'IPPool',
  metadata: { name: 'host-bits' },
  spec: { cidr: '10.0.0.5/16' },
});
const POOL_DENIAL =
  /admission webhook "validate\.remote-cluster-guard\.io" denied the request: calico-pool-spec: spec\.cidr: "10\.0\.0\.5\/16" has host bits set/;
const dryRunBadPool = () => kubectl(['apply', '--dry-run=server', '-f', '-'], BAD_POOL);

/** The EndpointSlice the endpointslice controller would write for one ready Pod of the chart's Service. */
function endpointSlice(service: V1Service, ip: string, port: number): string {
  const servicePort = service.spec!.ports!.find((p) => p.name !== undefined);
  assert.ok(servicePort, `Service ${service.metadata!.name} has a named port (kube-apiserver matches the slice's port by that name)`);
  return JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service.metadata!.name}-e2e`,
      namespace: NAMESPACE,
      labels: {
        'kubernetes.io/service-name': service.metadata!.name,
        'endpointslice.kubernetes.io/managed-by': 'e2e.remote-cluster-guard.io',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: servicePort.name, port, protocol: 'TCP' }],
  });
}

/** A kubeconfig for the test cluster whose user is `token`, in the cluster's work dir (removed with it). */
function tokenKubeconfig(token: string): string {
  const file = join(cluster.workDir, 'service-account.kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'sa' } }],
      'current-context': 'e2e',
    }),
    { mode: 0o600 },
  );
  return file;
}

/** The caBundle of every webhook of a configuration, decoded. */
async function caBundles(kind: string): Promise<string[]> {
  const r = await kubectl(['get', kind, RELEASE, '-o', 'jsonpath={range .webhooks[*]}{.clientConfig.caBundle}{"\\n"}{end}']);
  ok(r);
  return r.stdout
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map(b64decode);
}

async function certSecret(): Promise<Record<string, string>> {
  const r = await kubectl(['get', 'secret', CERT_SECRET, '-n', NAMESPACE, '-o', 'json']);
  ok(r);
  const data = (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64decode(v)]));
}

/** The webhook's TLS handshake as kube-apiserver makes it (server name `<service>.<namespace>.svc`), verified against `ca`. */
function handshake(ca: string, servername: string): Promise<{ authorized: boolean; error?: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: address, port: webhook.port, servername, ca, rejectUnauthorized: false }, () => {
      const error = s.authorizationError ? String(s.authorizationError) : undefined;
      const hostError = tls.checkServerIdentity(servername, s.getPeerCertificate());
      resolve({
        authorized: s.authorized && hostError === undefined,
        ...(error || hostError ? { error: error ?? hostError!.message } : {}),
        fingerprint: s.getPeerCertificate().fingerprint256,
      });
      s.end();
    });
    s.on('error', reject);
  });
}

// ---------------------------------------------------------------------------

before(
  async () => {
    address = nodeAddress();
    cluster = await startTestCluster();
    await installCrds(cluster, ['elasticsearch.yaml', 'calico-crd.yaml']);
    // The ECK operator namespace, where the chart's licence-reader Role lives.
    ok(await kubectl(['create', 'namespace', 'elastic-system']));

    await helm(['install', RELEASE, CHART, '--namespace', NAMESPACE, '--create-namespace']);
    manifest = await releaseManifest();
    const deployment = find<V1Deployment>('Deployment');

    // The chart's ServiceAccount, as a Pod of the Deployment would authenticate.
    const sa = deployment.spec!.template.spec!.serviceAccountName!;
    const token = await kubectl(['create', 'token', sa, '-n', NAMESPACE, '--duration=2h']);
    ok(token);
    saKubeconfig = tokenKubeconfig(token.stdout.trim());

    webhook = await startLocalWebhook(deployment, saKubeconfig);
  },
  { timeout: 900_000 },
);

after(async () => {
  await webhook?.stop();
  await cluster?.stop();
});

describe('helm install of deploy/helm/remote-cluster-guard, called through its Service', () => {
  it("runs the webhook with the chart's ServiceAccount, whose RBAC covers what serve --manage-certs does and no more", async (t) => {
    t.diagnostic(`serve ${webhook.args.slice(1).join(' ')}`);
    const sa = `system:serviceaccount:${NAMESPACE}:${find<V1Deployment>('Deployment').spec!.template.spec!.serviceAccountName}`;
    const whoami = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}', `--kubeconfig=${saKubeconfig}`]);
    ok(whoami);
    assert.equal(whoami.stdout, sa, 'the webhook authenticates as the chart ServiceAccount');
    const canI = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, `--as=${sa}`])).stdout.trim();
    assert.equal(await canI('watch', 'ippools.crd.projectcalico.org'), 'yes');
    assert.equal(await canI('update', `validatingwebhookconfigurations/${RELEASE}`), 'yes');
    assert.equal(await canI('update', `secrets/${CERT_SECRET}`, '-n', NAMESPACE), 'yes');
    assert.equal(await canI('update', 'validatingwebhookconfigurations/another-webhook'), 'no');
    assert.equal(await canI('get', 'secrets', '-n', 'default'), 'no');
  });

  it('a denied kubectl apply comes back through the Service and its EndpointSlice with the webhook message', async () => {
    for (const kind of WEBHOOK_CONFIGURATIONS) {
      const r = await kubectl(['get', kind, RELEASE, '-o', 'jsonpath={.webhooks[*].clientConfig}']);
      ok(r);
      assert.doesNotMatch(r.stdout, /"url"/, `${kind} calls a Service, not a URL`);
      assert.match(r.stdout, new RegExp(`"service":\\{[^}]*"name":"${RELEASE}","namespace":"${NAMESPACE}"`), kind);
    }
    // No endpoint yet (no kubelet, no endpointslice controller): the Service leads nowhere.
    const none = await eventually('the webhook configurations to be in effect', dryRunBadPool, (x) =>
      /failed calling webhook/.test(x.stderr),
    );
    assert.match(
      none.stderr,
      /failed calling webhook "mutate\.remote-cluster-guard\.io".*no endpoints available for service "remote-cluster-guard"/,
    );
    assert.doesNotMatch(none.stderr, POOL_DENIAL);

    ok(await kubectl(['apply', '-f', '-'], endpointSlice(find<V1Service>('Service'), address, webhook.port)));
    // The apiserver's informers pick up the slice (and the caBundle the webhook wrote) within seconds.
    const r = await eventually('the denial through the Service', dryRunBadPool, (x) => POOL_DENIAL.test(x.stderr));
    assert.notEqual(r.code, 0);
  });

  it('the caBundle of both webhook configurations is the CA the webhook keeps in its Secret and serves under', async () => {
    const secret = await certSecret();
    for (const kind of WEBHOOK_CONFIGURATIONS) {
      const bundles = await caBundles(kind);
      assert.ok(bundles.length > 0, kind);
      for (const b of bundles) {
        assert.equal(b, secret['ca-bundle.crt'], `${kind} caBundle = ${CERT_SECRET} ca-bundle.crt`);
        assert.ok(b.includes(secret['ca.crt']!.trim()), `${kind} caBundle holds the current CA`);
      }
    }
    const served = await handshake(secret['ca-bundle.crt']!, `${RELEASE}.${NAMESPACE}.svc`);
    assert.ok(served.authorized, `the served certificate verifies against the caBundle for ${RELEASE}.${NAMESPACE}.svc: ${served.error}`);
    assert.equal(served.fingerprint, new X509Certificate(secret['tls.crt']!).fingerprint256, `the webhook serves ${CERT_SECRET} tls.crt`);
  });

  it('helm upgrade --reuse-values of a rule mode changes the answer within seconds, and keeps the caBundle', async (t) => {
    const before = await caBundles('validatingwebhookconfiguration');
    await helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--reuse-values', '--set', 'config.rules.calico-pool-spec=warn']);
    // Helm's three-way merge sets every field the chart renders, so a chart that renders a caBundle would reset the
    // one the webhook wrote, and admission would fail until the webhook's next certificate check (an hour by default).
    for (const kind of WEBHOOK_CONFIGURATIONS)
      assert.deepEqual(await caBundles(kind), before, `helm upgrade left the caBundle the webhook wrote in ${kind}`);
    manifest = await releaseManifest();
    // No kubelet syncs the ConfigMap volume here: write the upgraded ConfigMap into the directory that stands in for it.
    for (const [name, dir] of webhook.configMapDirs) writeConfigMap(find<V1ConfigMap>('ConfigMap', name), dir);
    const started = Date.now();
    const r = await eventually('calico-pool-spec to warn instead of deny', dryRunBadPool, (x) => x.code === 0, 60_000);
    assert.match(r.stderr, /Warning: calico-pool-spec: spec\.cidr: "10\.0\.0\.5\/16" has host bits set/);
    t.diagnostic(`the answer changed ${Date.now() - started} ms after the ConfigMap's file was replaced`);
  });

  it('helm uninstall leaves no webhook configuration behind, so with the webhook stopped the guarded kinds can be written again', async () => {
    await webhook.stop();
    // Stopped, with failurePolicy Fail: the guarded kinds cannot be written at all.
    const pool = JSON.stringify({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'IPPool',
      metadata: { name: 'after-uninstall' },
      spec: { cidr: '10.7.0.0/16' },
    });
    const blocked = await eventually(
      'the stopped webhook to block writes',
      () => kubectl(['create', '--dry-run=server', '-f', '-'], pool),
      (x) => x.code !== 0,
    );
    assert.match(blocked.stderr, /failed calling webhook/);

    // Helm deletes the webhook configurations last (test/e2e/helm-release.test.ts); what matters here is that none stays.
    await helm(['uninstall', RELEASE, '--namespace', NAMESPACE]);
    for (const kind of WEBHOOK_CONFIGURATIONS) {
      const r = await kubectl(['get', kind, RELEASE]);
      assert.match(r.stderr, /NotFound/, `${kind} ${RELEASE} is gone`);
    }
    // The apiserver's webhook informer drops the configurations within seconds.
    ok(
      await eventually(
        'a guarded kind to be writable',
        () => kubectl(['create', '-f', '-'], pool),
        (x) => x.code === 0,
      ),
    );
  });
});
