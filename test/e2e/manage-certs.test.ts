/**
 * `serve --manage-certs` against a real kube-apiserver: the webhook keeps its
 * CA and serving certificate in a Secret, writes the caBundle into deploy/'s
 * webhook configurations, several replicas converge on one Secret, and a CA
 * rotation happens while the kube-apiserver keeps calling the webhook.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startTestCluster, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { startWebhook, webhookConfigurations, type RunningWebhook } from './support/webhook.js';

let cluster: TestCluster;
const hooks: RunningWebhook[] = [];
let port: number;

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
const selfRef = JSON.stringify({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  metadata: { name: 'loop', namespace: 'ns-one' },
  spec: { version: '8.16.1', remoteClusters: [{ name: 'me', elasticsearchRef: { name: 'loop' } }] },
});
/** True when the webhook answered (a denial from it), false when the API server could not call it. */
async function webhookAnswers(): Promise<boolean> {
  const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], selfRef);
  if (/denied the request: es-remote-ref/.test(r.stderr)) return true;
  assert.match(r.stderr, /failed calling webhook/, `unexpected kubectl result:\n${r.stdout}${r.stderr}`);
  return false;
}
async function secret(): Promise<Record<string, string>> {
  const r = await kubectl(['get', 'secret', 'remote-cluster-guard-certs', '-n', 'remote-cluster-guard', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const data = (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}
/** SHA-256 fingerprint of the certificate a TLS server presents. */
function servedFingerprint(p: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: p, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const managed = (extra: string[], p?: number) =>
  startWebhook({
    cluster,
    certDir: mkdtempSync(join(tmpdir(), 'rcg-managed-')),
    caBundle: '',
    managed: true,
    ...(p ? { port: p } : {}),
    extraArgs: ['--cert-check-interval', '1', ...extra],
  }).then((h) => (hooks.push(h), h));

before(
  async () => {
    cluster = await startTestCluster();
    await installCrds(cluster, ['elasticsearch.yaml']);
    for (const ns of ['ns-one', 'remote-cluster-guard']) await kubectl(['create', 'namespace', ns]);
    port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    // Registered with an empty caBundle: the webhook fills it in.
    const r = await kubectl(['apply', '-f', '-'], webhookConfigurations(`https://127.0.0.1:${port}`, ''));
    assert.equal(r.code, 0, r.stderr);
  },
  { timeout: 900_000 },
);

after(async () => {
  for (const h of hooks) await h.stop();
  await cluster?.stop();
});

describe('serve --manage-certs', () => {
  it('creates its CA and certificate in a Secret and writes the caBundle into both webhook configurations', async () => {
    const a = await managed(['--cert-validity-days', '5', '--cert-renew-before-days', '0'], port);
    const s = await secret();
    assert.equal(fingerprint(s['tls.crt']!), await servedFingerprint(a.port));
    assert.equal(new X509Certificate(s['ca.crt']!).ca, true);
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      const r = await kubectl(['get', kind, 'remote-cluster-guard', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']);
      assert.equal(Buffer.from(r.stdout, 'base64').toString(), s['ca-bundle.crt'], `${kind} caBundle`);
    }
    let answered = false;
    for (let i = 0; i < 50 && !(answered = await webhookAnswers()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(answered, 'the kube-apiserver trusts the managed certificate');
  });

  it('a second replica adopts the same Secret instead of making its own certificates', async () => {
    const before = await secret();
    const b = await managed(['--cert-validity-days', '5', '--cert-renew-before-days', '0']);
    assert.equal(await servedFingerprint(b.port), fingerprint(before['tls.crt']!));
    assert.equal((await secret())['ca.crt'], before['ca.crt']);
    await b.stop();
  });

  it('rotates the CA before expiry while the kube-apiserver keeps calling the webhook, with no failed call', async () => {
    const first = await secret();
    const served = fingerprint(first['tls.crt']!);
    // A replica whose renewal window covers the current CA (5-day certificates, 10-day CA): it renews both once.
    await managed(['--cert-validity-days', '20', '--cert-renew-before-days', '12']);
    const rotated = await secret();
    assert.notEqual(rotated['ca.crt'], first['ca.crt'], 'a new CA');
    assert.equal((rotated['ca-bundle.crt']!.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'the bundle trusts the new and the old CA');
    // The first replica (behind the registered URL) adopts the new certificate one pass after the bundle carries its CA.
    const deadline = Date.now() + 20_000;
    let calls = 0;
    while ((await servedFingerprint(port)) === served) {
      assert.ok(Date.now() < deadline, 'the serving replica adopted the rotated certificate');
      assert.ok(await webhookAnswers(), 'the kube-apiserver could call the webhook during the rotation');
      calls++;
    }
    assert.equal(await servedFingerprint(port), fingerprint(rotated['tls.crt']!));
    for (let i = 0; i < 5; i++) assert.ok(await webhookAnswers(), 'the kube-apiserver calls the webhook after the rotation');
    assert.ok(calls > 0, 'calls were made while the rotation was under way');
  });
});
