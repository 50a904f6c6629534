/**
 * deploy/ against a real kube-apiserver, driven with the real kubectl: a plain
 * `kubectl apply -k deploy` on a fresh cluster, a server-side dry run of deploy/
 * and of each component, and re-applies (client-side, server-side and
 * `make deploy`'s deploy/apply.sh) that keep the CA and caBundle the real
 * webhook (`serve --manage-certs`) wrote.
 *
 * The cluster is fresh but for the namespace elastic-system, which the ECK
 * operator's install creates and deploy/'s licence-reader Role lives in, and
 * calico-system, which Calico's operator install creates and the
 * federation-discovery component's Secret reader lives in.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startTestCluster, type KubectlResult, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { startWebhook, type RunningWebhook } from './support/webhook.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

let cluster: TestCluster;
let hook: RunningWebhook | undefined;

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
function assertOk(r: KubectlResult) {
  assert.equal(r.code, 0, `kubectl failed:\n${r.stdout}\n${r.stderr}`);
}

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  rules?: { resources: string[] }[];
  webhooks?: {
    failurePolicy: string;
    sideEffects: string;
    matchPolicy: string;
    admissionReviewVersions: string[];
    clientConfig: { caBundle?: string };
  }[];
  spec?: Record<string, unknown>;
}

/**
 * An overlay of deploy/ in a temp dir, as a user writes one: deploy/ as its
 * resource (kustomize wants a relative path), the given components of
 * deploy/components, and `extra` kustomization YAML.
 */
function overlay(components: string[], extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'rcg-overlay-'));
  const lines = [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `resources: ['${relative(dir, DEPLOY)}']`,
    `components: [${components.map((c) => `'${relative(dir, join(DEPLOY, 'components', c))}'`).join(', ')}]`,
  ];
  writeFileSync(join(dir, 'kustomization.yaml'), lines.join('\n') + '\n' + extra);
  return dir;
}
async function render(dir: string): Promise<Doc[]> {
  const r = await kubectl(['kustomize', dir]);
  assertOk(r);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
}
const webhookConfigurations = (docs: Doc[]) => docs.filter((d) => d.kind.endsWith('WebhookConfiguration'));
const deploymentArgs = (docs: Doc[]) =>
  (docs.find((d) => d.kind === 'Deployment')!.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
    .containers[0]!.args;
const CERTS_RBAC = ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].map((k) => `${k} remote-cluster-guard-certs`);
const names = (docs: Doc[]) => docs.map((d) => `${d.kind} ${d.metadata.name}`);

/** The caBundle of each webhook of both configurations, and the CA in the Secret --manage-certs keeps. */
async function certificateState(): Promise<{ caBundles: string[]; secretCa: string }> {
  const caBundles: string[] = [];
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    const r = await kubectl(['get', kind, 'remote-cluster-guard', '-o', 'jsonpath={.webhooks[*].clientConfig.caBundle}']);
    assertOk(r);
    caBundles.push(r.stdout);
  }
  const s = await kubectl(['get', 'secret', 'remote-cluster-guard-certs', '-n', 'remote-cluster-guard', '-o', 'jsonpath={.data.ca\\.crt}']);
  assertOk(s);
  return { caBundles, secretCa: s.stdout };
}

