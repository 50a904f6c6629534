/**
 * `npm run bench:validate`: `remote-cluster-guard validate` of a GitOps
 * directory of 1,000 Elasticsearch and 1,000 IPPools (one file each, in
 * folders per namespace), a few hundred of them with findings, against a
 * baseline run side by side: `node -e` reading and YAML-parsing the same
 * files in one process (what any Node.js tool must spend on start-up and
 * parsing). Each is a fresh process timed by wall clock, start-up included,
 * `--runs` rounds alternating the order; medians and their ratio. The CLI is
 * the one users run from npm: `npm run build` (tsc -p tsconfig.build.json)
 * into dist/, run with plain node.
 *
 * The cluster state the pipeline would have (the ECK licence ConfigMap and
 * the 10 RemoteClusterConfigurations the federation pools name) is given with
 * `--state`. Findings: 100 Elasticsearch reference themselves (es-remote-ref,
 * deny), 100 IPPools take the CIDR of another enabled pool (calico-pool-overlap,
 * deny on both).
 *
 *   npx tsx bench/validate-dir.ts [--runs 7] [--count 1000] [--keep] [--write-only DIR]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { generateElasticsearches, generateIPPools } from './lib/generate.js';
import { loadAverage, startRun, type RunInfo } from './lib/machine.js';
import { ROOT } from './lib/procs.js';
import { median } from './lib/stats.js';
import { renderResults } from './report.js';

const { values: args } = parseArgs({
  options: {
    'write-only': { type: 'string' },
    runs: { type: 'string', default: '7' },
    count: { type: 'string', default: '1000' },
    keep: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const COUNT = Number(args.count);

export interface ValidateDirResults extends RunInfo {
  kind: 'validate-dir';
  command: string;
  method: string;
  /** The measured command line, with the generated directory as `<dir>`. */
  validateCommand: string;
  baselineCommand: string;
  objects: { elasticsearch: number; ippools: number; files: number; mib: number; stateObjects: number };
  result: { exitCode: number | null; checked: number; denied: number; patched: number; findings: Record<string, number> };
  buildMs: number;
  /** Wall-clock ms of each process, and its CPU ms (user + system). */
  runs: {
    round: number;
    validateMs: number;
    baselineMs: number;
    nodeMs: number;
    validateCpuMs: number;
    baselineCpuMs: number;
    nodeCpuMs: number;
    loadAverage: number;
  }[];
  medians: {
    validateMs: number;
    baselineMs: number;
    nodeMs: number;
    ratio: number;
    validateCpuMs: number;
    baselineCpuMs: number;
    cpuRatio: number;
  };
}

type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };

