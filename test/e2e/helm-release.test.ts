/**
 * The chart's release mechanics with the real `helm` against a real
 * kube-apiserver (no kubelet: the Pods are never run, which none of this needs):
 * - an install that cannot succeed (the ECK operator namespace is missing)
 *   stops with one line before anything is created, so no webhook
 *   configuration is left behind to refuse writes;
 * - the install creates the objects and prints the NOTES check, whose denial
 *   is the one the rules give;
 * - a second release of the same name in another namespace is refused by Helm
 *   with its own "exists and cannot be imported" line and creates nothing;
 * - every certificate mode renders objects the kube-apiserver accepts;
 * - `helm upgrade` keeps the caBundle the webhook wrote (the chart leaves the
 *   field out) and updates the configuration ConfigMap in place;
 * - `federationDiscovery.enabled` stops with one line when its Secret
 *   namespace is missing, and otherwise makes its Role there;
 * - `helm uninstall` (Helm 4) deletes the two webhook configurations before
 *   anything else, so no write meets a webhook with no Service to call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCA } from '../../src/certs/generate.js';
import { runCli } from '../helpers/cli.js';
import { runHelmTool } from '../helpers/helm.js';
import { startTestCluster, type TestCluster } from './harness/cluster.js';

const CHART = 'deploy/helm/remote-cluster-guard';
const RELEASE = 'remote-cluster-guard';
const NAMESPACE = 'remote-cluster-guard';
const WEBHOOK_CONFIGURATIONS = ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration'];

let cluster: TestCluster;
const helm = (args: string[]) => runHelmTool('helm', args, { kubeconfig: cluster.kubeconfig });
const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });

/** Whether `kind/name` exists (in `namespace`). */
async function exists(kind: string, name: string, namespace?: string): Promise<boolean> {
  const r = await kubectl(['get', kind, name, ...(namespace ? ['-n', namespace] : []), '-o', 'name']);
  if (r.code !== 0) assert.match(r.stderr, /NotFound|not found/, r.stderr);
  return r.code === 0;
}

/**
 * The NOTES show a manifest to dry-run and the denial it gets: that denial is
 * the one the rules give (`validate` runs the same engine), so the NOTES do not
 * drift from the rule's message.
 */
