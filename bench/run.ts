/**
 * `npm run bench`: the webhook against a bare node:https baseline, and the
 * webhook with 10 to 10,000 objects of each kind in its state. Writes
 * bench/results/bench.json and renders bench/RESULTS.md. Finishes in about
 * 4 minutes on the 2-core machine.
 *
 * Every server is a child process (the load generator, this process, never
 * shares their event loop), all on 127.0.0.1 with one certificate from
 * src/certs/generate.ts, the webhook being the real `remote-cluster-guard
 * serve` compiled by tsc as the image is.
 *
 * Parts (`--parts`, comma-separated, default all):
 * - throughput: autocannon, keep-alive, `--connections` connections,
 *   `--duration` s per run, `--rounds` rounds alternating bare, /validate,
 *   /mutate (order rotated each round), ratio webhook/bare per round, median.
 * - sequential: one request at a time on one keep-alive connection,
 *   `--seq-count` measured requests after `--seq-warmup`; p50, p99.
 * - openloop: `--rate` requests/s on a fixed schedule (bench/lib/load.ts
 *   openLoop), latency from the scheduled send time; p99.
 * - scale: the sequential measurement with `--sizes` Elasticsearch objects and
 *   as many IPPools in the state; p99 growth, RSS, state build time.
 *
 *   npx tsx bench/run.ts [--parts throughput,sequential,openloop,scale] [--quick] [--profile]
 */
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { baseStateObjects, benchBodies, writeList, type Body } from './lib/bodies.js';
import { buildForBench } from './lib/build.js';
import { writeBenchCerts, type BenchCerts } from './lib/certs.js';
import { generateElasticsearches, generateIPPools } from './lib/generate.js';
import { openLoop, sequential, throughput, type OpenLoopResult, type Target } from './lib/load.js';
import { loadAverage, startRun, type RunInfo } from './lib/machine.js';
import { BUILD, cpuTimeMs, httpsGet, ROOT, startBare, startServe, type ServerProcess } from './lib/procs.js';
import { median, summarize, type LatencySummary } from './lib/stats.js';
import { renderResults } from './report.js';

