/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof): self time per function and
 * per file or package, and inclusive time of the functions matching a filter.
 *
 *   node --import tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [limit] [inclusive-filter]
 */
import { readCpuProfile, selfTimes, shortUrl, type ProfileNode } from '../lib/cpuprofile.js';

const [file, limitText, filter] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpuprofile-top.ts <file.cpuprofile> [limit] [filter]');
  process.exit(2);
}
const limit = Number(limitText ?? 30);
const profile = readCpuProfile(file);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = selfTimes(profile);
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function label(n: ProfileNode): string {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? ':' + (f.lineNumber + 1) : ''}`;
}

const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  fn.set(label(n), (fn.get(label(n)) ?? 0) + us);
  const p = n.callFrame.url ? shortUrl(n.callFrame.url).split(':')[0]! : n.callFrame.functionName || '(native)';
  pkg.set(p, (pkg.get(p) ?? 0) + us);
}
const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
console.log('\nself time by function:');
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, limit)) console.log(`${pct(v)}  ${k}`);
console.log('\nself time by file/package:');
for (const [k, v] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, limit)) console.log(`${pct(v)}  ${k}`);

if (filter) {
  // Inclusive time: samples whose stack contains a frame matching the filter.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (l.includes(filter) && !seen.has(l)) {
        seen.add(l);
        incl.set(l, (incl.get(l) ?? 0) + us);
      }
    }
  }
  console.log(`\ninclusive time of frames matching "${filter}":`);
  for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, limit)) console.log(`${pct(v)}  ${k}`);
}
