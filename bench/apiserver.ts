/**
 * `npm run bench:apiserver`: the latency the webhook adds to a server-side
 * dry-run create through a real kube-apiserver (test/e2e harness).
 *
 * The webhook runs as the e2e tests run it (test/e2e/support/webhook.ts:
 * makeCerts, startWebhook with live state, deploy/'s configurations with
 * `clientConfig.url`). Requests are plain HTTPS POSTs to the API server with
 * the admin token (`?dryRun=All`), one at a time, in blocks alternating
 * "no webhook configuration" and "configurations registered" so that drift
 * of the machine hits both alike; the configurations are deleted and
 * re-created between blocks, each change confirmed by a probe before
 * measuring.
 *
 *   npx tsx bench/apiserver.ts [--count 500] [--blocks 2]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { makeCerts, startWebhook, webhookConfigurations } from '../test/e2e/support/webhook.js';
import { clusterOne, federationPool } from './lib/bodies.js';
import { buildForBench } from './lib/build.js';
import { startBenchCluster, type ApiClient } from './lib/kube.js';
import { startRun, type RunInfo } from './lib/machine.js';
import { ROOT, startBare } from './lib/procs.js';
import { summarize, type LatencySummary } from './lib/stats.js';
import { renderResults } from './report.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    blocks: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '50' },
  },
});
const COUNT = Number(args.count);
const BLOCKS = Number(args.blocks);
const WARMUP = Number(args.warmup);

export interface ApiserverResults extends RunInfo {
  kind: 'apiserver';
  command: string;
  method: string;
  results: { label: string; condition: Condition; summary: LatencySummary; failures: number; statusCounts: Record<string, number> }[];
  /** Added by remote-cluster-guard (vs none), by the bare baseline registered in its place (vs none), and the difference. */
  added: { label: string; p50: number; p99: number; bareP50: number; bareP99: number; overBareP50: number; overBareP99: number }[];
  /** From the webhook's own histogram over the registered blocks: calls answered and their mean time inside the handler. */
  webhookSide: { calls: number; meanMs: number };
  /** Sockets on the webhook's port after each registered block: few established and no TIME_WAIT pile-up means the API server reuses its connections. */
  connections: { established: number; timeWait: number }[];
}

/** TCP sockets on local port `port` by state (/proc/net/tcp): ESTABLISHED and TIME_WAIT counts. */
function socketsOn(port: number): { established: number; timeWait: number } {
  let established = 0;
  let timeWait = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf-8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || parseInt(f[1]!.split(':')[1]!, 16) !== port) continue;
      if (f[3] === '01') established++;
      if (f[3] === '06') timeWait++;
    }
  }
  return { established, timeWait };
}

/** No webhook configuration; deploy/'s configurations pointing at remote-cluster-guard; the same pointing at the bare baseline server. */
export type Condition = 'none' | 'webhook' | 'bare';
const CONDITIONS: Condition[] = ['none', 'webhook', 'bare'];