const { values: args } = parseArgs({
  options: {
    parts: { type: 'string', default: 'throughput,sequential,openloop,scale' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    'seq-count': { type: 'string', default: '3000' },
    'seq-warmup': { type: 'string', default: '500' },
    rate: { type: 'string', default: '1000' },
    'openloop-seconds': { type: 'string', default: '8' },
    'openloop-warmup': { type: 'string', default: '2' },
    sizes: { type: 'string', default: '10,1000,10000' },
    'scale-count': { type: 'string', default: '2000' },
    'scale-rounds': { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const quick = args.quick;
/** A quick (smoke) run never replaces the recorded results. */
const OUT = args.out ?? (quick ? join(os.tmpdir(), 'rcg-bench-quick.json') : join(ROOT, 'bench/results/bench.json'));
const num = (v: string | undefined, quickValue: number) => (quick ? quickValue : Number(v));
const opts = {
  parts: new Set(args.parts!.split(',').map((s) => s.trim())),
  duration: num(args.duration, 1),
  rounds: num(args.rounds, 1),
  connections: Number(args.connections),
  seqCount: num(args['seq-count'], 300),
  seqWarmup: num(args['seq-warmup'], 100),
  rate: Number(args.rate),
  openLoopSeconds: num(args['openloop-seconds'], 1),
  openLoopWarmup: num(args['openloop-warmup'], 1),
  sizes: quick ? [10, 100] : args.sizes!.split(',').map(Number),
  scaleCount: num(args['scale-count'], 200),
  scaleRounds: num(args['scale-rounds'], 1),
  profile: args.profile,
};

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** The three servers compared: the bare baseline and the webhook's two endpoints. */
type Endpoint = 'bare' | 'validate' | 'mutate';
const ENDPOINTS: Endpoint[] = ['bare', 'validate', 'mutate'];

function rotate<T>(list: readonly T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

export interface ThroughputRun {
  body: Body['id'];
  round: number;
  endpoint: Endpoint;
  rps: number;
  total: number;
  /** Server CPU time (user + system) per request, µs: robust to what else the machine runs. */
  cpuUsPerRequest: number;
  failures: number;
  p50: number;
  p99: number;
  loadAverage: number;
}

export interface BenchResults extends RunInfo {
  kind: 'bench';
  command: string;
  options: Omit<typeof opts, 'parts'> & { parts: string[] };
  buildMs: number;
  bodies: { id: string; label: string; bytes: number }[];
  serverModel: string;
  throughput?: {
    runs: ThroughputRun[];
    ratios: { body: string; endpoint: Endpoint; perRound: number[]; median: number; cpuRatioMedian: number }[];
  };
  sequential?: { body: string; endpoint: Endpoint; summary: LatencySummary; failures: number }[];
  /** The generator's result, its raw latencies replaced by their summary. */
  openLoop?: (Omit<OpenLoopResult, 'latencies' | 'dueMs'> & { body: string; endpoint: Endpoint; rate: number; summary: LatencySummary })[];
  scale?: {
    sizes: number[];
    build: {
      size: number;
      objects: number;
      fileMiB: number;
      loadMs: number;
      addMs: number;
      totalMs: number;
      counts: Record<string, number>;
      problems: number;
      rssMiB: number;
    }[];
    serveStartMs: Record<string, number>;
    rssMiB: Record<string, number>;
    /** V8 heap in use, from the webhook's own /metrics after the run. */
    heapUsedMiB: Record<string, number>;
    latency: { size: number; body: string; endpoint: Endpoint; summary: LatencySummary; failures: number }[];
    growth: { body: string; endpoint: Endpoint; p99Small: number; p99Large: number; ratio: number; p50Ratio: number }[];
  };
}

async function withServers<T>(
  certs: BenchCerts,
  dir: string,
  stateFile: string,
  fn: (s: Record<Endpoint, Target & { proc: ServerProcess }>) => Promise<T>,
): Promise<T> {
  const prof = (name: string) =>
    opts.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/profiles')}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
      : [];
  const [bare, hook] = await Promise.all([
    startBare('bare', certs, dir, prof('bare')),
    startServe({ name: 'webhook', tls: certs, logDir: dir, state: [stateFile], nodeFlags: prof('webhook') }),
  ]);
  try {
    const servers = {
      bare: { port: bare.port, path: '/', ca: certs.ca, proc: bare },
      validate: { port: hook.port, path: '/validate', ca: certs.ca, proc: hook },
      mutate: { port: hook.port, path: '/mutate', ca: certs.ca, proc: hook },
    };
    // Warm-up before any measurement, so the first part measured does not pay for the JIT of both sides.
    for (const body of benchBodies()) {
      for (const e of ENDPOINTS) {
        await throughput(servers[e], body.text, opts.connections, 1);
        await sequential(servers[e], body.text, 0, 300);
      }
    }
    return await fn(servers);
  } finally {
    await Promise.all([bare.stop(), hook.stop()]);
  }
}

async function runThroughput(
  servers: Record<Endpoint, Target & { proc: ServerProcess }>,
  bodies: Body[],
): Promise<NonNullable<BenchResults['throughput']>> {
  const runs: ThroughputRun[] = [];
  for (const body of bodies) {
    // Warm every endpoint (JIT, connections) before the first measured run.
    for (const e of ENDPOINTS) await throughput(servers[e], body.text, opts.connections, 1);
    for (let round = 0; round < opts.rounds; round++) {
      for (const endpoint of rotate(ENDPOINTS, round)) {
        const s = servers[endpoint];
        const cpu0 = cpuTimeMs(s.proc.pid);
        const r = await throughput(s, body.text, opts.connections, opts.duration);
        const cpuMs = cpuTimeMs(s.proc.pid) - cpu0;
        const run: ThroughputRun = {
          body: body.id,
          round,
          endpoint,
          rps: r.rps,
          total: r.total,
          cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, r.total),
          failures: r.non2xx + r.errors + r.timeouts,
          p50: r.p50,
          p99: r.p99,
          loadAverage: loadAverage(),
        };
        runs.push(run);
        log(
          `throughput ${body.id} round ${round} ${endpoint}: ${r.rps.toFixed(0)} req/s, ${run.cpuUsPerRequest.toFixed(1)} µs CPU/request, ${run.failures} failed`,
        );
      }
    }
  }
  const ratios = bodies.flatMap((body) =>
    (['validate', 'mutate'] as const).map((endpoint) => {
      const perRound: number[] = [];
      const cpuRatios: number[] = [];
      for (let round = 0; round < opts.rounds; round++) {
        const of = (e: Endpoint) => runs.find((r) => r.body === body.id && r.round === round && r.endpoint === e)!;
        perRound.push(of(endpoint).rps / of('bare').rps);
        cpuRatios.push(of('bare').cpuUsPerRequest / of(endpoint).cpuUsPerRequest);
      }
      return { body: body.id, endpoint, perRound, median: median(perRound), cpuRatioMedian: median(cpuRatios) };
    }),
  );
  return { runs, ratios };
}

async function runSequential(servers: Record<Endpoint, Target>, bodies: Body[]): Promise<NonNullable<BenchResults['sequential']>> {
  const out: NonNullable<BenchResults['sequential']> = [];
  for (const body of bodies) {
    // Two halves in alternating order, so slow drift of the machine hits each endpoint alike.
    const acc = new Map<Endpoint, { latencies: number[]; failures: number }>();
    for (let half = 0; half < 2; half++) {
      for (const endpoint of rotate(ENDPOINTS, half)) {
        const r = await sequential(servers[endpoint], body.text, Math.ceil(opts.seqCount / 2), opts.seqWarmup);
        const a = acc.get(endpoint) ?? { latencies: [], failures: 0 };
        a.latencies.push(...r.latencies);
        a.failures += r.failures;
        acc.set(endpoint, a);
        if (r.firstFailure) log(`sequential ${body.id} ${endpoint}: ${r.firstFailure}`);
      }
    }
    for (const endpoint of ENDPOINTS) {
      const a = acc.get(endpoint)!;
      const summary = summarize(a.latencies);
      out.push({ body: body.id, endpoint, summary, failures: a.failures });
      log(
        `sequential ${body.id} ${endpoint}: p50 ${summary.p50.toFixed(3)} ms, p99 ${summary.p99.toFixed(3)} ms (${summary.count} requests, ${a.failures} failed)`,
      );
    }
  }
  return out;
}

async function runOpenLoop(servers: Record<Endpoint, Target>, bodies: Body[]): Promise<NonNullable<BenchResults['openLoop']>> {
  const out: NonNullable<BenchResults['openLoop']> = [];
  for (const body of bodies) {
    for (const endpoint of ENDPOINTS) {
      const r = await openLoop({
        rate: opts.rate,
        durationMs: opts.openLoopSeconds * 1000,
        warmupMs: opts.openLoopWarmup * 1000,
        bodies: [{ target: servers[endpoint], text: body.text }],
      });
      const summary = summarize(r.latencies);
      out.push({
        body: body.id,
        endpoint,
        rate: opts.rate,
        summary,
        scheduled: r.scheduled,
        completed: r.completed,
        failures: r.failures,
        failureSamples: r.failureSamples,
        maxSendLagMs: r.maxSendLagMs,
        achievedRate: r.achievedRate,
      });
      log(
        `open loop ${body.id} ${endpoint} at ${opts.rate}/s: p50 ${summary.p50.toFixed(3)} ms, p99 ${summary.p99.toFixed(3)} ms, max ${summary.max.toFixed(1)} ms, ${r.failures} failed, generator lag max ${r.maxSendLagMs.toFixed(2)} ms`,
      );
    }
  }
  return out;
}

/** Writes the state of one scale step: the bench's base state plus `n` Elasticsearch and `n` IPPools. */
function writeScaleState(dir: string, n: number): { file: string; objects: number } {
  const { es, configMaps } = generateElasticsearches(n);
  const { pools, rccs } = generateIPPools(n);
  const items = [...baseStateObjects(), ...configMaps, ...es, ...rccs, ...pools];
  return { file: writeList(join(dir, `scale-${n}.json`), items), objects: items.length };
}

async function runScale(certs: BenchCerts, dir: string, bodies: Body[]): Promise<NonNullable<BenchResults['scale']>> {
  const files = opts.sizes.map((n) => ({ n, ...writeScaleState(dir, n) }));
  const build: NonNullable<BenchResults['scale']>['build'] = [];
  for (const f of files) {
    // A fresh process per size: the build time and memory of the state alone.
    const text = execFileSync(process.execPath, ['--expose-gc', join(BUILD, 'bench/tools/state-build.js'), f.file], {
      encoding: 'utf-8',
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(text.trim().split('\n').pop()!) as {
      loadMs: number;
      addMs: number;
      totalMs: number;
      counts: Record<string, number>;
      problems: number;
      rssAfterMiB: number;
    };
    const fileMiB = statSync(f.file).size / 1048576;
    build.push({
      size: f.n,
      objects: f.objects,
      fileMiB,
      loadMs: r.loadMs,
      addMs: r.addMs,
      totalMs: r.totalMs,
      counts: r.counts,
      problems: r.problems,
      rssMiB: r.rssAfterMiB,
    });
    log(
      `state build ${f.n}: ${f.objects} objects (${fileMiB.toFixed(1)} MiB JSON) loadManifests ${r.loadMs.toFixed(0)} ms + addToState ${r.addMs.toFixed(0)} ms, ${r.problems} problems`,
    );
  }
  const serveStartMs: Record<string, number> = {};
  const procs = await Promise.all(
    files.map(async (f) => {
      const t0 = Date.now();
      const p = await startServe({ name: `webhook-${f.n}`, tls: certs, logDir: dir, state: [f.file], readyTimeoutMs: 180_000 });
      serveStartMs[f.n] = Date.now() - t0;
      return { n: f.n, p };
    }),
  );
  try {
    const acc = new Map<string, { latencies: number[]; failures: number }>();
    const key = (n: number, body: string, e: Endpoint) => `${n}/${body}/${e}`;
    // Warm-up of every combination, then rounds alternating sizes so drift hits them alike.
    for (let round = 0; round < opts.scaleRounds; round++) {
      for (const { n, p } of rotate(procs, round)) {
        for (const body of bodies) {
          for (const endpoint of ['validate', 'mutate'] as const) {
            const r = await sequential(
              { port: p.port, path: `/${endpoint}`, ca: certs.ca },
              body.text,
              opts.scaleCount,
              round === 0 ? opts.seqWarmup : 100,
            );
            const a = acc.get(key(n, body.id, endpoint)) ?? { latencies: [], failures: 0 };
            a.latencies.push(...r.latencies);
            a.failures += r.failures;
            acc.set(key(n, body.id, endpoint), a);
            if (r.firstFailure) log(`scale ${n} ${body.id} ${endpoint}: ${r.firstFailure}`);
          }
        }
      }
    }
    const rssMiB: Record<string, number> = {};
    const heapUsedMiB: Record<string, number> = {};
    for (const { n, p } of procs) {
      rssMiB[n] = p.rssMiB();
      const metrics = (await httpsGet(p.port, '/metrics', certs.ca)).body;
      heapUsedMiB[n] = Number(/^\w*nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN) / 1048576;
    }
    const latency = procs.flatMap(({ n }) =>
      bodies.flatMap((body) =>
        (['validate', 'mutate'] as const).map((endpoint) => {
          const a = acc.get(key(n, body.id, endpoint))!;
          return { size: n, body: body.id, endpoint, summary: summarize(a.latencies), failures: a.failures };
        }),
      ),
    );
    for (const l of latency)
      log(`scale ${l.size} ${l.body} ${l.endpoint}: p50 ${l.summary.p50.toFixed(3)} ms, p99 ${l.summary.p99.toFixed(3)} ms`);
    const small = Math.min(...opts.sizes);
    const large = Math.max(...opts.sizes);
    const growth = bodies.flatMap((body) =>
      (['validate', 'mutate'] as const).map((endpoint) => {
        const at = (n: number) => latency.find((l) => l.size === n && l.body === body.id && l.endpoint === endpoint)!.summary;
        return {
          body: body.id,
          endpoint,
          p99Small: at(small).p99,
          p99Large: at(large).p99,
          ratio: at(large).p99 / at(small).p99,
          p50Ratio: at(large).p50 / at(small).p50,
        };
      }),
    );
    return { sizes: opts.sizes, build, serveStartMs, rssMiB, heapUsedMiB, latency, growth };
  } finally {
    await Promise.all(procs.map(({ p }) => p.stop()));
  }
}

async function main(): Promise<void> {
  const run = startRun();
  log(`building the webhook (tsc) into ${BUILD}`);
  const { ms: buildMs } = buildForBench();
  const dir = mkdtempSync(join(os.tmpdir(), 'rcg-bench-'));
  if (opts.profile) mkdirSync(join(ROOT, 'bench/profiles'), { recursive: true });
  const certs = writeBenchCerts(dir);
  const bodies = benchBodies();
  const stateFile = writeList(join(dir, 'state.json'), baseStateObjects());
  const results: BenchResults = {
    kind: 'bench',
    // Completed when the run ends.
    ...run.finish(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    options: { ...opts, parts: [...opts.parts] },
    buildMs,
    bodies: bodies.map((b) => ({ id: b.id, label: b.label, bytes: b.bytes })),
    serverModel:
      'child processes: bench/servers/bare.ts and `remote-cluster-guard serve --state` (both compiled by tsc), load generated in the parent',
  };
  try {
    if (opts.parts.has('throughput') || opts.parts.has('sequential') || opts.parts.has('openloop')) {
      await withServers(certs, dir, stateFile, async (servers) => {
        if (opts.parts.has('sequential')) results.sequential = await runSequential(servers, bodies);
        if (opts.parts.has('openloop')) results.openLoop = await runOpenLoop(servers, bodies);
        if (opts.parts.has('throughput')) results.throughput = await runThroughput(servers, bodies);
      });
    }
    if (opts.parts.has('scale')) results.scale = await runScale(certs, dir, bodies);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  Object.assign(results, run.finish());
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
  log(`results in ${OUT} (${results.durationSeconds.toFixed(0)} s)`);
  if (opts.profile) log('CPU profiles in bench/profiles (summarise with: npx tsx bench/tools/cpuprofile-top.ts <file>)');
  if (OUT === join(ROOT, 'bench/results/bench.json')) renderResults();
}

await main();
