/**
 * `serve --emit-events admission,audit` against the real kube-apiserver:
 * a denied `kubectl apply` becomes an events.k8s.io/v1 Event, a second
 * identical denial counts in that Event's `series.count` (no second Event),
 * an object that violates a rule and was created before the webhook was
 * registered gets an Event of the periodic audit regarding it (uid
 * included); without the flag, no Event. deploy/base/rbac.yaml grants what
 * the writes need. Events are read as a security team would:
 * `kubectl get events.events.k8s.io -A -o json`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import {
  makeCerts,
  metricValue,
  startWebhook,
  webhookConfigurations,
  type RunningWebhook,
  kubectlUntilRefused,
} from './support/webhook.js';

const ROOT = join(import.meta.dirname, '../..');
const WEBHOOK_NAMESPACE = 'remote-cluster-guard';
const CONTROLLER = 'remote-cluster-guard.io/webhook';

let cluster: TestCluster;
let certs: { certDir: string; caBundle: string };
let hook: RunningWebhook | undefined;

const kubectl = (args: string[], input?: string) =>
  cluster.kubectlRun(args, { allowFail: true, ...(input === undefined ? {} : { input }) });

/** An Elasticsearch in ns-one whose only remote cluster is itself: es-remote-ref denies it. */
const selfRef = (name: string) =>
  JSON.stringify({
    apiVersion: 'elasticsearch.k8s.elastic.co/v1',
    kind: 'Elasticsearch',
    metadata: { name, namespace: 'ns-one' },
    spec: { version: '8.16.1', nodeSets: [{ name: 'default', count: 1 }], remoteClusters: [{ name: 'me', elasticsearchRef: { name } }] },
  });

interface KubeEventJson {
  metadata: { name: string; namespace: string };
  regarding: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string };
  reason: string;
  action: string;
  note: string;
  type: string;
  reportingController: string;
  reportingInstance: string;
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
}

