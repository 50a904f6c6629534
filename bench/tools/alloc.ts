/**
 * Bytes allocated per admission request, by function: the real request
 * listener in-process (bench/lib/in-process.ts) under V8's sampling heap
 * profiler, counting objects the young and old generation collections have
 * already freed too (what a request costs the GC, not what it keeps).
 * Allocation is what the scavenger pays for under load: the webhook's
 * `--trace-gc` showed about twice the bare server's scavenges per request
 * (bench/optimisations.md, "Allocation per request").
 *
 *   node bench/.build/bench/tools/alloc.js [requests] [validate|mutate] [es|ippool]
 *
 * Run `npx tsc -p bench/tsconfig.build.json` first. Figures are sampled
 * (one sample per 256 bytes on average): good to about ±5 %.
 */
import { Session } from 'node:inspector/promises';
import { benchBodies } from '../lib/bodies.js';
import { shortUrl } from '../lib/cpuprofile.js';
import { inProcessWebhook } from '../lib/in-process.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  id: number;
  children: HeapNode[];
}

const requests = Number(process.argv[2] ?? 20000);
const endpoint = process.argv[3] ?? 'validate';
const bodyId = process.argv[4] ?? 'ippool';
const body = benchBodies().find((b) => b.id === bodyId);
if (!body || !['validate', 'mutate'].includes(endpoint)) {
  console.error('usage: alloc.js [requests] [validate|mutate] [es|ippool]');
  process.exit(2);
}
const { call } = inProcessWebhook();
const path = `/${endpoint}`;
for (let i = 0; i < 5000; i++) await call(path, body.text);

const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 256,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
for (let i = 0; i < requests; i++) await call(path, body.text);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } };
session.disconnect();

/** Self bytes by `file function`, and by file. */
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const label = (n: HeapNode) => `${shortUrl(n.callFrame.url)} ${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber + 1}`;
// Allocations made by built-ins (no URL) are charged to the JavaScript function that called them.
for (const stack: [HeapNode, HeapNode | undefined][] = [[profile.head, undefined]]; stack.length > 0;) {
  const [n, caller] = stack.pop()!;
  const native = n.callFrame.url === '' && caller !== undefined;
  const owner = native ? caller : n;
  if (n.selfSize > 0) {
    add(byFile, shortUrl(owner.callFrame.url), n.selfSize);
    add(byFunction, native ? `${label(owner)} → ${n.callFrame.functionName || '(native)'}` : label(n), n.selfSize);
  }
  for (const c of n.children) stack.push([c, owner]);
}
const total = [...byFile.values()].reduce((a, b) => a + b, 0);
const per = (bytes: number) => `${(bytes / requests).toFixed(0).padStart(7)} B`;
console.log(`${endpoint} ${bodyId}: ${per(total)} per request (body ${Buffer.byteLength(body.text)} bytes), ${requests} requests`);
console.log('\nby file:');
for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${per(v)}  ${k}`);
console.log('\nby function:');
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${per(v)}  ${k}`);
