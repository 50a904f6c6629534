/**
 * Policy report writing at scale: the audit of 10,000 Elasticsearch and
 * 10,000 IPPools (bench/lib/generate.ts, with the bench's base state:
 * licence, federation example; every Elasticsearch with its remote cluster
 * server enabled, so the set has no finding of its own) of which 1,000
 * violate a rule (500
 * Elasticsearch referencing themselves, 500 IPPools with host bits set),
 * written as OpenReports reports by the writer `serve` uses
 * (src/server/report-writer.ts) into the real kube-apiserver of the e2e
 * harness with the vendored report CRDs. Then the same audit again, which
 * must write nothing, and one with 100 violations fixed.
 *
 * The audited objects are held in memory (the live state would hold the
 * same); only the reports go through the API server. Writes are counted
 * twice: by the writer's metric, `remote_cluster_guard_report_writes_total
 * {verb}`, and by the API server's own `apiserver_request_total` for the
 * openreports.io group (every verb, reads included), read from its /metrics
 * before and after each run.
 *
 *   npx tsx bench/reports.ts [--count 10000] [--violations 1000]
 */
import { parseArgs } from 'node:util';
import { auditState } from '../src/cli/audit.js';
import { Engine } from '../src/engine/engine.js';
import { createLogger } from '../src/log/logger.js';
import { auditedObject } from '../src/reports/audited.js';
import { Metrics } from '../src/server/metrics.js';
import { ReportWriter, type ReportRun } from '../src/server/report-writer.js';
import { ALL_RULES } from '../src/rules/index.js';
import { loadKubeConfig } from '../src/state/live/cluster-watcher.js';
import { MemoryClusterState } from '../src/state/memory-state.js';
import { startTestCluster } from '../test/e2e/harness/cluster.js';
import { installCrds } from '../test/e2e/support/crds.js';
import { baseStateObjects } from './lib/bodies.js';
import { generateElasticsearches, generateIPPools } from './lib/generate.js';
import { apiClient, createAll, namespace } from './lib/kube.js';
import { startRun } from './lib/machine.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    violations: { type: 'string', default: '1000' },
  },
});
const COUNT = Number(args.count);
const VIOLATIONS = Number(args.violations);

const log = (msg: string) => process.stderr.write(`[bench:reports ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };

/** The generated objects with `violations` of them broken: half Elasticsearch referencing themselves, half IPPools with host bits set. */
function objects(count: number, violations: number, fixed = 0): Obj[] {
  const { es, configMaps } = generateElasticsearches(count);
  const { pools, rccs } = generateIPPools(count);
  const half = violations / 2;
  // The generated API-key clusters reach certificate-model ones, which the webhook warns about (es-remote-cluster-server):
  // with the remote cluster server on everywhere, the only findings are the violations made here.
  for (const o of es as Obj[]) o.spec['remoteClusterServer'] = { enabled: true };
  (es as Obj[]).slice(0, half - fixed / 2).forEach((o) => {
    const refs = o.spec['remoteClusters'] as { elasticsearchRef: { name: string; namespace?: string } }[];
    refs[0]!.elasticsearchRef = { name: o.metadata.name, namespace: o.metadata.namespace! };
  });
  (pools as Obj[])
    .filter((p) => p.metadata.name.startsWith('pool-v4-'))
    .slice(0, half - fixed / 2)
    .forEach((p) => {
      p.spec['cidr'] = String(p.spec['cidr']).replace(/\.(\d+)\/26$/, (_, last: string) => `.${Number(last) + 1}/26`);
    });
  return [...(baseStateObjects() as Obj[]), ...(configMaps as Obj[]), ...(rccs as Obj[]), ...(es as Obj[]), ...(pools as Obj[])];
}

function audit(list: Obj[]) {
  const state = new MemoryClusterState();
  for (const o of list) state.apply(o);
  const engine = new Engine(ALL_RULES, {
    operatorNamespace: 'elastic-system',
    policy: { modes: {}, excludedNamespaces: [], ratcheting: false, unsynced: 'deny' },
  });
  const t0 = performance.now();
  const result = auditState(state, engine);
  const audited = result.results.map((r) => auditedObject(r, r.decision));
  return { audited, ms: performance.now() - t0, failing: audited.filter((a) => a.outcomes.length > 0).length };
}

/**
 * From the API server's /metrics: apiserver_request_total by verb for the
 * report resources, and its process CPU seconds (`cpu`): on a loaded machine
 * the wall time says more about the other processes than about the writes.
 */
async function apiRequests(api: ReturnType<typeof apiClient>): Promise<Record<string, number>> {
  const text = (await api.request('GET', '/metrics')).text;
  const out: Record<string, number> = {};
  const cpu = /^process_cpu_seconds_total (\S+)$/m.exec(text);
  if (cpu) out['cpuSeconds'] = Number(cpu[1]);
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{') || !line.includes('group="openreports.io"')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '?';
    out[verb] = (out[verb] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

const diff = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(
    Object.keys(b)
      .map((k) => [k, Math.round((b[k]! - (a[k] ?? 0)) * 100) / 100])
      .filter(([, v]) => (v as number) > 0),
  );

async function main(): Promise<void> {
  const run = startRun();
  log('starting etcd + kube-apiserver');
  const cluster = await startTestCluster();
  const api = apiClient(cluster);
  try {
    await installCrds(cluster, ['openreports.yaml']);
    const namespaces = [
      ...new Set(
        objects(COUNT, 0)
          .map((o) => o.metadata.namespace)
          .filter((n): n is string => Boolean(n)),
      ),
    ];
    await createAll(api, namespaces.map(namespace) as never, 16, true);
    const metrics = new Metrics();
    const writer = new ReportWriter(loadKubeConfig(cluster.kubeconfig), {
      log: createLogger('warn', process.stderr),
      metrics,
      setting: () => 'openreports',
      webhookConfiguration: 'remote-cluster-guard',
    });
    const writes = async () => Object.fromEntries((await metrics.reportWrites.get()).values.map((v) => [v.labels.verb, v.value]));

    const phase = async (name: string, list: Obj[]) => {
      const a = audit(list);
      const before = { writes: await writes(), requests: await apiRequests(api) };
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r: ReportRun = await writer.write(a.audited);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const after = { writes: await writes(), requests: await apiRequests(api) };
      const figures = {
        phase: name,
        objects: a.audited.length,
        objectsWithFindings: a.failing,
        auditMs: Math.round(a.ms),
        writeMs: Math.round(ms),
        writerCpuSeconds: Math.round((cpu.user + cpu.system) / 10_000) / 100,
        run: r,
        writes: diff(before.writes, after.writes),
        apiServer: diff(before.requests, after.requests),
      };
      log(JSON.stringify(figures));
      return figures;
    };
    const first = await phase('first audit: every report created', objects(COUNT, VIOLATIONS));
    const second = await phase('second audit, unchanged', objects(COUNT, VIOLATIONS));
    const third = await phase('third audit, 100 violations fixed', objects(COUNT, VIOLATIONS, 100));
    const reportsBytes = (await api.request('GET', '/apis/openreports.io/v1alpha1/clusterreports')).text.length;
    const info = run.finish();
    const out = {
      kind: 'reports',
      command: `npx tsx bench/reports.ts --count ${COUNT} --violations ${VIOLATIONS}`,
      machine: info.machine,
      loadAverage: info.loadAverage,
      phases: [first, second, third],
      clusterReportsJsonBytes: reportsBytes,
      unchangedOverFirstWriteMs: Math.round((second.writeMs / first.writeMs) * 1000) / 1000,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    api.close();
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
