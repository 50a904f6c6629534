/**
 * `make chaos`: the real `serve` (compiled) inside a memory cgroup of the
 * Deployment's limit (512 MiB), under 20,000 idle TLS connections and 200
 * concurrent valid 4 MiB AdmissionReviews, while a normal client sends small
 * reviews at 20 a second over keep-alive connections. Passes when the
 * kernel's OOM killer killed nothing, the server is still alive and answers,
 * and the normal client's p99 is under 1 s with no failed request. Prints
 * the figures and writes bench/results/chaos.json (bench/report.ts puts
 * them into RESULTS.md). Needs root (a cgroup is made under /sys/fs/cgroup).
 *
 *   npx tsx bench/chaos/run.ts [--idle 20000] [--bodies 200] [--rate 20] [--seconds 30] [--limit-mib 512] [--no-json] [-- serve flags...]
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { baseStateObjects, writeList } from '../lib/bodies.js';
import { buildForBench } from '../lib/build.js';
import { writeBenchCerts } from '../lib/certs.js';
import { startRun, type RunInfo } from '../lib/machine.js';
import { CLI, freePort, httpsGet, ROOT, rssMiB, sleep } from '../lib/procs.js';
import { summarize, type LatencySummary } from '../lib/stats.js';
import { createMemoryCgroup } from './cgroup.js';
import type { BodiesFigures, ClientFigures, IdleFigures, NormalFigures } from './clients.js';

export interface ChaosResults {
  command: string;
  run: RunInfo;
  limitMiB: number;
  serveArgs: string[];
  seconds: number;
  /** How long opening the idle connections took (before the bodies started). */
  floodSeconds: number;
  idle: IdleFigures;
  bodies: BodiesFigures;
  normal: Omit<NormalFigures, 'latenciesMs' | 'sentAt'> & {
    latency: LatencySummary;
    /** The same, of the requests sent while the idle connections were being opened, and while the bodies ran. */
    duringFlood: LatencySummary;
    duringBodies: LatencySummary;
  };
  server: {
    alive: boolean;
    oomKills: number;
    /** The cgroup's peak memory use, MiB. */
    peakMiB: number;
    /** The server's largest RSS sampled every 500 ms, MiB. */
    maxRssMiB: number;
    /** Its RSS when ready, before any load, and once the idle connections were open, MiB. */
    readyRssMiB: number;
    afterFloodRssMiB: number;
    /** Selected counters from /metrics at the end. */
    metrics: Record<string, number>;
  };
  pass: boolean;
  failures: string[];
}

/** The p99 the normal client must keep, ms. */
export const CHAOS_P99_MS = 1000;

const { values: args, positionals } = parseArgs({
  options: {
    idle: { type: 'string', default: '20000' },
    bodies: { type: 'string', default: '200' },
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    'limit-mib': { type: 'string', default: '512' },
    'no-json': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const CLIENTS = fileURLToPath(new URL('./clients.ts', import.meta.url));
/** Connections per idle-client process: its open-files limit may be as low as 20,000. */
const IDLE_PER_PROCESS = 10_000;

/** A client process. All share the machine's cores with the server: what its limits bound is memory, not their CPU. */
function forkClient(role: string, n: number, port: number, caFile: string): ChildProcess {
  return fork(CLIENTS, [role, String(n), String(port), caFile], { execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: 'inherit' });
}

function figuresOf<T extends ClientFigures>(child: ChildProcess, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${child.pid} did not report within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (m: { figures?: T }) => {
      if (!m.figures) return;
      clearTimeout(timer);
      resolve(m.figures);
    });
  });
}

/** Counters and gauges of /metrics whose name and labels match `pattern`, summed by their text before the value. */
function pickMetrics(text: string, pattern: RegExp): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !pattern.test(line)) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i).replace('remote_cluster_guard_', '')] = Number(line.slice(i + 1));
  }
  return out;
}