async function assertNotesDenialIsTheWebhooks(notes: string): Promise<void> {
  assert.match(notes, /cat <<'YAML' \| kubectl apply --dry-run=server -f -\n/);
  const manifest = /cat <<'YAML'.*\n([\s\S]*?)\n\s*YAML\n/.exec(notes)![1]!.replace(/^ {2}/gm, '');
  const denial = /denied the request: (.*)$/m.exec(notes)![1]!;
  const file = join(mkdtempSync(join(tmpdir(), 'rcg-notes-')), 'check.yaml');
  writeFileSync(file, manifest);
  const r = await runCli(['validate', file]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(r.stdout.includes(`: ${denial}\n`), `the NOTES' denial\n  ${denial}\nis not what validate says:\n${r.stdout}`);
}

before(
  async () => {
    cluster = await startTestCluster();
  },
  { timeout: 900_000 },
);

after(async () => {
  await cluster?.stop();
});

describe('the Helm release against a real kube-apiserver', () => {
  it('an install without the ECK operator namespace fails with one line and creates nothing', async () => {
    const r = await helm(['install', RELEASE, CHART, '--namespace', NAMESPACE, '--create-namespace']);
    assert.notEqual(r.code, 0);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, /config\.operatorNamespace: the namespace elastic-system does not exist/);
    for (const kind of WEBHOOK_CONFIGURATIONS) assert.equal(await exists(kind, RELEASE), false, kind);
    assert.equal(await exists('clusterrole', RELEASE), false);
  });

  it('installs, with the webhook configurations calling its Service and the NOTES check printed', async () => {
    assert.equal((await kubectl(['create', 'namespace', 'elastic-system'])).code, 0);
    const r = await helm(['install', RELEASE, CHART, '--namespace', NAMESPACE, '--create-namespace']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /STATUS: deployed/);
    await assertNotesDenialIsTheWebhooks(r.stdout);
    for (const kind of WEBHOOK_CONFIGURATIONS) {
      const service = await kubectl([
        'get',
        kind,
        RELEASE,
        '-o',
        'jsonpath={.webhooks[0].clientConfig.service.namespace}/{.webhooks[0].clientConfig.service.name}',
      ]);
      assert.equal(service.stdout, `${NAMESPACE}/${RELEASE}`, kind);
    }
    for (const [kind, namespace] of [
      ['deployment', NAMESPACE],
      ['service', NAMESPACE],
      ['role', 'elastic-system'],
    ] as const)
      assert.ok(await exists(kind, kind === 'role' ? `${RELEASE}-licence-reader` : RELEASE, namespace), kind);
  });

  it('a second release of the same name in another namespace is refused by Helm and creates nothing', async () => {
    const r = await helm(['install', RELEASE, CHART, '--namespace', 'second', '--create-namespace']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^Error: INSTALLATION FAILED: unable to continue with install: \w+ "remote-cluster-guard\S*" in namespace "\S*" exists and cannot be imported into the current release/im,
    );
    for (const kind of ['deployment', 'service', 'configmap', 'serviceaccount']) {
      const name = kind === 'configmap' ? `${RELEASE}-config` : RELEASE;
      assert.equal(await exists(kind, name, 'second'), false, `${kind} in second`);
    }
    for (const kind of WEBHOOK_CONFIGURATIONS) {
      const ns = await kubectl(['get', kind, RELEASE, '-o', 'jsonpath={.webhooks[0].clientConfig.service.namespace}']);
      assert.equal(ns.stdout, NAMESPACE, `${kind} still calls the first release`);
    }
  });

  it('helm upgrade keeps the caBundle the webhook wrote and updates the configuration in place', async () => {
    const caBundle = Buffer.from(generateCA({ service: RELEASE, namespace: NAMESPACE, validityDays: 30 }).caCert).toString('base64');
    // What `serve --manage-certs` does: write the caBundle into both configurations.
    for (const kind of WEBHOOK_CONFIGURATIONS) {
      const patch = JSON.stringify([{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: caBundle }]);
      assert.equal((await kubectl(['patch', kind, RELEASE, '--type=json', '-p', patch])).code, 0, kind);
    }
    const uid = (await kubectl(['get', 'configmap', `${RELEASE}-config`, '-n', NAMESPACE, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const r = await helm([
      'upgrade',
      RELEASE,
      CHART,
      '--namespace',
      NAMESPACE,
      '--set',
      'config.rules.es-enterprise-license=warn',
      '--set',
      'webhook.timeoutSeconds=7',
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const kind of WEBHOOK_CONFIGURATIONS) {
      const got = await kubectl([
        'get',
        kind,
        RELEASE,
        '-o',
        'jsonpath={.webhooks[0].clientConfig.caBundle} {.webhooks[0].timeoutSeconds}',
      ]);
      assert.equal(got.stdout, `${caBundle} 7`, `${kind}: caBundle kept, timeoutSeconds upgraded`);
    }
    const config = await kubectl([
      'get',
      'configmap',
      `${RELEASE}-config`,
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.metadata.uid} {.data.config\\.yaml}',
    ]);
    assert.ok(config.stdout.startsWith(`${uid} `), 'the same ConfigMap, updated (the kubelet then updates the mounted file)');
    assert.match(config.stdout, /es-enterprise-license: warn/);
  });

  it('federationDiscovery: without its Secret namespace an upgrade fails with one line and changes nothing; with it, the Secret reader Role is made there', async () => {
    const upgrade = () => helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--set', 'federationDiscovery.enabled=true']);
    const refused = await upgrade();
    assert.notEqual(refused.code, 0);
    const errors = refused.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    assert.equal(errors.length, 1, refused.stderr);
    assert.match(errors[0]!, /federationDiscovery\.secretNamespace: the namespace calico-system does not exist/);
    const args = () => kubectl(['get', 'deployment', RELEASE, '-n', NAMESPACE, '-o', 'jsonpath={.spec.template.spec.containers[0].args}']);
    assert.doesNotMatch((await args()).stdout, /federation/);

    assert.equal((await kubectl(['create', 'namespace', 'calico-system'])).code, 0);
    const r = await upgrade();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await exists('role', `${RELEASE}-federation-secret-reader`, 'calico-system'));
    assert.match((await args()).stdout, /"--federation-discovery","--federation-secret-namespace=calico-system"/);
    const sa = `system:serviceaccount:${NAMESPACE}:${RELEASE}`;
    const canI = async (...a: string[]) => (await kubectl(['auth', 'can-i', ...a, `--as=${sa}`])).stdout.trim();
    assert.equal(await canI('get', 'secrets', '-n', 'calico-system'), 'yes');
    assert.equal(await canI('list', 'secrets', '-n', 'calico-system'), 'no');
  });

  it('in every certificate mode, the rendered objects are accepted by the kube-apiserver (server-side dry run; cert-manager objects aside)', async () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'rcg-ca-')), 'ca.crt');
    writeFileSync(ca, generateCA({ service: RELEASE, namespace: NAMESPACE, validityDays: 30 }).caCert);
    for (const values of [
      ['--set', 'clientAuth.caConfigMap=client-ca', '--set', 'webhook.excludedNamespaces={sandbox}'],
      [
        '--set',
        'certificates.mode=secret',
        '--set',
        'certificates.secret.name=webhook-tls',
        '--set-file',
        `certificates.secret.caBundle=${ca}`,
      ],
      ['--set', 'certificates.mode=certManager', '--api-versions', 'cert-manager.io/v1'],
      ['--set', 'federationDiscovery.enabled=true'],
    ]) {
      const r = await helm(['template', 'dry', CHART, '--namespace', NAMESPACE, ...values]);
      assert.equal(r.code, 0, r.stderr);
      // No cert-manager CRDs here: its Issuer and Certificates are checked by the chart tests only.
      const manifests = r.stdout.split(/^---$/m).filter((d) => /^kind: /m.test(d) && !/^apiVersion: cert-manager\.io\//m.test(d));
      const applied = await kubectl(['apply', '--dry-run=server', '-f', '-'], manifests.join('\n---\n'));
      assert.equal(applied.code, 0, `${values.join(' ')}:\n${applied.stderr}`);
    }
  });

  it('helm uninstall deletes the two webhook configurations before anything else, so no write is refused by a webhook with no Service', async () => {
    const r = await helm(['uninstall', RELEASE, '--namespace', NAMESPACE, '--debug']);
    assert.equal(r.code, 0, r.stderr);
    // Helm 4 logs each deletion (pkg/kube/client.go: "starting delete resource" with name and kind), in UninstallOrder.
    const deleted = [...(r.stdout + r.stderr).matchAll(/msg="starting delete resource".*?name=(\S+).*?kind=(\w+)/g)].map(
      (m) => `${m[2]}/${m[1]}`,
    );
    assert.ok(deleted.includes(`Service/${RELEASE}`), deleted.join('\n'));
    assert.deepEqual(
      deleted.slice(0, 2),
      [`ValidatingWebhookConfiguration/${RELEASE}`, `MutatingWebhookConfiguration/${RELEASE}`],
      deleted.join('\n'),
    );
    for (const kind of WEBHOOK_CONFIGURATIONS) assert.equal(await exists(kind, RELEASE), false, kind);
  });
});
