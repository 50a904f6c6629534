/**
 * One large remote cluster discovered while the webhook answers: a stand-in
 * API server (bench/servers/remote-apiserver.ts, child process) serving
 * 100,000 IPPools, listed page by page and indexed by a real
 * RemoteClusterWatcher into the state of the in-process webhook
 * (bench/lib/in-process.ts: the real request listener, engine and rules over
 * the bench's base state). Meanwhile local IPPool `/validate` requests (the
 * bench body, cluster1-main-pool) go through the listener open loop at a
 * fixed rate, latency from each request's scheduled time, and the event
 * loop's delay is sampled (perf_hooks monitorEventLoopDelay, 1 ms
 * resolution). Three phases: idle (no discovery), indexing (from the
 * watcher's start until it is synced), and after (100,000 remote ranges
 * held). Then the heap after full collections.
 *
 *   node --expose-gc --import tsx bench/federation-indexing.ts [--pools 100000] [--nodes 0] [--rate 500] [--idle-seconds 5] [--local 0]
 *   node --expose-gc bench/.build/bench/federation-indexing.js ...   (after `npx tsc -p bench/tsconfig.build.json`)
 *
 * With `node --cpu-prof`, bench/tools/cpuprofile-top.ts on the profile gives where the indexing time goes.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { benchBodies } from './lib/bodies.js';
import { inProcessWebhook } from './lib/in-process.js';
import { loadAverage } from './lib/machine.js';
import { rssMiB, sleep } from './lib/procs.js';
import { discover, startRemoteApiServers } from './lib/remotes.js';
import { ms, summarize, type LatencySummary } from './lib/stats.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const pools = flag('pools', 100_000);
const nodes = flag('nodes', 0);
const rate = flag('rate', 500);
const idleSeconds = flag('idle-seconds', 5);
const local = flag('local', 0);

const body = benchBodies().find((b) => b.id === 'ippool')!.text;
const webhook = inProcessWebhook(local);

interface Phase {
  name: string;
  ms: number;
  /** CPU time of this process (all threads) during the phase, ms: the requests' share is the idle phase's per request. */
  cpuMs: number;
  latency: LatencySummary;
  allowed: number;
  other: number;
  loopDelay: { p50: number; p99: number; max: number };
  /**
   * For each gap of more than 2 ms between two turns of the 1 ms ticker, the
   * smaller of its length and the process's CPU time within it (ms): how long
   * the loop was busy, without the time the machine's other work kept it off
   * a core, which the wall-clock delays above include (the CPU time counts
   * every thread, GC helpers too, hence the cap at the gap's length).
   */
  busyCpu: { gaps: number; p99: number; max: number };
}

/** Open-loop requests at `rate` until `done()` (checked every turn) or `untilMs`; latency from each scheduled time. */
async function phase(name: string, done: () => boolean): Promise<Phase> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const latencies: number[] = [];
  let allowed = 0;
  let other = 0;
  const period = 1000 / rate;
  const t0 = performance.now();
  let sent = 0;
  const outstanding = new Set<Promise<void>>();
  const cpuAtStart = process.cpuUsage();
  const cpuGaps: number[] = [];
  let lastTick = performance.now();
  let lastCpu = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const cpu = process.cpuUsage();
      if (now - lastTick > 2) cpuGaps.push(Math.min(now - lastTick, (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000));
      lastTick = now;
      lastCpu = cpu;
      for (; t0 + sent * period <= now; sent++) {
        const scheduled = t0 + sent * period;
        const p = webhook.call('/validate', body).then((text) => {
          latencies.push(performance.now() - scheduled);
          if (text.includes('"allowed":true')) allowed++;
          else other++;
          outstanding.delete(p);
        });
        outstanding.add(p);
      }
      if (done()) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(outstanding);
  const elapsed = performance.now() - t0;
  const used = process.cpuUsage(cpuAtStart);
  h.disable();
  const loopDelay = { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  const gaps = summarize(cpuGaps);
  const busyCpu = { gaps: gaps.count, p99: gaps.count ? gaps.p99 : 0, max: gaps.count ? gaps.max : 0 };
  return { name, ms: elapsed, cpuMs: (used.user + used.system) / 1000, latency: summarize(latencies), allowed, other, loopDelay, busyCpu };
}

const forMs = (msTotal: number) => {
  const end = performance.now() + msTotal;
  return () => performance.now() >= end;
};

const load0 = loadAverage();
const stand = await startRemoteApiServers(1, pools, nodes);
// Warm the listener and the rules.
for (let i = 0; i < 3000; i++) await webhook.call('/validate', body);
const idle = await phase('idle', forMs(idleSeconds * 1000));

globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed / 1048576;
let syncedMs: number | undefined;
const t0 = performance.now();
const discovery = discover(webhook.state.calico, stand.ports);
void discovery.synced.then(([t]) => (syncedMs = t));
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(process.pid))), 50);
const indexing = await phase('indexing', () => syncedMs !== undefined);
const indexingWallMs = performance.now() - t0;
clearInterval(sampler);
const after = await phase('after', forMs(idleSeconds * 1000));
for (let i = 0; i < 3; i++) globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed / 1048576;
const ranges = webhook.state.remoteRangesOf('remote-0').length;
discovery.stop();
stand.stop();

const phases = [idle, indexing, after];
console.log(
  JSON.stringify({
    pools,
    nodes,
    rate,
    local,
    syncedMs,
    indexingWallMs,
    ranges,
    heapBeforeMiB: heapBefore,
    heapAfterMiB: heapAfter,
    rssAfterMiB: rssMiB(process.pid),
    peakRssMiB: peakRss,
    phases,
    loadAverage: [load0, loadAverage()],
  }),
);
console.log(`remote with ${pools} IPPools and ${nodes} Nodes: synced after ${Math.round(syncedMs ?? NaN)} ms, ${ranges} ranges held`);
console.log(
  `heap after GC ${heapBefore.toFixed(1)} → ${heapAfter.toFixed(1)} MiB; RSS peak while indexing ${peakRss.toFixed(0)} MiB, after ${rssMiB(process.pid).toFixed(0)} MiB`,
);
console.log('phase      ms     CPU ms  requests  p50      p99      max      loop delay p99 / max ms  busy CPU p99 / max ms  allowed/other');
for (const p of phases) {
  console.log(
    `${p.name.padEnd(9)} ${Math.round(p.ms).toString().padStart(6)} ${Math.round(p.cpuMs).toString().padStart(6)} ${String(p.latency.count).padStart(8)}  ${ms(p.latency.p50).padEnd(8)} ${ms(p.latency.p99).padEnd(8)} ${ms(p.latency.max).padEnd(8)} ${(ms(p.loopDelay.p99) + ' / ' + ms(p.loopDelay.max)).padEnd(24)} ${(ms(p.busyCpu.p99) + ' / ' + ms(p.busyCpu.max)).padEnd(21)} ${p.allowed}/${p.other}`,
  );
}
await sleep(10);
process.exit(0);