const log = (msg: string) => process.stderr.write(`[bench:validate ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** The directory: `gitops/elasticsearch/<namespace>/<name>.yaml`, `gitops/ippools/<name>.yaml`, and `cluster-state.yaml` beside it. */
function writeDirectory(dir: string): ValidateDirResults['objects'] {
  const es = generateElasticsearches(COUNT).es as unknown as Obj[];
  const { pools: generatedPools, rccs } = generateIPPools(COUNT);
  const pools = generatedPools as unknown as Obj[];
  es.forEach((o, i) => {
    // The generated certificate-model clusters name transport CA ConfigMaps, which belong to the cluster, not to this directory.
    delete o.spec['transport'];
    // Half are reached with API keys: every cluster serves remote clusters, so that is no warning.
    o.spec['remoteClusterServer'] = { enabled: true };
    // Every tenth references itself: es-remote-ref denies it.
    if (i % 10 === 5) {
      const remotes = o.spec['remoteClusters'] as { name: string; elasticsearchRef: { name: string; namespace: string } }[];
      remotes[0] = { name: 'self', elasticsearchRef: { name: o.metadata.name, namespace: o.metadata.namespace! } };
    }
  });
  // Every tenth generated pool (enabled) takes the CIDR of the enabled pool two before it (same address family): both overlap.
  const local = pools.filter((p) => !p.metadata.name.startsWith('remote-'));
  local.forEach((p, i) => {
    if (i % 10 === 3) p.spec['cidr'] = local[i - 2]!.spec['cidr'];
  });
  const gitops = join(dir, 'gitops');
  let bytes = 0;
  const put = (path: string, o: unknown) => {
    const text = stringify(o);
    bytes += Buffer.byteLength(text);
    writeFileSync(path, text);
  };
  for (const o of es) {
    const folder = join(gitops, 'elasticsearch', o.metadata.namespace!);
    mkdirSync(folder, { recursive: true });
    put(join(folder, `${o.metadata.name}.yaml`), o);
  }
  mkdirSync(join(gitops, 'ippools'), { recursive: true });
  for (const o of pools) put(join(gitops, 'ippools', `${o.metadata.name}.yaml`), o);
  const licence = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'elastic-licensing', namespace: 'elastic-system' },
    data: { eck_license_level: 'enterprise', eck_license_expiry_date: '2099-01-01T00:00:00Z' },
  };
  writeFileSync(join(dir, 'cluster-state.yaml'), [licence, ...rccs].map((o) => stringify(o)).join('---\n'));
  return {
    elasticsearch: es.length,
    ippools: pools.length,
    files: es.length + pools.length,
    mib: bytes / 2 ** 20,
    stateObjects: 1 + rccs.length,
  };
}

/**
 * The baseline: one Node.js process that walks the directory, reads every
 * file and parses it as YAML documents into plain values (yaml's
 * parseAllDocuments and toJS, as validate does), and nothing else.
 */
const BASELINE_SCRIPT = [
  "const fs = require('node:fs'), path = require('node:path'), { parseAllDocuments } = require('yaml');",
  'let docs = 0;',
  'const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name);',
  "  if (e.isDirectory()) walk(p); else if (/\\.ya?ml$/.test(e.name)) for (const doc of parseAllDocuments(fs.readFileSync(p, 'utf-8'))) { doc.toJS(); docs++; } } };",
  'for (const a of process.argv.slice(1)) walk(a);',
  'if (docs === 0) process.exit(3);',
].join('\n');

/**
 * Wall time of one fresh `node <argv>` process and its CPU time (user + system, from bash's `times`:
 * the steadier figure on a shared machine), in ms; throws when it exits with another code.
 */
function time(argv: string[], okCodes: number[]): { wallMs: number; cpuMs: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', '"$0" "$@" >/dev/null; s=$?; times; exit $s', process.execPath, ...argv], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf-8',
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (!okCodes.includes(r.status ?? -1))
    throw new Error(`node ${argv.slice(0, 3).join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  // `times` prints the shell's user and system time, then its children's: `0m1.950s 0m0.180s`.
  const children = r.stdout.trim().split('\n').at(-1) ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (secs.length !== 2) throw new Error(`cannot read the CPU time from ${JSON.stringify(r.stdout)}`);
  return { wallMs, cpuMs: (secs[0]! + secs[1]!) * 1000 };
}

function main(): void {
  if (args['write-only']) {
    // Only the directory, to profile or try by hand: node --cpu-prof dist/cli/bin.js validate --state <dir>/cluster-state.yaml <dir>/gitops
    mkdirSync(args['write-only'], { recursive: true });
    const objects = writeDirectory(args['write-only']);
    log(`wrote ${objects.files} files (${objects.mib.toFixed(2)} MiB) and cluster-state.yaml under ${args['write-only']}`);
    return;
  }
  const run = startRun();
  log('npm run build (tsc -p tsconfig.build.json → dist/)');
  const b0 = Date.now();
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const buildMs = Date.now() - b0;
  const dir = mkdtempSync(join(os.tmpdir(), 'rcg-bench-validate-'));
  try {
    const objects = writeDirectory(dir);
    log(
      `${objects.elasticsearch} Elasticsearch + ${objects.ippools} IPPools in ${objects.files} files (${objects.mib.toFixed(2)} MiB) under ${dir}`,
    );
    const cli = join(ROOT, 'dist/cli/bin.js');
    const validateArgv = [cli, 'validate', '--state', join(dir, 'cluster-state.yaml'), join(dir, 'gitops')];
    const baselineArgv = ['-e', BASELINE_SCRIPT, join(dir, 'gitops')];

    // The findings, from one untimed JSON run.
    const json = spawnSync(process.execPath, [...validateArgv.slice(0, 2), '--output', 'json', ...validateArgv.slice(2)], {
      cwd: ROOT,
      encoding: 'utf-8',
      maxBuffer: 256 << 20,
    });
    const doc = JSON.parse(json.stdout) as { objects: { allowed: boolean; findings: { action: string }[]; patch: unknown[] }[] };
    const findings: Record<string, number> = {};
    for (const o of doc.objects) for (const f of o.findings) findings[f.action] = (findings[f.action] ?? 0) + 1;
    const result = {
      exitCode: json.status,
      checked: doc.objects.length,
      denied: doc.objects.filter((o) => !o.allowed).length,
      patched: doc.objects.filter((o) => o.patch.length > 0).length,
      findings,
    };
    log(`validate: exit ${result.exitCode}, ${result.checked} checked, ${result.denied} denied, findings ${JSON.stringify(findings)}`);

    // One unmeasured run of each (disk cache, V8 code cache), then alternating rounds.
    time(validateArgv, [0, 1]);
    time(baselineArgv, [0]);
    const runs: ValidateDirResults['runs'] = [];
    for (let round = 0; round < RUNS; round++) {
      const order = round % 2 === 0 ? (['validate', 'baseline', 'node'] as const) : (['node', 'baseline', 'validate'] as const);
      const t: Record<string, { wallMs: number; cpuMs: number }> = {};
      for (const which of order) {
        t[which] =
          which === 'validate' ? time(validateArgv, [0, 1]) : which === 'baseline' ? time(baselineArgv, [0]) : time(['-e', ''], [0]);
      }
      const [v, b, n] = [t['validate']!, t['baseline']!, t['node']!];
      runs.push({
        round: round + 1,
        validateMs: v.wallMs,
        baselineMs: b.wallMs,
        nodeMs: n.wallMs,
        validateCpuMs: v.cpuMs,
        baselineCpuMs: b.cpuMs,
        nodeCpuMs: n.cpuMs,
        loadAverage: loadAverage(),
      });
      log(
        `round ${round + 1}: validate ${v.wallMs.toFixed(0)} ms (CPU ${v.cpuMs.toFixed(0)}), baseline ${b.wallMs.toFixed(0)} ms (CPU ${b.cpuMs.toFixed(0)}), node -e '' ${n.wallMs.toFixed(0)} ms`,
      );
    }
    const med = (f: (r: ValidateDirResults['runs'][number]) => number) => median(runs.map(f));
    const medians = {
      validateMs: med((r) => r.validateMs),
      baselineMs: med((r) => r.baselineMs),
      nodeMs: med((r) => r.nodeMs),
      ratio: med((r) => r.validateMs) / med((r) => r.baselineMs),
      validateCpuMs: med((r) => r.validateCpuMs),
      baselineCpuMs: med((r) => r.baselineCpuMs),
      cpuRatio: med((r) => r.validateCpuMs) / med((r) => r.baselineCpuMs),
    };
    const out: ValidateDirResults = {
      kind: 'validate-dir',
      ...run.finish(),
      command: `npm run bench:validate${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      method:
        `A directory written by bench/validate-dir.ts from bench/lib/generate.ts: one YAML file per object, Elasticsearch in gitops/elasticsearch/<namespace>/, ` +
        `IPPools in gitops/ippools/; the licence ConfigMap and the RemoteClusterConfigurations the federation pools name in cluster-state.yaml (\`--state\`). ` +
        `Every tenth Elasticsearch references itself and every tenth generated pool takes the CIDR of another enabled one. ` +
        `Each measurement is a fresh process (wall clock from spawn to exit, start-up included, and its user + system CPU time from bash's \`times\`), after one unmeasured run of each; ` +
        `${RUNS} rounds, the order reversed every other round. The baseline is \`node -e\` with a script that walks the same directory, ` +
        `reads every file and parses it with yaml's parseAllDocuments and toJS (as validate does), and nothing else; \`node -e ''\` is Node.js start-up alone.`,
      validateCommand: `node dist/cli/bin.js validate --state <dir>/cluster-state.yaml <dir>/gitops`,
      baselineCommand: `node -e '<read and parseAllDocuments every *.yaml>' <dir>/gitops`,
      objects,
      result,
      buildMs,
      runs,
      medians,
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/validate-dir.json'), JSON.stringify(out, null, 2) + '\n');
    renderResults();
    log(
      `median validate ${medians.validateMs.toFixed(0)} ms (CPU ${medians.validateCpuMs.toFixed(0)}), baseline ${medians.baselineMs.toFixed(0)} ms (CPU ${medians.baselineCpuMs.toFixed(0)}), ratio ${medians.ratio.toFixed(2)}; ` +
        `results in bench/results/validate-dir.json and bench/RESULTS.md`,
    );
  } finally {
    if (args.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// Run only as a script: bench/report.ts imports this module's types.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
