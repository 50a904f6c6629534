/**
 * `npm run bench:live`: the live state (informers) built against a real
 * kube-apiserver holding 10,000 Elasticsearch and 10,000 IPPools (plus the
 * transport CA ConfigMaps and RemoteClusterConfigurations of the generated
 * set, bench/lib/generate.ts), then the real `serve --kubeconfig` on the same
 * cluster: time to ready, memory, and latency.
 *
 * Kept out of `npm run bench`: creating the 25,000 objects over HTTP takes
 * about a minute on the 2-core machine, which with the cluster start does
 * not fit that command's 5-minute budget.
 *
 *   npx tsx bench/live.ts [--count 10000] [--concurrency 32]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBodies } from './lib/bodies.js';
import { buildForBench } from './lib/build.js';
import { writeBenchCerts } from './lib/certs.js';
import { generateElasticsearches, generateIPPools } from './lib/generate.js';
import { createAll, startBenchCluster } from './lib/kube.js';
import { sequential } from './lib/load.js';
import { startRun, type RunInfo } from './lib/machine.js';
import { BUILD, ROOT, startServe } from './lib/procs.js';
import { summarize, type LatencySummary } from './lib/stats.js';
import { renderResults } from './report.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '32' },
    requests: { type: 'string', default: '2000' },
  },
});
const COUNT = Number(args.count);
const CONCURRENCY = Number(args.concurrency);

export interface LiveResults extends RunInfo {
  kind: 'live';
  command: string;
  method: string;
  created: { elasticsearches: number; ippools: number; others: number; ms: number; perSecond: number; concurrency: number };
  liveBuild: { ms: number; counts: Record<string, number>; rssMiB: number };
  serve: { readyMs: number; rssMiB: number; es: LatencySummary; ippool: LatencySummary; failures: number };
}

const log = (msg: string) => process.stderr.write(`[bench:live ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main(): Promise<void> {
  const run = startRun();
  buildForBench();
  const teams = Array.from({ length: 100 }, (_, i) => `team-${i}`);
  log('starting etcd + kube-apiserver');
  const { cluster, api } = await startBenchCluster(teams);
  const dir = mkdtempSync(join(os.tmpdir(), 'rcg-bench-live-'));
  try {
    const { es, configMaps } = generateElasticsearches(COUNT);
    const { pools, rccs } = generateIPPools(COUNT);
    log(
      `creating ${es.length} Elasticsearch, ${pools.length} IPPools, ${configMaps.length} ConfigMaps, ${rccs.length} RemoteClusterConfigurations (${CONCURRENCY} in parallel)`,
    );
    const t0 = Date.now();
    type Obj = Parameters<typeof createAll>[1][number];
    await createAll(api, [...configMaps, ...rccs] as Obj[], CONCURRENCY);
    await createAll(api, [...es, ...pools] as Obj[], CONCURRENCY);
    const createdMs = Date.now() - t0;
    const total = es.length + pools.length + configMaps.length + rccs.length;
    log(`created ${total} objects in ${(createdMs / 1000).toFixed(1)} s`);

    log('live state build (fresh process)');
    const text = execFileSync(process.execPath, ['--expose-gc', join(BUILD, 'bench/tools/live-build.js'), cluster.kubeconfig], {
      encoding: 'utf-8',
      maxBuffer: 1 << 20,
    });
    const lb = JSON.parse(text.trim().split('\n').pop()!) as {
      ms: number;
      synced: boolean;
      counts: Record<string, number>;
      rssMiB: number;
    };
    if (!lb.synced) throw new Error('live state did not sync within 120 s');
    log(`live state synced in ${lb.ms.toFixed(0)} ms: ${JSON.stringify(lb.counts)}`);

    const certs = writeBenchCerts(join(dir, 'certs'));
    const t1 = Date.now();
    const hook = await startServe({
      name: 'webhook-live',
      tls: certs,
      logDir: dir,
      kubeconfig: cluster.kubeconfig,
      readyTimeoutMs: 180_000,
    });
    const readyMs = Date.now() - t1;
    try {
      const [esBody, poolBody] = benchBodies();
      const n = Number(args.requests);
      const esRun = await sequential({ port: hook.port, path: '/validate', ca: certs.ca }, esBody!.text, n, 300);
      const poolRun = await sequential({ port: hook.port, path: '/validate', ca: certs.ca }, poolBody!.text, n, 300);
      const rss = hook.rssMiB();
      const out: LiveResults = {
        kind: 'live',
        ...run.finish(),
        command: `npm run bench:live${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
        method:
          `A real etcd + kube-apiserver v1.35 on 127.0.0.1 (test/e2e/harness/cluster.ts) with the e2e CRDs; the generated objects of bench/lib/generate.ts ` +
          `(IPPools and RemoteClusterConfigurations in projectcalico.org/v3) created with POSTs over keep-alive HTTPS, ${CONCURRENCY} in flight, no webhook registered. ` +
          `Then the live state (src/state/live/cluster-watcher.ts: list + watch of every source) built in a fresh compiled process (bench/tools/live-build.ts) and timed ` +
          `from \`new ClusterWatcher\` to every source synced; then the compiled \`serve --kubeconfig\` started against the same cluster.`,
        created: {
          elasticsearches: es.length,
          ippools: pools.length,
          others: configMaps.length + rccs.length,
          ms: createdMs,
          perSecond: total / (createdMs / 1000),
          concurrency: CONCURRENCY,
        },
        liveBuild: { ms: lb.ms, counts: lb.counts, rssMiB: lb.rssMiB },
        serve: {
          readyMs,
          rssMiB: rss,
          es: summarize(esRun.latencies),
          ippool: summarize(poolRun.latencies),
          failures: esRun.failures + poolRun.failures,
        },
      };
      if (out.serve.failures) log(`sequential failures: ${esRun.firstFailure ?? ''} ${poolRun.firstFailure ?? ''}`);
      mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
      writeFileSync(join(ROOT, 'bench/results/live.json'), JSON.stringify(out, null, 2) + '\n');
      renderResults();
      log(
        `serve ready in ${readyMs} ms, RSS ${rss.toFixed(0)} MiB; results in bench/results/live.json (${out.durationSeconds.toFixed(0)} s)`,
      );
    } finally {
      await hook.stop();
    }
  } finally {
    api.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