/** The webhook's Events, listed with the README's command. */
async function webhookEvents(): Promise<KubeEventJson[]> {
  const r = await kubectl(['get', 'events.events.k8s.io', '-A', '--field-selector', `reportingController=${CONTROLLER}`, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const items = (JSON.parse(r.stdout) as { items: KubeEventJson[] }).items;
  assert.ok(
    items.every((e) => e.reportingController === CONTROLLER),
    'the field selector lists only the webhook Events',
  );
  return items;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; events: ${JSON.stringify(await webhookEvents(), null, 1)}\n${hook?.output().slice(-3000)}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Applies `manifest` until the webhook denies it (new webhook configurations reach the kube-apiserver within about a second). */
async function applyUntilDenied(manifest: string, name: string): Promise<string> {
  const r = await kubectlUntilRefused(cluster, ['apply', '-f', '-'], manifest, () =>
    kubectl(['delete', 'elasticsearch', name, '-n', 'ns-one', '--ignore-not-found']),
  );
  assert.match(r.stderr, /denied the request: es-remote-ref/, r.stderr);
  return r.stderr;
}

const regards = (e: KubeEventJson, name: string) => e.regarding.kind === 'Elasticsearch' && e.regarding.name === name;
/** The Event of es-remote-ref's denial (no licence in this cluster: es-enterprise-license denies too, in an Event of its own). */
const selfRefEvent = (e: KubeEventJson, action: string, name: string) =>
  e.action === action && regards(e, name) && e.reason === 'remote-cluster-guard/es-remote-ref';

before(
  async () => {
    cluster = await startTestCluster();
    await installCrds(cluster, ['elasticsearch.yaml', 'calico-v3.yaml']);
    for (const ns of ['ns-one', 'elastic-system', WEBHOOK_NAMESPACE]) assert.equal((await kubectl(['create', 'namespace', ns])).code, 0);
    // Made before any webhook is registered: only the audit can find it.
    assert.equal((await kubectl(['apply', '-f', '-'], selfRef('loop-old'))).code, 0);
    certs = await makeCerts();
    hook = await startWebhook({ cluster, ...certs, extraArgs: ['--emit-events', 'admission,audit', '--audit-interval', '1'] });
    assert.equal((await kubectl(['apply', '-f', '-'], webhookConfigurations(hook.url, certs.caBundle))).code, 0);
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await cluster?.stop();
});

describe('serve --emit-events admission,audit', () => {
  it('a denied kubectl apply gives a Warning Event in the webhook namespace, regarding the object, reason remote-cluster-guard/<rule>', async () => {
    await applyUntilDenied(selfRef('loop'), 'loop');
    const e = await eventually('the admission Event', async () => (await webhookEvents()).find((x) => selfRefEvent(x, 'Admit', 'loop')));
    assert.equal(
      e.metadata.namespace,
      WEBHOOK_NAMESPACE,
      'a denied CREATE: the object does not exist, the Event goes in the webhook namespace',
    );
    assert.deepEqual(e.regarding, {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-one',
      name: 'loop',
    });
    assert.equal(e.reason, 'remote-cluster-guard/es-remote-ref');
    assert.equal(e.type, 'Warning');
    assert.match(e.note, /^spec\.remoteClusters\[0\]\.elasticsearchRef: /);
    assert.ok(e.reportingInstance.length > 0);
    assert.match(e.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(e.series, undefined, 'one denial so far');
  });

  it('a second identical denial within 10 minutes counts in series.count of the same Event', async () => {
    const r = await kubectl(['apply', '-f', '-'], selfRef('loop'));
    assert.match(r.stderr, /denied the request: es-remote-ref/, r.stderr);
    const e = await eventually('series.count 2', async () =>
      (await webhookEvents()).find((x) => selfRefEvent(x, 'Admit', 'loop') && x.series?.count === 2),
    );
    const all = (await webhookEvents()).filter((x) => selfRefEvent(x, 'Admit', 'loop'));
    assert.equal(all.length, 1, `one Event, not two: ${JSON.stringify(all)}`);
    assert.ok(Date.parse(e.series!.lastObservedTime) >= Date.parse(e.eventTime));
  });

  it('an object violating a rule since before the webhook was registered gets an Audit Event regarding it, uid included', async () => {
    const uid = (await kubectl(['get', 'elasticsearch', 'loop-old', '-n', 'ns-one', '-o', 'jsonpath={.metadata.uid}'])).stdout;
    assert.ok(uid);
    const e = await eventually('the audit Event', async () => (await webhookEvents()).find((x) => selfRefEvent(x, 'Audit', 'loop-old')));
    assert.equal(e.metadata.namespace, 'ns-one', 'the object exists: its own namespace');
    assert.equal(e.regarding.uid, uid);
    assert.equal(e.reason, 'remote-cluster-guard/es-remote-ref');
    // Audited every second: the next runs count in its series.
    await eventually('the audit series', async () =>
      (await webhookEvents()).find((x) => selfRefEvent(x, 'Audit', 'loop-old') && (x.series?.count ?? 0) >= 2),
    );
    assert.equal((await webhookEvents()).filter((x) => selfRefEvent(x, 'Audit', 'loop-old')).length, 1);
    const metrics = (await hook!.get('/metrics')).body;
    assert.ok((metricValue(metrics, 'remote_cluster_guard_events_total{result="created"}') ?? 0) >= 2, 'created counted');
    assert.equal(metricValue(metrics, 'remote_cluster_guard_events_total{result="failed"}'), 0);
  });

  it('a denied cluster-scoped IPPool gives an Event in default, the namespace the API server accepts for it', async () => {
    const pool = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: 'host-bits' },
      spec: { cidr: '10.99.0.5/16' },
    });
    const r = await kubectl(['apply', '-f', '-'], pool);
    assert.match(r.stderr, /denied the request: calico-pool-spec/, r.stderr);
    const e = await eventually('the IPPool Event', async () =>
      (await webhookEvents()).find((x) => x.regarding.kind === 'IPPool' && x.regarding.name === 'host-bits'),
    );
    assert.equal(e.metadata.namespace, 'default');
    assert.equal(e.reason, 'remote-cluster-guard/calico-pool-spec');
    assert.deepEqual(e.regarding, { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', name: 'host-bits' });
  });

  it('deploy/components/events lets the service account create and patch Events, and not read them; deploy/base does not', async () => {
    assert.equal((await kubectl(['apply', '-f', join(ROOT, 'deploy/base/rbac.yaml')])).code, 0);
    const can = async (verb: string, ns: string) =>
      (
        await kubectl([
          'auth',
          'can-i',
          verb,
          'events.events.k8s.io',
          '-n',
          ns,
          `--as=system:serviceaccount:${WEBHOOK_NAMESPACE}:remote-cluster-guard`,
        ])
      ).stdout.trim();
    assert.equal(await can('create', 'ns-one'), 'no', 'the base alone cannot write Events');
    assert.equal((await kubectl(['apply', '-f', join(ROOT, 'deploy/components/events/rbac.yaml')])).code, 0);
    for (const ns of ['ns-one', WEBHOOK_NAMESPACE, 'default']) {
      assert.equal(await can('create', ns), 'yes', `create in ${ns}`);
      assert.equal(await can('patch', ns), 'yes', `patch in ${ns}`);
    }
    assert.equal(await can('get', 'ns-one'), 'no');
  });
});

describe('serve without --emit-events', () => {
  it('writes no Event for a denial or an audit violation', async () => {
    await hook!.stop();
    const before = await webhookEvents();
    // The same port and certificate: the registered webhook configurations reach it.
    hook = await startWebhook({ cluster, ...certs, port: hook!.port, extraArgs: ['--audit-interval', '1'] });
    const r = await kubectl(['apply', '-f', '-'], selfRef('loop-two'));
    assert.match(r.stderr, /denied the request: es-remote-ref/, r.stderr);
    await hook.waitForMetrics(
      (text) =>
        (metricValue(text, 'remote_cluster_guard_audit_violations{rule="es-remote-ref",kind="Elasticsearch",action="deny"}') ?? 0) >= 1,
      'an audit run that found loop-old',
    );
    await new Promise((res) => setTimeout(res, 2000));
    const now = await webhookEvents();
    assert.equal(now.filter((x) => regards(x, 'loop-two')).length, 0, 'no Event for the denial');
    assert.deepEqual(
      now.map((x) => `${x.metadata.name} ${x.series?.count ?? 1}`).sort(),
      before.map((x) => `${x.metadata.name} ${x.series?.count ?? 1}`).sort(),
      'no Event written or counted',
    );
  });
});
