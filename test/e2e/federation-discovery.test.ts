/**
 * End to end: federation discovery (`serve --federation-discovery`) between
 * two real clusters, A (local, where the webhook admits) and B (remote),
 * each its own etcd and kube-apiserver. In A: the clusterAccessSecret
 * (datastoreType kubernetes, an inline kubeconfig for B) in calico-system and
 * RemoteClusterConfiguration `cluster-b` naming it. In B: an enabled IPPool
 * and a Node with podCIDRs and addresses. The webhook watches A and reaches B
 * only through what the Secret holds.
 *
 * Checked: a local pool overlapping B's pool or a Node address of B is denied
 * naming B's object; a pool made in B is enforced in A within 2 s; with NAT on
 * in A, taking a federation pool's coverage away is denied on UPDATE and its
 * deletion (DELETE is not admitted) is reported by the periodic audit in the
 * policy report; B stopped leaves A's other admissions alone while a
 * B-dependent one answers the unsynced policy, and the metrics say B is not
 * synced; B's token appears in no log of the webhook.
 * The tests run in order (each builds on the last).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestCluster, type KubectlResult, type TestCluster } from './harness/cluster.js';
import { installCrds } from './support/crds.js';
import { makeCerts, metricValue, startWebhook, webhookConfigurations, type RunningWebhook } from './support/webhook.js';

const SECRET = 'cluster-b-access';
const REMOTE = 'cluster-b';
/** B's objects: an enabled pool and a Node (pod CIDR, an InternalIP and an ExternalIP). */
const B_POOL = { name: 'b-pods', cidr: '10.50.0.0/16' };
const B_NODE = { name: 'b-node-1', podCIDR: '10.60.1.0/24', internalIP: '192.168.50.10', externalIP: '203.0.113.10' };
/** The federation pool of A for B: covers B's pools and the Node's pod CIDR (10.48.0.0 - 10.63.255.255). */
const FED_POOL = { name: 'fed-cluster-b', cidr: '10.48.0.0/12' };
const SYNCED = `remote_cluster_guard_remote_cluster_synced{remote_cluster="${REMOTE}"}`;
const objectsMetric = (kind: string) => `remote_cluster_guard_remote_cluster_objects{remote_cluster="${REMOTE}",kind="${kind}"}`;

let a: TestCluster;
let b: TestCluster;
let bStopped = false;
let hook: RunningWebhook | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = (c: TestCluster, args: string[], input?: string) =>
  c.kubectlRun(args, { allowFail: true, timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
const ok = (r: KubectlResult, what: string) => assert.equal(r.code, 0, `${what}:\n${r.stdout}\n${r.stderr}`);
const denied = (r: KubectlResult) =>
  r.code !== 0 && /admission webhook "validate\.remote-cluster-guard\.io" denied the request/.test(r.stderr);

function pool(name: string, cidr: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'IPPool',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { cidr, ...spec },
  });
}

