/**
 * Caller authentication against a real kube-apiserver: the webhook serves with
 * `--client-ca`, and the kube-apiserver presents a client certificate of that
 * CA (CN kube-apiserver) through `--admission-control-config-file`: an
 * AdmissionConfiguration whose WebhookAdmission kubeconfig names the webhook's
 * `127.0.0.1:PORT`
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#authenticate-apiservers).
 * The webhook's port is picked before the kube-apiserver starts, as the
 * kubeconfig names it. A denial by the webhook shows that the call got
 * through; a client without a certificate is refused in the handshake. The
 * probes are on a port of their own (the webhook port would ask for a
 * certificate).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCA, issueClientCertificate } from '../../src/certs/generate.js';
import { startTestCluster, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { freePort } from '../helpers/net.js';
import { makeCerts, startWebhook, webhookConfigurations, type RunningWebhook, kubectlUntilRefused } from './support/webhook.js';

let cluster: TestCluster;
let hook: RunningWebhook;
let certs: { certDir: string; caBundle: string };
const dir = mkdtempSync(join(tmpdir(), 'rcg-e2e-client-auth-'));
const clientCa = generateCA({ service: 'kube-apiserver-clients', namespace: 'e2e', validityDays: 2 });
const apiserverCert = issueClientCertificate(clientCa, { commonName: 'kube-apiserver', validityDays: 2 });

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
const selfRef = JSON.stringify({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  metadata: { name: 'loop', namespace: 'ns-one' },
  spec: {
    version: '8.16.1',
    nodeSets: [{ name: 'default', count: 1 }],
    remoteClusters: [{ name: 'me', elasticsearchRef: { name: 'loop' } }],
  },
});

/** The AdmissionConfiguration of both webhook plugins, with a kubeconfig giving the client certificate for `127.0.0.1:port`. */
function admissionConfiguration(port: number): string {
  writeFileSync(join(dir, 'client.crt'), apiserverCert.cert);
  writeFileSync(join(dir, 'client.key'), apiserverCert.key, { mode: 0o600 });
  const kubeconfig = join(dir, 'webhook-kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'users:',
      `- name: '127.0.0.1:${port}'`,
      '  user:',
      `    client-certificate: ${join(dir, 'client.crt')}`,
      `    client-key: ${join(dir, 'client.key')}`,
      '',
    ].join('\n'),
  );
  const plugin = (name: string) => [
    `- name: ${name}`,
    '  configuration:',
    '    apiVersion: apiserver.config.k8s.io/v1',
    '    kind: WebhookAdmissionConfiguration',
    `    kubeConfigFile: ${kubeconfig}`,
  ];
  const file = join(dir, 'admission.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: apiserver.config.k8s.io/v1',
      'kind: AdmissionConfiguration',
      'plugins:',
      ...plugin('ValidatingAdmissionWebhook'),
      ...plugin('MutatingAdmissionWebhook'),
      '',
    ].join('\n'),
  );
  return file;
}

before(
  async () => {
    const [port, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    cluster = await startTestCluster({ apiserverArgs: [`--admission-control-config-file=${admissionConfiguration(port)}`] });
    await installCrds(cluster, ['elasticsearch.yaml']);
    for (const ns of ['ns-one', 'elastic-system']) assert.equal((await kubectl(['create', 'namespace', ns])).code, 0);
    writeFileSync(join(dir, 'client-ca.crt'), clientCa.caCert);
    certs = await makeCerts();
    hook = await startWebhook({ cluster, ...certs, port, healthPort, metricsPort, extraArgs: ['--client-ca', join(dir, 'client-ca.crt')] });
    assert.equal((await kubectl(['apply', '-f', '-'], webhookConfigurations(hook.url, certs.caBundle))).code, 0);
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await cluster?.stop();
});

describe('the kube-apiserver authenticates to the webhook with a client certificate', () => {
  it('a denied object is denied by the webhook: the kube-apiserver got through', async () => {
    const r = await kubectlUntilRefused(cluster, ['apply', '--dry-run=server', '-f', '-'], selfRef);
    assert.match(r.stderr, /admission webhook "(validate|mutate)\.remote-cluster-guard\.io" denied the request: es-remote-ref/, r.stderr);
    assert.doesNotMatch(hook.output(), /client refused/);
  });

  it('a client without a certificate is refused in the handshake', async () => {
    const request = new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: hook.port,
          path: '/validate',
          method: 'POST',
          ca: readFileSync(join(certs.certDir, 'ca.crt')),
          agent: false,
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end('{}');
    });
    await assert.rejects(request, /ECONNRESET|EPIPE|alert|certificate/i);
  });

  it('the probes and /metrics answer on their own plain ports', async () => {
    assert.equal((await hook.get('/readyz')).status, 200);
    assert.match((await hook.get('/metrics')).body, /remote_cluster_guard_admission_requests_total\{path="\/validate"/);
  });
});
