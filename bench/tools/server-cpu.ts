/**
 * One server at a time under closed-loop load (autocannon, as the throughput
 * part of bench/run.ts): its CPU per request split into user and system time
 * (/proc/<pid>/stat), and with `--profile` its V8 CPU profile attributed per
 * request, by package, source file or node: function. For finding where a
 * webhook request's CPU goes under load, which differs from the in-process
 * figures of hotpath.ts (bench/optimisations.md, "Under load").
 *
 *   node bench/.build/bench/tools/server-cpu.js <bare|validate|mutate> <es|ippool> [seconds] [--profile]
 *
 * Run `npx tsc -p bench/tsconfig.build.json` first.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { baseStateObjects, benchBodies, writeList } from '../lib/bodies.js';
import { writeBenchCerts } from '../lib/certs.js';
import { throughput } from '../lib/load.js';
import { startBare, startServe } from '../lib/procs.js';

const args = process.argv.slice(2).filter((a) => a !== '--profile');
const profile = process.argv.includes('--profile');
const [endpoint = 'validate', bodyId = 'es', secondsText = '6'] = args;
const body = benchBodies().find((b) => b.id === bodyId);
if (!['bare', 'validate', 'mutate'].includes(endpoint) || !body) {
  console.error('usage: server-cpu.js <bare|validate|mutate> <es|ippool> [seconds] [--profile]');
  process.exit(2);
}
const CONNECTIONS = 10;

const dir = mkdtempSync(join(os.tmpdir(), 'rcg-server-cpu-'));
const certs = writeBenchCerts(dir);
const profDir = join(dir, 'profile');
const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
const proc =
  endpoint === 'bare'
    ? await startBare('bare', certs, dir, flags)
    : await startServe({ name: 'webhook', tls: certs, logDir: dir, state: [writeList(join(dir, 'state.json'), baseStateObjects())], nodeFlags: flags });

/** User and system CPU time of the server so far, ms (clock ticks of 10 ms). */
function cpu(): { user: number; system: number } {
  const fields = readFileSync(`/proc/${proc.pid}/stat`, 'utf-8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

const target = { port: proc.port, path: endpoint === 'bare' ? '/' : `/${endpoint}`, ca: certs.ca };
const warm = await throughput(target, body.text, CONNECTIONS, 2);
const c0 = cpu();
const r = await throughput(target, body.text, CONNECTIONS, Number(secondsText));
const c1 = cpu();
await proc.stop();
const perRequest = (ms: number) => ((ms * 1000) / r.total).toFixed(1);
console.log(
  `${endpoint} ${bodyId}: ${r.rps.toFixed(0)} req/s; CPU per request ${perRequest(c1.user - c0.user + c1.system - c0.system)} µs ` +
    `(user ${perRequest(c1.user - c0.user)}, system ${perRequest(c1.system - c0.system)})`,
);

if (profile) {
  interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string };
  }
  const file = readdirSync(profDir)[0]!;
  const p = JSON.parse(readFileSync(join(profDir, file), 'utf-8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const where = (n: ProfileNode): string | undefined => {
    const { functionName: fn, url } = n.callFrame;
    if (fn === '(idle)') return undefined;
    if (!url) return fn || '(native)';
    if (url.includes('node_modules/')) return url.split('node_modules/').pop()!.split('/')[0]!;
    if (url.includes('/src/')) return `src/${url.split('/src/').pop()}`;
    if (url.startsWith('node:')) return `${url} ${fn}`;
    return url.split('/').pop()!;
  };
  const self = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const k = where(byId.get(id)!);
    if (k) self.set(k, (self.get(k) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  // The profile covers the whole process (start-up and warm-up included): per request of both runs.
  const requests = warm.total + r.total;
  const busy = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`main thread busy ${(busy / requests).toFixed(1)} µs per request (start-up and warm-up included; profile ${join(profDir, file)})`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(us / requests).toFixed(2).padStart(8)} µs  ${k}`);
}