/** `bash deploy/apply.sh ...` (what `make deploy` runs) with the test cluster's kubectl and kubeconfig. */
function applyScript(args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(DEPLOY, 'apply.sh'), ...args],
      { env: { ...process.env, PATH: `${cluster.binDir}:${process.env['PATH'] ?? ''}`, KUBECONFIG: cluster.kubeconfig }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

before(
  async () => {
    cluster = await startTestCluster();
    assertOk(await kubectl(['create', 'namespace', 'elastic-system']));
    assertOk(await kubectl(['create', 'namespace', 'calico-system']));
    await installCrds(cluster, ['elasticsearch.yaml', 'cert-manager.yaml']);
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await cluster?.stop();
});

describe('kubectl apply -k deploy', () => {
  it('installs with no other step: the Namespace first, the webhook configurations last, self-managed certificates', async () => {
    // A server-side dry run cannot show this on a fresh cluster: the Namespace is not
    // persisted, so the API server refuses every object in it (NamespaceLifecycle).
    const r = await kubectl(['apply', '-k', DEPLOY]);
    assertOk(r);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'namespace/remote-cluster-guard created');
    assert.deepEqual(lines.slice(-2), [
      'mutatingwebhookconfiguration.admissionregistration.k8s.io/remote-cluster-guard created',
      'validatingwebhookconfiguration.admissionregistration.k8s.io/remote-cluster-guard created',
    ]);
    const d = lines.findIndex((l) => l.startsWith('deployment.apps/remote-cluster-guard '));
    const s = lines.findIndex((l) => l.startsWith('service/remote-cluster-guard '));
    assert.ok(d > 0 && s > 0 && d < lines.length - 2 && s < lines.length - 2, r.stdout);
    assert.ok(deploymentArgs(await render(DEPLOY)).includes('--manage-certs'));
  });

  it('renders least privilege: Secrets only in the operator namespace and the one certificate Secret, webhooks fail closed', async () => {
    const docs = await render(DEPLOY);
    const secretRules = docs.filter((d) => (d.rules ?? []).some((rule) => rule.resources.includes('secrets')));
    assert.deepEqual(
      secretRules.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
      ['Role elastic-system/remote-cluster-guard-licence-reader', 'Role remote-cluster-guard/remote-cluster-guard-certs'],
    );
    for (const d of webhookConfigurations(docs)) {
      assert.equal(d.metadata.annotations?.['argocd.argoproj.io/sync-wave'], '1', `${d.kind} after wave 0`);
      for (const w of d.webhooks!) {
        assert.equal(w.failurePolicy, 'Fail');
        assert.equal(w.sideEffects, 'None');
        assert.equal(w.matchPolicy, 'Equivalent');
        assert.deepEqual(w.admissionReviewVersions, ['v1']);
        assert.equal(w.clientConfig.caBundle, undefined, 'no caBundle in the manifests: its writer owns it');
      }
    }
  });

  it('a server-side dry run accepts deploy/ and deploy/ with each component', async () => {
    const caBundle =
      'patches:\n  - target: { group: admissionregistration.k8s.io, name: remote-cluster-guard }\n    patch: |-\n      - { op: add, path: /webhooks/0/clientConfig/caBundle, value: "LS0tLS1CRUdJTg==" }\n';
    for (const dir of [
      DEPLOY,
      overlay(['cert-manager']),
      overlay(['client-auth', 'existing-secret'], caBundle),
      overlay(['existing-secret', 'client-auth'], caBundle),
      overlay(['federation-discovery']),
    ]) {
      const r = await kubectl(['apply', '--dry-run=server', '-k', dir]);
      assertOk(r);
      assert.match(r.stdout, /deployment\.apps\/remote-cluster-guard (configured|unchanged) \(server dry run\)/);
    }
  });

  it('components/cert-manager: the CA injector names the serving Certificate, whose Secret the Deployment mounts', async () => {
    const docs = await render(overlay(['cert-manager']));
    const serving = docs.find((d) => d.kind === 'Certificate' && d.metadata.name === 'remote-cluster-guard')!;
    for (const d of webhookConfigurations(docs)) {
      assert.equal(d.metadata.annotations?.['cert-manager.io/inject-ca-from'], `${serving.metadata.namespace}/${serving.metadata.name}`);
    }
    const pod = (
      docs.find((d) => d.kind === 'Deployment')!.spec as {
        template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } };
      }
    ).template.spec;
    assert.equal(pod.volumes.find((v) => v.name === 'tls')?.secret?.secretName, serving.spec!['secretName']);
    const args = deploymentArgs(docs);
    assert.ok(args.includes('--tls-cert=/etc/remote-cluster-guard/tls/tls.crt') && !args.includes('--manage-certs'), args.join(' '));
    for (const n of CERTS_RBAC) assert.ok(!names(docs).includes(n), `${n} is dropped`);
  });

  it('components/existing-secret: the caBundle comes from a patch of the overlay; client-auth still adds --client-ca', async () => {
    const patch =
      'patches:\n  - target: { group: admissionregistration.k8s.io, name: remote-cluster-guard }\n    patch: |-\n      - { op: add, path: /webhooks/0/clientConfig/caBundle, value: "Q0E=" }\n';
    const docs = await render(overlay(['existing-secret', 'client-auth'], patch));
    const configurations = webhookConfigurations(docs);
    assert.equal(configurations.length, 2);
    for (const d of configurations) for (const w of d.webhooks!) assert.equal(w.clientConfig.caBundle, 'Q0E=');
    assert.ok(deploymentArgs(docs).includes('--client-ca=/etc/remote-cluster-guard/client-ca/ca.crt'));
    for (const n of CERTS_RBAC) assert.ok(!names(docs).includes(n), `${n} is dropped`);
  });

  it('re-applying keeps the CA and caBundle the webhook wrote: client-side, server-side, and make deploy with another image', async () => {
    assertOk(await kubectl(['apply', '-k', DEPLOY]));
    // The real webhook with --manage-certs makes the Secret and writes the caBundle into deploy/'s configurations.
    hook = await startWebhook({ cluster, certDir: mkdtempSync(join(tmpdir(), 'rcg-install-')), caBundle: '', managed: true });
    const written = await certificateState();
    await hook.stop();
    hook = undefined;
    assert.ok(written.secretCa.length > 0);
    for (const b of written.caBundles) assert.ok(b.length > 0, 'the webhook wrote the caBundle');

    assertOk(await kubectl(['apply', '-k', DEPLOY]));
    assert.deepEqual(await certificateState(), written, 'after kubectl apply -k');
    assertOk(await kubectl(['apply', '--server-side', '-k', DEPLOY]));
    assert.deepEqual(await certificateState(), written, 'after kubectl apply --server-side -k');
    const image = 'registry.example.com:5000/team/remote-cluster-guard:9.9.9';
    const r = await applyScript([image]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await certificateState(), written, 'after deploy/apply.sh');
    const got = await kubectl([
      'get',
      'deployment',
      'remote-cluster-guard',
      '-n',
      'remote-cluster-guard',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    assert.equal(got.stdout, image);
  });

  it('make deploy (deploy/apply.sh) maps an image reference onto kustomize images:, and refuses a malformed one', async () => {
    const cases: [string, string][] = [
      ['registry.example.com:5000/rcg@sha256:' + 'a'.repeat(64), 'registry.example.com:5000/rcg@sha256:' + 'a'.repeat(64)],
      ['rcg', 'rcg:latest'],
    ];
    for (const [given, expected] of cases) {
      const r = await applyScript([
        given,
        '--dry-run=server',
        '-o',
        'jsonpath={.items[?(@.kind=="Deployment")].spec.template.spec.containers[0].image}',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, expected);
    }
    const bad = await applyScript(['rcg: {x}']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "deploy/apply.sh: not an image reference: 'rcg: {x}'\n");
  });
});

describe('components/federation-discovery', () => {
  it('the webhook may get Secrets in calico-system only, never list or watch them, and runs with --federation-discovery', async () => {
    const dir = overlay(['federation-discovery']);
    assertOk(await kubectl(['apply', '-k', dir]));
    assert.ok(deploymentArgs(await render(dir)).includes('--federation-discovery'));
    const sa = 'system:serviceaccount:remote-cluster-guard:remote-cluster-guard';
    const canI = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, `--as=${sa}`])).stdout.trim();
    assert.equal(await canI('get', 'secrets', '-n', 'calico-system'), 'yes');
    assert.equal(await canI('list', 'secrets', '-n', 'calico-system'), 'no');
    assert.equal(await canI('watch', 'secrets', '-n', 'calico-system'), 'no');
    assert.equal(await canI('get', 'secrets', '-n', 'default'), 'no');
  });
});