async function main(): Promise<void> {
  const run = startRun();
  const idleCount = Number(args.idle);
  const bodyCount = Number(args.bodies);
  const seconds = Number(args.seconds);
  const limitMiB = Number(args['limit-mib']);
  const serveArgs = positionals;
  buildForBench();
  const dir = mkdtempSync(join(os.tmpdir(), 'rcg-chaos-'));
  const certs = writeBenchCerts(dir);
  const caFile = join(dir, 'ca.crt');
  const state = writeList(join(dir, 'state.json'), baseStateObjects());
  const cgroup = createMemoryCgroup(`rcg-chaos-${process.pid}`, limitMiB * 1024 * 1024);
  const port = await freePort();
  const log = openSync(join(dir, 'serve.log'), 'a');
  // The shell moves itself into the cgroup and becomes node: the server never runs outside it.
  const server = spawn(
    '/bin/sh',
    [
      '-c',
      `echo $$ > ${cgroup.procs} && exec "$@"`,
      'sh',
      process.execPath,
      CLI,
      'serve',
      ...['--host', '127.0.0.1', '--port', String(port), '--tls-cert', certs.certFile, '--tls-key', certs.keyFile],
      ...['--state', state, '--shutdown-delay', '0', '--log-level', 'warn'],
      // /readyz and /metrics on the webhook port, which the run reads.
      ...['--metrics-port', '0', '--health-port', '0'],
      ...serveArgs,
    ],
    { cwd: ROOT, stdio: ['ignore', log, log], env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' } },
  );
  const children: ChildProcess[] = [];
  const failures: string[] = [];
  try {
    for (let i = 0; ; i++) {
      if ((await httpsGet(port, '/readyz', certs.ca, 1000).catch(() => ({ status: 0 }))).status === 200) break;
      if (i > 120 || server.exitCode !== null) throw new Error(`serve did not start:\n${readFileSync(join(dir, 'serve.log'), 'utf-8')}`);
      await sleep(500);
    }
    const readyRss = rssMiB(server.pid!);
    let maxRss = readyRss;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(server.pid!) || 0)), 500);

    const normal = forkClient('normal', Number(args.rate), port, caFile);
    children.push(normal);
    const normalFigures = figuresOf<NormalFigures>(normal, (seconds + 400) * 1000);
    await new Promise<void>((resolve) => normal.on('message', (m: { ready?: boolean }) => m.ready && resolve()));
    process.stdout.write(
      `[chaos] serve pid ${server.pid} in ${cgroup.dir} (cgroup v${cgroup.version}, ${limitMiB} MiB); load for ${seconds} s\n`,
    );

    // First the idle connections (handshakes are what the two cores spend), then the bodies on top of them.
    const floodStart = Date.now();
    const idle: ChildProcess[] = [];
    for (let left = idleCount; left > 0; left -= IDLE_PER_PROCESS)
      idle.push(forkClient('idle', Math.min(left, IDLE_PER_PROCESS), port, caFile));
    children.push(...idle);
    const idleFigures = idle.map((c) => figuresOf<IdleFigures>(c, (seconds + 300) * 1000));
    await Promise.all(idle.map((c) => new Promise<void>((resolve) => c.on('message', (m: { opened?: boolean }) => m.opened && resolve()))));
    const bodiesStart = Date.now();
    const floodSeconds = (bodiesStart - floodStart) / 1000;
    const afterFloodRss = rssMiB(server.pid!);
    process.stdout.write(
      `[chaos] ${idleCount} idle connections attempted in ${floodSeconds.toFixed(1)} s; RSS ${readyRss.toFixed(0)} MiB when ready, ${afterFloodRss.toFixed(0)} MiB now; then ${bodyCount} bodies\n`,
    );
    const bodies = forkClient('bodies', bodyCount, port, caFile);
    children.push(bodies);
    const bodyFigures = figuresOf<BodiesFigures>(bodies, (seconds + 120) * 1000);

    for (let t = 0; t < seconds; t += 5) {
      await sleep(5000);
      process.stdout.write(
        `[chaos] ${t + 5} s: RSS ${rssMiB(server.pid!).toFixed(0)} MiB, max ${maxRss.toFixed(0)} MiB, OOM kills ${cgroup.oomKills()}\n`,
      );
    }
    for (const c of children) c.send('stop');
    const [n, b, ...i] = await Promise.all([normalFigures, bodyFigures, ...idleFigures]);
    clearInterval(sampler);
    const metricsText = (await httpsGet(port, '/metrics', certs.ca, 5000).catch(() => ({ status: 0, body: '' }))).body;
    const alive = server.exitCode === null && server.signalCode === null && metricsText.length > 0;
    const idleSum = i.reduce<IdleFigures>(
      (a, x) => ({
        role: 'idle',
        attempted: a.attempted + x.attempted,
        established: a.established + x.established,
        refused: a.refused + x.refused,
        closedByServer: a.closedByServer + x.closedByServer,
        openAtStop: a.openAtStop + x.openAtStop,
      }),
      { role: 'idle', attempted: 0, established: 0, refused: 0, closedByServer: 0, openAtStop: 0 },
    );
    const { latenciesMs, sentAt, ...normalRest } = n!;
    const latency = summarize(latenciesMs);
    const between = (from: number, to: number) => summarize(latenciesMs.filter((_, k) => sentAt[k]! >= from && sentAt[k]! < to));
    const duringFlood = between(floodStart, bodiesStart);
    const duringBodies = between(bodiesStart, Infinity);
    const oomKills = cgroup.oomKills();
    if (oomKills > 0) failures.push(`${oomKills} OOM kill(s) in the cgroup`);
    if (!alive) failures.push(`the server is gone (exit ${server.exitCode}, signal ${server.signalCode})`);
    if (!(latency.p99 < CHAOS_P99_MS)) failures.push(`normal client p99 ${latency.p99.toFixed(0)} ms ≥ ${CHAOS_P99_MS} ms`);
    if (normalRest.failed > 0) failures.push(`${normalRest.failed} normal request(s) failed: ${normalRest.firstErrors.join('; ')}`);
    const results: ChaosResults = {
      command: `npx tsx bench/chaos/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      run: run.finish(),
      limitMiB,
      serveArgs,
      seconds,
      floodSeconds,
      idle: idleSum,
      bodies: b!,
      normal: { ...normalRest, latency, duringFlood, duringBodies },
      server: {
        alive,
        oomKills,
        peakMiB: cgroup.peakBytes() / 1024 / 1024,
        maxRssMiB: maxRss,
        readyRssMiB: readyRss,
        afterFloodRssMiB: afterFloodRss,
        metrics: pickMetrics(
          metricsText,
          /^remote_cluster_guard_(requests_shed_total|connections_closed_total|inflight_body_bytes|admission_requests_total)/,
        ),
      },
      pass: failures.length === 0,
      failures,
    };
    process.stdout.write(`${JSON.stringify({ ...results, run: undefined }, null, 2)}\n`);
    if (!args['no-json']) writeFileSync(join(ROOT, 'bench/results/chaos.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(results.pass ? '[chaos] PASS\n' : `[chaos] FAIL: ${failures.join('; ')}\n`);
    process.exitCode = results.pass ? 0 : 1;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    for (let i = 0; i < 20; i++) {
      try {
        cgroup.remove();
        break;
      } catch {
        await sleep(250);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