const log = (msg: string) => process.stderr.write(`[bench:apiserver ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Probe {
  label: string;
  path: string;
  body: string;
}

async function timed(
  api: ApiClient,
  p: Probe,
  n: number,
  warmup: number,
  into: { latencies: number[]; statuses: Record<string, number>; failures: number },
): Promise<void> {
  for (let i = 0; i < warmup + n; i++) {
    const start = process.hrtime.bigint();
    const r = await api.request('POST', p.path, p.body);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (i < warmup) continue;
    into.latencies.push(elapsed);
    into.statuses[r.status] = (into.statuses[r.status] ?? 0) + 1;
    if (r.status !== 201) {
      if (into.failures === 0) log(`${p.label}: ${r.status} ${r.text.slice(0, 400)}`);
      into.failures++;
    }
  }
}

/** True once the API server calls the webhook: an Elasticsearch with an invalid alias is denied by it. */
async function webhookActive(api: ApiClient): Promise<boolean> {
  const bad = {
    apiVersion: 'elasticsearch.k8s.elastic.co/v1',
    kind: 'Elasticsearch',
    metadata: { name: 'probe', namespace: 'ns-one' },
    spec: {
      version: '8.16.1',
      nodeSets: [{ name: 'default', count: 1 }],
      remoteClusters: [{ name: 'x:y', elasticsearchRef: { name: 'nothing' } }],
    },
  };
  const r = await api.request('POST', '/apis/elasticsearch.k8s.elastic.co/v1/namespaces/ns-one/elasticsearches?dryRun=All', bad);
  return r.status === 403 && r.text.includes('remote-cluster-guard');
}

/** Waits until the deny probe gives the expected answer several times in a row (`active`: denied by remote-cluster-guard). */
async function waitWebhook(api: ApiClient, active: boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  // Several consecutive agreeing probes: the API server has more than one informer-fed view.
  let agreeing = 0;
  while (agreeing < 5) {
    agreeing = (await webhookActive(api)) === active ? agreeing + 1 : 0;
    if (Date.now() > deadline) throw new Error(`webhook configurations not ${active ? 'in' : 'out of'} effect after 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const run = startRun();
  buildForBench();
  log('starting etcd + kube-apiserver');
  const { cluster, api } = await startBenchCluster();
  let hook: Awaited<ReturnType<typeof startWebhook>> | undefined;
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    const certs = await makeCerts();
    hook = await startWebhook({ cluster, ...certs });
    // The control: the bare baseline server (bench/servers/bare.ts, allowed: true for anything) with the same certificate.
    const tls = {
      certFile: join(certs.certDir, 'tls.crt'),
      keyFile: join(certs.certDir, 'tls.key'),
      ca: readFileSync(join(certs.certDir, 'ca.crt'), 'utf-8'),
    };
    bare = await startBare('bare-webhook', tls, certs.certDir);
    const bareUrl = `https://127.0.0.1:${bare.port}`;
    log(`webhook serving on ${hook.url}, bare baseline on ${bareUrl}`);
    type Config = { kind: string; metadata: { name: string; resourceVersion?: string }; webhooks: { clientConfig: { url?: string } }[] };
    const configsFor = (url: string) => parseAllDocuments(webhookConfigurations(url, certs.caBundle)).map((d) => d.toJS() as Config);
    const pathOf = (o: Config) =>
      `/apis/admissionregistration.k8s.io/v1/${o.kind === 'MutatingWebhookConfiguration' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations'}`;
    /** Creates the configurations (or replaces them in place, so no request runs without them) pointing at `url`. */
    const pointAt = async (url: string, active: boolean) => {
      for (const o of configsFor(url)) {
        const current = await api.request('GET', `${pathOf(o)}/${o.metadata.name}`);
        const r =
          current.status === 200
            ? await api.request('PUT', `${pathOf(o)}/${o.metadata.name}`, {
                ...o,
                metadata: { ...o.metadata, resourceVersion: (JSON.parse(current.text) as Config).metadata.resourceVersion },
              })
            : await api.request('POST', pathOf(o), o);
        if (r.status !== 200 && r.status !== 201) throw new Error(`configure ${o.kind}: ${r.status} ${r.text.slice(0, 300)}`);
      }
      await waitWebhook(api, active);
    };
    const unregister = async () => {
      for (const o of configsFor(hook!.url)) await api.request('DELETE', `${pathOf(o)}/${o.metadata.name}`);
      await waitWebhook(api, false);
    };

    const probes: Probe[] = [
      {
        label: 'Elasticsearch cluster-one (ns-one)',
        path: '/apis/elasticsearch.k8s.elastic.co/v1/namespaces/ns-one/elasticsearches?dryRun=All',
        body: JSON.stringify(clusterOne()),
      },
      {
        label: 'IPPool cluster1-main-pool (projectcalico.org/v3)',
        path: '/apis/projectcalico.org/v3/ippools?dryRun=All',
        body: JSON.stringify(federationPool()),
      },
    ];
    const acc = new Map<string, { latencies: number[]; statuses: Record<string, number>; failures: number }>();
    const bucket = (p: Probe, condition: Condition) => {
      const k = `${p.label}|${condition}`;
      if (!acc.has(k)) acc.set(k, { latencies: [], statuses: {}, failures: 0 });
      return acc.get(k)!;
    };
    const perBlock = Math.ceil(COUNT / BLOCKS);
    // The webhook's own view: admission_duration_seconds sum and count, summed over both endpoints.
    const handlerTime = async () => {
      const text = (await hook!.get('/metrics')).body;
      let sum = 0;
      let count = 0;
      for (const line of text.split('\n')) {
        if (/^remote_cluster_guard_admission_duration_seconds_sum\{/.test(line)) sum += Number(line.split(' ').pop());
        if (/^remote_cluster_guard_admission_duration_seconds_count\{/.test(line)) count += Number(line.split(' ').pop());
      }
      return { sum, count };
    };
    const webhookSide = { calls: 0, seconds: 0 };
    const connections: { established: number; timeWait: number }[] = [];
    for (let block = 0; block < BLOCKS; block++) {
      for (const condition of CONDITIONS) {
        if (condition === 'webhook') await pointAt(hook.url, true);
        if (condition === 'bare') await pointAt(bareUrl, false);
        for (const p of probes) {
          const before = await handlerTime();
          await timed(api, p, perBlock, WARMUP, bucket(p, condition));
          const after = await handlerTime();
          if (condition === 'webhook') {
            webhookSide.calls += after.count - before.count;
            webhookSide.seconds += after.sum - before.sum;
            connections.push(socketsOn(hook.port));
          }
          log(`block ${block + 1}/${BLOCKS}, ${condition}: ${p.label} done`);
        }
        if (condition === 'bare') await unregister();
      }
    }
    const results: ApiserverResults['results'] = [];
    for (const p of probes) {
      for (const condition of CONDITIONS) {
        const a = bucket(p, condition);
        results.push({ label: p.label, condition, summary: summarize(a.latencies), failures: a.failures, statusCounts: a.statuses });
      }
    }
    const added = probes.map((p) => {
      const of = (c: Condition) => results.find((r) => r.label === p.label && r.condition === c)!.summary;
      const [none, withHook, withBare] = [of('none'), of('webhook'), of('bare')];
      return {
        label: p.label,
        p50: withHook.p50 - none.p50,
        p99: withHook.p99 - none.p99,
        bareP50: withBare.p50 - none.p50,
        bareP99: withBare.p99 - none.p99,
        overBareP50: withHook.p50 - withBare.p50,
        overBareP99: withHook.p99 - withBare.p99,
      };
    });
    for (const r of results)
      log(`${r.label} ${r.condition}: p50 ${r.summary.p50.toFixed(3)} ms p99 ${r.summary.p99.toFixed(3)} ms failures ${r.failures}`);
    const out: ApiserverResults = {
      kind: 'apiserver',
      ...run.finish(),
      command: `npm run bench:apiserver${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      method:
        `A real etcd + kube-apiserver v1.35 on 127.0.0.1 (test/e2e/harness/cluster.ts) with the e2e CRDs, the bench's base state (licence ConfigMap, cluster-two, ` +
        `federation pools and RCC) and the webhook started by test/e2e/support/webhook.ts (\`serve --kubeconfig\`, live state, run through tsx as the e2e tests run it). ` +
        `Each request is a POST \`?dryRun=All\` create with the admin token over a keep-alive HTTPS connection, one at a time, ${WARMUP} unmeasured before each block; ` +
        `${BLOCKS} blocks per condition, rotating through three conditions: no webhook configuration; deploy/'s webhook configurations (mutating + validating, ` +
        `\`clientConfig.url\`) pointing at remote-cluster-guard; the same configurations pointing at the bare baseline server (bench/servers/bare.ts, same certificate, ` +
        `allows everything), the control for what the API server spends calling any two webhooks. Each switch is confirmed by a probe before measuring ` +
        `(an object remote-cluster-guard denies: denied, then allowed once the configurations point at the bare server). Answers are 201 (created, dry run) when allowed.`,
      results,
      added,
      webhookSide: { calls: webhookSide.calls, meanMs: (webhookSide.seconds * 1000) / Math.max(1, webhookSide.calls) },
      connections,
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/apiserver.json'), JSON.stringify(out, null, 2) + '\n');
    renderResults();
    log(`results in bench/results/apiserver.json (${out.durationSeconds.toFixed(0)} s)`);
  } finally {
    await hook?.stop();
    await bare?.stop();
    api.close();
    await cluster.stop();
  }
}

await main();
