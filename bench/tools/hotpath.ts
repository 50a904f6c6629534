/**
 * The admission hot path without the network: the real request listener
 * (`createRequestListener`, as `serve` builds it: engine with every rule,
 * metrics, process logger at info) fed in-memory requests, timed in CPU
 * microseconds per request, stage by stage. For profiling and for
 * before/after comparisons of hot-path changes; the figures that count are
 * the network ones in bench/run.ts.
 *
 *   node bench/.build/bench/tools/hotpath.js [iterations] [objects of each kind added to the state]
 */
import { parseAdmissionReview } from '../../src/admission/parse.js';
import { admissionResponse } from '../../src/admission/response.js';
import { benchBodies } from '../lib/bodies.js';
import { inProcessWebhook } from '../lib/in-process.js';
import { median } from '../lib/stats.js';

const iterations = Number(process.argv[2] ?? 10000);
const size = Number(process.argv[3] ?? 0);
const { state, engine, call } = inProcessWebhook(size);
if (size > 0) console.log(`state: ${JSON.stringify(state.counts())}`);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const REPEATS = 5;

/** Median over REPEATS runs of `n` calls, CPU µs per call. */
async function timeAsync(fn: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < Math.min(2000, n); i++) await fn();
  const runs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const start = cpuUs();
    for (let i = 0; i < n; i++) await fn();
    runs.push((cpuUs() - start) / n);
  }
  return median(runs);
}

function timeSync(fn: () => unknown, n: number): number {
  for (let i = 0; i < Math.min(2000, n); i++) fn();
  const runs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const start = cpuUs();
    for (let i = 0; i < n; i++) fn();
    runs.push((cpuUs() - start) / n);
  }
  return median(runs);
}

const rows: string[] = [];
for (const b of benchBodies()) {
  const first = await call('/validate', b.text);
  if (!first.includes('"allowed":true')) throw new Error(`unexpected answer for ${b.id}: ${first}`);
  const parsed = parseAdmissionReview(b.text);
  if (!parsed.ok) throw new Error(parsed.reason);
  const r = parsed.request;
  const req = () => ({
    group: r.kind.group,
    kind: r.kind.kind,
    operation: r.operation,
    namespace: r.namespace ?? '',
    name: r.name ?? '',
    object: JSON.parse(b.text).request.object as unknown,
  });
  const stages: [string, number][] = [
    ['JSON.parse (what bare does)', timeSync(() => JSON.parse(b.text), iterations)],
    ['parseAdmissionReview', timeSync(() => parseAdmissionReview(b.text), iterations)],
    ['evaluate validate (incl. a JSON.parse for a fresh object)', timeSync(() => engine.evaluate(req(), 'validate', state), iterations)],
    ['evaluate mutate (incl. a JSON.parse for a fresh object)', timeSync(() => engine.evaluate(req(), 'mutate', state), iterations)],
    [
      'admissionResponse + stringify',
      timeSync(() => JSON.stringify({ response: admissionResponse(r.uid, engine.evaluate(req(), 'validate', state)) }), iterations / 4),
    ],
    ['listener /validate (whole handler)', await timeAsync(() => call('/validate', b.text), iterations)],
    ['listener /mutate (whole handler)', await timeAsync(() => call('/mutate', b.text), iterations)],
  ];
  for (const [name, us] of stages) rows.push(`${b.id.padEnd(7)} ${name.padEnd(58)} ${us.toFixed(1).padStart(7)} µs`);
}
console.log(rows.join('\n'));
