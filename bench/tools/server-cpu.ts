/**
 * One server at a time under closed-loop load (autocannon, as the throughput
 * part of bench/run.ts): its CPU per request split into user and system time
 * (/proc/<pid>/stat), and with `--profile` its V8 CPU profile attributed per
 * request, by package, source file or node: function. For finding where a
 * webhook request's CPU goes under load, which differs from the in-process
 * figures of hotpath.ts (bench/optimisations.md, "Under load"). With
 * `--mixed` the webhook first serves every bench body on both endpoints, as
 * in bench/run.ts, so its JIT has seen every kind before the measured run.
 *
 *   [RCG_SERVER_NODE_FLAGS=...] node bench/.build/bench/tools/server-cpu.js <bare|validate|mutate> <es|ippool> [seconds] [--profile] [--mixed]
 *
 * Run `npx tsc -p bench/tsconfig.build.json` first.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { baseStateObjects, benchBodies, writeList } from '../lib/bodies.js';
import { writeBenchCerts } from '../lib/certs.js';
import { throughput, warmEveryBody } from '../lib/load.js';
import { readCpuProfile, selfTimes, shortUrl, type ProfileNode } from '../lib/cpuprofile.js';
import { cpuTimes, startBare, startServe } from '../lib/procs.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const profile = process.argv.includes('--profile');
const mixed = process.argv.includes('--mixed');
const [endpoint = 'validate', bodyId = 'es', secondsText = '6'] = args;
const body = benchBodies().find((b) => b.id === bodyId);
if (!['bare', 'validate', 'mutate'].includes(endpoint) || !body) {
  console.error('usage: server-cpu.js <bare|validate|mutate> <es|ippool> [seconds] [--profile] [--mixed]');
  process.exit(2);
}
const CONNECTIONS = 10;

const dir = mkdtempSync(join(os.tmpdir(), 'rcg-server-cpu-'));
const certs = writeBenchCerts(dir);
const profDir = join(dir, 'profile');
// RCG_SERVER_NODE_FLAGS: extra node flags for the server, e.g. "--trace-gc" (its log is in the temporary directory).
const extra = process.env.RCG_SERVER_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const flags = [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...extra];
const proc =
  endpoint === 'bare'
    ? await startBare('bare', certs, dir, flags)
    : await startServe({
        name: 'webhook',
        tls: certs,
        logDir: dir,
        state: [writeList(join(dir, 'state.json'), baseStateObjects())],
        nodeFlags: flags,
      });

const target = { port: proc.port, path: endpoint === 'bare' ? '/' : `/${endpoint}`, ca: certs.ca };
// With --mixed, every body on both endpoints first (warmEveryBody).
let warmed = mixed && endpoint !== 'bare' ? await warmEveryBody(target, CONNECTIONS, benchBodies()) : 0;
warmed += (await throughput(target, body.text, CONNECTIONS, 2)).total;
const c0 = cpuTimes(proc.pid);
const r = await throughput(target, body.text, CONNECTIONS, Number(secondsText));
const c1 = cpuTimes(proc.pid);
await proc.stop();
const perRequest = (ms: number) => ((ms * 1000) / r.total).toFixed(1);
console.log(
  `${endpoint} ${bodyId}: ${r.rps.toFixed(0)} req/s; CPU per request ${perRequest(c1.userMs - c0.userMs + c1.systemMs - c0.systemMs)} µs ` +
    `(user ${perRequest(c1.userMs - c0.userMs)}, system ${perRequest(c1.systemMs - c0.systemMs)})`,
);

if (profile) {
  const file = readdirSync(profDir)[0]!;
  const p = readCpuProfile(join(profDir, file));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  /** Where a sample's time goes: a package, a project file, or a node: function; undefined for idle time. */
  const where = (n: ProfileNode): string | undefined => {
    const { functionName: fn, url } = n.callFrame;
    if (fn === '(idle)') return undefined;
    if (!url) return fn || '(native)';
    return url.startsWith('node:') ? `${url} ${fn}` : shortUrl(url);
  };
  const self = new Map<string, number>();
  for (const [id, us] of selfTimes(p)) {
    const k = where(byId.get(id)!);
    if (k) self.set(k, (self.get(k) ?? 0) + us);
  }
  // The profile covers the whole process (start-up and warm-up included): per request of both runs.
  const requests = warmed + r.total;
  const busy = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(
    `main thread busy ${(busy / requests).toFixed(1)} µs per request (start-up and warm-up included; profile ${join(profDir, file)})`,
  );
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${(us / requests).toFixed(2).padStart(8)} µs  ${k}`);
}
