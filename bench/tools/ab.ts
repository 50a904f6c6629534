/**
 * Two servers side by side under the same closed-loop load as the throughput
 * part of bench/run.ts (autocannon, 10 connections), in many short slices
 * alternating between them, so that drift in the machine's speed (on this
 * shared 2-core VM, ±15 % between runs of a few seconds) hits both alike.
 * Prints each slice's req/s and server CPU per request, and the median and
 * quartiles of the per-pair ratio B/A. For judging a hot-path change against
 * the commit before it, where a few percent would drown in run-to-run noise.
 *
 *   node bench/.build/bench/tools/ab.js <A> <B> <validate|mutate> <es|ippool> [pairs=20] [seconds=1] [--mixed]
 *
 * The tool favours A by about 3 % (A/A runs: 0.987 and 1.011; the same two
 * builds swapped: 0.960 and 0.973, from which the difference is under 1 %
 * and the bias 3.4 %): for a small difference run both orders, F = B/A and
 * R = A/B swapped, and read sqrt(F / R).
 *
 * A and B are `bare` (the baseline server, answering on `/`) or a repository
 * tree whose `bench/.build` holds its build, e.g. a `git worktree` of an older
 * commit with `npx tsc -p bench/tsconfig.build.json` run in it. `--mixed`
 * warms each webhook with every body on both endpoints first, as bench/run.ts
 * does. Run `npx tsc -p bench/tsconfig.build.json` first.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { baseStateObjects, benchBodies, writeList } from '../lib/bodies.js';
import { writeBenchCerts } from '../lib/certs.js';
import { throughput, warmEveryBody, type Target } from '../lib/load.js';
import { cpuTimeMs, startBare, startServe, type ServerProcess } from '../lib/procs.js';
import { median, percentile } from '../lib/stats.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const mixed = process.argv.includes('--mixed');
const [a, b, endpoint = 'validate', bodyId = 'ippool', pairsText = '20', secondsText = '1'] = args;
const body = benchBodies().find((x) => x.id === bodyId);
if (!a || !b || !['validate', 'mutate'].includes(endpoint) || !body) {
  console.error('usage: ab.js <bare|tree> <bare|tree> <validate|mutate> <es|ippool> [pairs] [seconds] [--mixed]');
  process.exit(2);
}
const CONNECTIONS = 10;
const pairs = Number(pairsText);
const seconds = Number(secondsText);

const dir = mkdtempSync(join(os.tmpdir(), 'rcg-ab-'));
const certs = writeBenchCerts(dir);
const stateFile = writeList(join(dir, 'state.json'), baseStateObjects());

async function start(spec: string, name: string): Promise<{ proc: ServerProcess; target: Target }> {
  if (spec === 'bare') {
    const proc = await startBare(name, certs, dir);
    return { proc, target: { port: proc.port, path: '/', ca: certs.ca } };
  }
  const cli = join(resolve(spec), 'bench/.build/src/cli/bin.js');
  const proc = await startServe({ name, tls: certs, logDir: dir, state: [stateFile], cli });
  return { proc, target: { port: proc.port, path: `/${endpoint}`, ca: certs.ca } };
}

const servers = [await start(a, 'a'), await start(b, 'b')] as const;
try {
  for (const [i, s] of servers.entries()) {
    if (mixed && [a, b][i] !== 'bare') await warmEveryBody(s.target, CONNECTIONS, benchBodies());
    await throughput(s.target, body.text, CONNECTIONS, 2);
  }
  /** One slice against one server: req/s and CPU µs per request. */
  const slice = async (s: (typeof servers)[number]) => {
    const cpu0 = cpuTimeMs(s.proc.pid);
    const r = await throughput(s.target, body.text, CONNECTIONS, seconds);
    const cpuUs = ((cpuTimeMs(s.proc.pid) - cpu0) * 1000) / Math.max(1, r.total);
    return { rps: r.total / seconds, cpuUs, failed: r.non2xx + r.errors + r.timeouts };
  };
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    // The order alternates per pair so that neither side always runs first.
    let x: Awaited<ReturnType<typeof slice>>;
    let y: Awaited<ReturnType<typeof slice>>;
    if (i % 2 === 0) {
      x = await slice(servers[0]);
      y = await slice(servers[1]);
    } else {
      y = await slice(servers[1]);
      x = await slice(servers[0]);
    }
    ratios.push(y.rps / x.rps);
    cpuRatios.push(x.cpuUs / y.cpuUs);
    console.log(
      `pair ${String(i + 1).padStart(2)}: A ${x.rps.toFixed(0)} req/s ${x.cpuUs.toFixed(1)} µs, B ${y.rps.toFixed(0)} req/s ${y.cpuUs.toFixed(1)} µs, ` +
        `B/A ${ratios.at(-1)!.toFixed(3)}${x.failed + y.failed > 0 ? ` (${x.failed + y.failed} failed)` : ''}`,
    );
  }
  const q = (v: number[]) => `median ${median(v).toFixed(3)} (quartiles ${percentile(v, 25).toFixed(3)} – ${percentile(v, 75).toFixed(3)})`;
  console.log(`${endpoint} ${bodyId}, A = ${a}, B = ${b}: throughput B/A ${q(ratios)}; CPU per request A/B ${q(cpuRatios)}`);
} finally {
  await Promise.all(servers.map((s) => s.proc.stop()));
}