/** A kubeconfig for `c` with inline data only (token, certificate-authority-data), as a clusterAccessSecret holds it. */
function inlineKubeconfig(c: TestCluster): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${REMOTE}`,
    '  cluster:',
    `    server: ${c.server}`,
    `    certificate-authority-data: ${readFileSync(c.caFile).toString('base64')}`,
    'users:',
    '- name: remote-reader',
    '  user:',
    `    token: ${c.token}`,
    'contexts:',
    `- name: ${REMOTE}`,
    '  context:',
    `    cluster: ${REMOTE}`,
    '    user: remote-reader',
    `current-context: ${REMOTE}`,
    '',
  ].join('\n');
}

/** Runs `attempt` until it returns a value, or fails after `timeoutMs` with `what` and the last value seen. */
async function eventually<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>, last?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await attempt();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      assert.fail(`${what}: not within ${timeoutMs} ms${last ? `\n${last()}` : ''}\nwebhook output:\n${hook?.output().slice(-3000)}`);
    await sleep(250);
  }
}

interface ReportResult {
  policy: string;
  result: string;
  message: string;
  resources: { kind: string; name: string }[];
}

/** The results of the cluster-scoped OpenReports report the periodic audit writes into A. */
async function clusterReportResults(): Promise<ReportResult[] | undefined> {
  const r = await run(a, ['get', 'clusterreports.openreports.io', 'remote-cluster-guard', '-o', 'json']);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { results?: ReportResult[] }).results ?? [];
}

/** The calico-nat-coverage results about RCC cluster-b that mention `cidr`. */
const natCoverageAbout = (results: readonly ReportResult[], cidr: string) =>
  results.filter(
    (x) =>
      x.policy === 'calico-nat-coverage' &&
      x.resources.some((res) => res.kind === 'RemoteClusterConfiguration' && res.name === REMOTE) &&
      x.message.includes(`remote CIDR ${cidr} of remote cluster ${REMOTE}`),
  );

before(
  async () => {
    [a, b] = await Promise.all([startTestCluster(), startTestCluster()]);
    await Promise.all([installCrds(a, ['calico-crd.yaml', 'openreports.yaml']), installCrds(b, ['calico-crd.yaml'])]);

    // B: an enabled pool, and a Node with its pod CIDR and addresses (a Node's create keeps its status, as a kubelet registers).
    ok(await run(b, ['create', '-f', '-'], pool(B_POOL.name, B_POOL.cidr)), 'pool in B');
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: B_NODE.name },
      spec: { podCIDR: B_NODE.podCIDR, podCIDRs: [B_NODE.podCIDR] },
      status: {
        addresses: [
          { type: 'InternalIP', address: B_NODE.internalIP },
          { type: 'ExternalIP', address: B_NODE.externalIP },
          { type: 'Hostname', address: B_NODE.name },
        ],
      },
    };
    ok(await run(b, ['create', '-f', '-'], JSON.stringify(node)), 'Node in B');
    const stored = JSON.parse((await b.kubectlRun(['get', 'node', B_NODE.name, '-o', 'json'])).stdout) as {
      status?: { addresses?: { address: string }[] };
    };
    if (!stored.status?.addresses?.some((x) => x.address === B_NODE.internalIP)) {
      // Not kept on create: set through the status subresource.
      ok(
        await run(b, ['patch', 'node', B_NODE.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: node.status })]),
        'Node status in B',
      );
    }

    // A: the clusterAccessSecret and the RemoteClusterConfiguration naming it.
    ok(await run(a, ['create', 'namespace', 'calico-system']), 'namespace calico-system');
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SECRET, namespace: 'calico-system' },
      stringData: { datastoreType: 'kubernetes', kubeconfig: inlineKubeconfig(b) },
    };
    ok(await run(a, ['create', '-f', '-'], JSON.stringify(secret)), 'clusterAccessSecret in A');
    const rcc = {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'RemoteClusterConfiguration',
      metadata: { name: REMOTE },
      spec: { clusterAccessSecret: { name: SECRET, namespace: 'calico-system', kind: 'Secret' } },
    };
    ok(await run(a, ['create', '-f', '-'], JSON.stringify(rcc)), 'RemoteClusterConfiguration in A');

    const certs = await makeCerts();
    hook = await startWebhook({ cluster: a, ...certs, extraArgs: ['--federation-discovery', '--audit-interval', '1'] });
    ok(await run(a, ['apply', '-f', '-'], webhookConfigurations(hook.url, certs.caBundle)), 'webhook configurations in A');
    // Both of B's objects discovered, B synced.
    await hook.waitForMetrics(
      (m) => metricValue(m, SYNCED) === 1 && metricValue(m, objectsMetric('IPPool')) === 1 && metricValue(m, objectsMetric('Node')) === 1,
      'cluster-b synced with its IPPool and Node',
      60_000,
    );
    // The webhook configurations reach A's API server within about a second, and the rules see B as current up to a
    // reconcile period (1 s) after the metrics do: wait until a pool overlapping B's is denied for that overlap.
    await eventually('the webhook called by A and B current for its rules', 60_000, async () => {
      const r = await run(a, ['create', '--dry-run=server', '-f', '-'], pool('probe', '10.50.0.0/24'));
      return denied(r) && /calico-pool-overlap: spec\.cidr: .*discovered in remote cluster cluster-b/.test(r.stderr) ? r : undefined;
    });
  },
  { timeout: 900_000 },
);

after(async () => {
  await hook?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('federation discovery between two clusters', { concurrency: false }, () => {
  it("denies a local enabled pool overlapping B's pool or a Node of B, naming B and its object", async (t) => {
    const overPool = await run(a, ['create', '-f', '-'], pool('a-over-pool', '10.50.128.0/17'));
    assert.ok(denied(overPool), `an enabled pool overlapping B's IPPool not denied:\n${overPool.stdout}${overPool.stderr}`);
    t.diagnostic(overPool.stderr.trim());
    assert.match(overPool.stderr, /calico-pool-overlap/);
    assert.match(overPool.stderr, /discovered in remote cluster cluster-b \(IPPool b-pods\)/);
    // A pool within B's range is also a federation pool that is not disabled; the range is named as discovered, not as declared.
    assert.match(
      overPool.stderr,
      /calico-federation-pool-disabled: .*within remote CIDR 10\.50\.0\.0\/16 discovered in remote cluster cluster-b/,
    );

    for (const [name, cidr] of [
      ['a-over-internal-ip', `${B_NODE.internalIP}/32`],
      ['a-over-external-ip', '203.0.113.0/24'],
      ['a-over-pod-cidr', '10.60.1.64/26'],
    ] as const) {
      const r = await run(a, ['create', '-f', '-'], pool(name, cidr));
      assert.ok(denied(r), `${name} (${cidr}) not denied:\n${r.stdout}${r.stderr}`);
      t.diagnostic(r.stderr.trim());
      assert.match(r.stderr, /calico-pool-overlap/);
      assert.match(r.stderr, /discovered in remote cluster cluster-b \(Node b-node-1\)/);
    }

    // Not everything is denied: a pool clear of B's ranges is created.
    ok(await run(a, ['create', '-f', '-'], pool('a-clear', '10.20.0.0/16')), 'a pool overlapping nothing of B');
  });

  it('enforces a pool created in B within 2 s in A', async (t) => {
    const late = { name: 'b-late', cidr: '10.55.0.0/16' };
    const overlapping = pool('a-over-late', '10.55.1.0/24');
    const dryRun = ['apply', '--dry-run=server', '-f', '-'];
    // Allowed before B has it: the denial below is B's pool's doing.
    ok(await run(a, dryRun, overlapping), 'an overlapping pool before B has its pool');

    const asked = Date.now();
    ok(await run(b, ['create', '-f', '-'], pool(late.name, late.cidr)), 'pool made in B');
    const created = Date.now();
    const last = await eventually('a pool overlapping the new pool of B denied', 30_000, async () => {
      const r = await run(a, dryRun, overlapping);
      return denied(r) ? r : undefined;
    });
    const enforcedMs = Date.now() - created;
    const figure = `pool made in B enforced in A ${enforcedMs} ms after B's kubectl create returned (${Date.now() - asked} ms after it was run)`;
    t.diagnostic(figure);
    console.log(`federation discovery latency: ${figure}`);
    assert.match(last.stderr, /discovered in remote cluster cluster-b \(IPPool b-late\)/);
    assert.ok(enforcedMs < 2000, figure);
  });

  it("with NAT on in A, denies an update that takes the federation pool's coverage away and reports its deletion in the audit", async (t) => {
    const fed = (cidr: string) =>
      pool(FED_POOL.name, cidr, { disabled: true, natOutgoing: false }, { 'remote-cluster-guard.io/remote-cluster': REMOTE });
    ok(await run(a, ['create', '-f', '-'], fed(FED_POOL.cidr)), 'federation pool');
    ok(await run(a, ['create', '-f', '-'], pool('a-nat', '10.10.0.0/16', { natOutgoing: true })), 'NAT-outgoing pool');

    // Covered: an audit run after both pools reports nothing about B's pool range.
    await eventually('a policy report with the federation pool in place', 60_000, async () => {
      const results = await clusterReportResults();
      const sawFed = results?.some((x) => x.resources.some((res) => res.kind === 'IPPool' && res.name === FED_POOL.name));
      const sawNat = results?.some((x) => x.resources.some((res) => res.kind === 'IPPool' && res.name === 'a-nat'));
      return sawFed && sawNat ? results : undefined;
    }).then((results) => assert.deepEqual(natCoverageAbout(results, B_POOL.cidr), [], JSON.stringify(results, null, 2)));

    // UPDATE that stops covering B's ranges (LoadBalancer-only: Felix leaves it out of the pools it does not NAT to): denied.
    const shrink = await run(a, ['patch', 'ippool', FED_POOL.name, '--type=merge', '-p', '{"spec":{"allowedUses":["LoadBalancer"]}}']);
    assert.ok(denied(shrink), `making the federation pool LoadBalancer-only not denied:\n${shrink.stdout}${shrink.stderr}`);
    t.diagnostic(shrink.stderr.trim());
    assert.match(shrink.stderr, /calico-nat-coverage: spec\.allowedUses: IPPool fed-cluster-b \(10\.48\.0\.0\/12\) no longer covers/);
    assert.doesNotMatch(shrink.stderr, /calico-pool-spec/);
    assert.match(shrink.stderr, /remote CIDR 10\.50\.0\.0\/16 of remote cluster cluster-b \(discovered from its IPPool b-pods\)/);

    // DELETE is not admitted: it goes through, and the periodic audit reports the range left uncovered on the RCC.
    ok(await run(a, ['delete', 'ippool', FED_POOL.name]), 'delete the federation pool');
    const reported = await eventually(
      'the audit reporting the uncovered range of cluster-b',
      60_000,
      async () => {
        const found = natCoverageAbout((await clusterReportResults()) ?? [], B_POOL.cidr);
        return found.length > 0 ? found : undefined;
      },
      () => 'last report: see `kubectl get clusterreports.openreports.io remote-cluster-guard -o yaml` in A',
    );
    t.diagnostic(reported[0]!.message);
    assert.equal(reported[0]!.result, 'warn');
    assert.match(
      reported[0]!.message,
      /discovered from its IPPool b-pods\) is not covered by any local IPPool while IPPool a-nat has natOutgoing on/,
    );
    assert.match(reported[0]!.message, /label remote-cluster-guard\.io\/remote-cluster: cluster-b/);
    await hook!.waitForMetrics(
      (m) =>
        (metricValue(
          m,
          'remote_cluster_guard_audit_violations{rule="calico-nat-coverage",kind="RemoteClusterConfiguration",action="warn"}',
        ) ?? 0) >= 1,
      'the audit counting the calico-nat-coverage warning on the RCC',
      30_000,
    );
  });

  it("with B stopped, A's other admissions go on and a B-dependent one answers the unsynced policy", async (t) => {
    const stopping = Date.now();
    await b.stop(); // etcd and kube-apiserver (SIGTERM, which kube-apiserver takes a few seconds to act on)
    bStopped = true;
    const stopped = Date.now();
    await hook!.waitForMetrics((m) => metricValue(m, SYNCED) === 0, 'cluster-b unsynced', 60_000);
    t.diagnostic(`B stopped in ${stopped - stopping} ms; cluster-b reported unsynced ${Date.now() - stopping} ms after the stop began`);

    // Overlapping B's last known pool: cannot be verified while B is away (the rules see it up to a reconcile period after the metrics).
    const dependent = await eventually("a pool overlapping B's last known range answered with the unsynced policy", 30_000, async () => {
      const r = await run(a, ['create', '--dry-run=server', '-f', '-'], pool('a-over-b', '10.50.7.0/24'));
      return /cannot verify yet/.test(r.stderr) ? r : undefined;
    });
    assert.ok(denied(dependent), `a pool overlapping B's last known range not denied:\n${dependent.stdout}${dependent.stderr}`);
    t.diagnostic(dependent.stderr.trim());
    assert.match(
      dependent.stderr,
      /calico-pool-overlap: cannot verify yet: the discovered ranges of remote cluster cluster-b \(.*\) are not current/,
    );

    // Far from B's last known ranges: checked as usual, without waiting for B.
    const asked = Date.now();
    const far = await run(a, ['create', '--dry-run=server', '-f', '-'], pool('a-far', '10.200.0.0/16'));
    t.diagnostic(`pool clear of B admitted in ${Date.now() - asked} ms while B is away`);
    ok(far, 'an enabled pool clear of B while B is away');
    // A local overlap is still denied as usual (a-clear), not answered with B's state.
    const local = await run(a, ['create', '--dry-run=server', '-f', '-'], pool('a-local-overlap', '10.20.5.0/24'));
    assert.ok(denied(local), `a local overlap not denied:\n${local.stdout}${local.stderr}`);
    assert.match(local.stderr, /calico-pool-overlap: .*a-clear/);
    assert.doesNotMatch(local.stderr, /cannot verify yet/);

    const metrics = (await hook!.get('/metrics')).body;
    assert.equal(metricValue(metrics, SYNCED), 0);
    assert.ok(
      (metricValue(metrics, 'remote_cluster_guard_remote_cluster_last_error_timestamp_seconds{remote_cluster="cluster-b"}') ?? 0) >
        stopped / 1000 - 1,
    );
  });

  it("never writes B's token to the webhook's logs", () => {
    assert.ok(bStopped || b.token, 'B ran');
    const logs = hook!.output() + readFileSync(hook!.decisionLog, 'utf-8');
    assert.ok(logs.includes(REMOTE), 'the logs speak of cluster-b');
    assert.ok(!logs.includes(b.token), "B's token appears in the webhook's logs");
    assert.ok(!logs.includes(Buffer.from(b.token).toString('base64')), "B's token (base64) appears in the webhook's logs");
  });
});
