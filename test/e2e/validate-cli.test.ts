/**
 * End to end: `remote-cluster-guard validate --kubeconfig` against a real
 * kube-apiserver gives the cluster's answer. An IPPool stored in the cluster
 * is checked as an UPDATE of it: a manifest that changes its cidr is denied by
 * `validate` with the rule the webhook denies `kubectl apply --dry-run=server`
 * with (calico-pool-spec), and the unchanged manifest passes both.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { makeCerts, startWebhook, webhookConfigurations, type RunningWebhook, kubectlUntilRefused } from './support/webhook.js';
import { runCli } from '../helpers/cli.js';

const pool = (cidr: string) =>
  JSON.stringify({
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'IPPool',
    metadata: { name: 'e2e-pool' },
    spec: { cidr, vxlanMode: 'Never' },
  });

let cluster: TestCluster;
let hook: RunningWebhook | undefined;
const dir = mkdtempSync(join(tmpdir(), 'rcg-e2e-validate-'));
const manifest = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });

before(
  async () => {
    cluster = await startTestCluster();
    await installCrds(cluster, ['elasticsearch.yaml', 'calico-crd.yaml', 'calico-v3.yaml']);
    // Stored before the webhook is registered: the object predates it, as in a cluster adopting it.
    const created = await kubectl(['apply', '-f', '-'], pool('10.70.0.0/16'));
    assert.equal(created.code, 0, created.stderr);
    const certs = await makeCerts();
    hook = await startWebhook({ cluster, ...certs });
    assert.equal((await kubectl(['apply', '-f', '-'], webhookConfigurations(hook.url, certs.caBundle))).code, 0);
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await cluster?.stop();
});

describe("validate --kubeconfig gives the cluster's answer", () => {
  it('a changed cidr of a stored IPPool: denied by validate as an UPDATE, as the webhook denies the dry run', async () => {
    const changed = pool('10.71.0.0/16');
    const server = await kubectlUntilRefused(cluster, ['apply', '--dry-run=server', '-f', '-'], changed);
    assert.notEqual(server.code, 0, 'the webhook denies the dry run');
    assert.match(server.stderr, /calico-pool-spec: spec\.cidr: the CIDR of an existing IPPool cannot change/);

    const r = await runCli(['validate', '--kubeconfig', cluster.kubeconfig, manifest('changed.yaml', changed)]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /changed\.yaml:1: IPPool e2e-pool \(update\): calico-pool-spec: spec\.cidr: the CIDR of an existing IPPool cannot change \(it is 10\.70\.0\.0\/16\)/,
    );
  });

  it('the unchanged manifest passes both, checked as an UPDATE', async () => {
    const same = pool('10.70.0.0/16');
    assert.equal((await kubectl(['apply', '--dry-run=server', '-f', '-'], same)).code, 0);
    const r = await runCli(['validate', '--output', 'json', '--kubeconfig', cluster.kubeconfig, manifest('same.yaml', same)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [o] = (JSON.parse(r.stdout) as { objects: { operation: string; allowed: boolean }[] }).objects;
    assert.deepEqual([o!.operation, o!.allowed], ['UPDATE', true]);
  });
});
