/**
 * Compiles the webhook and the bench servers/tools with tsc into bench/.build
 * (bench/tsconfig.build.json: the settings deploy/Dockerfile builds the image
 * with), so that what is measured is the JavaScript production runs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BARE, CLI, ROOT } from './procs.js';

export function buildForBench(): { ms: number } {
  const start = Date.now();
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  // An incremental build trusts its build info: without the outputs, start over.
  if (!existsSync(CLI) || !existsSync(BARE)) rmSync(join(ROOT, 'bench/.build/.tsbuildinfo'), { force: true });
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'bench/tsconfig.build.json')], { cwd: ROOT, encoding: 'utf-8' });
  if (r.status !== 0) {
    // tsc still emits on type errors (someone's work in progress elsewhere); go on if the entry points exist.
    process.stderr.write(`[bench] tsc reported problems (continuing with the emitted JavaScript):\n${r.stdout}${r.stderr}\n`);
  }
  for (const f of [CLI, BARE]) if (!existsSync(f)) throw new Error(`build did not produce ${f}`);
  // src/cli/package-info.ts reads ../../package.json from its module: the package root, here bench/.build.
  copyFileSync(join(ROOT, 'package.json'), join(ROOT, 'bench/.build/package.json'));
  return { ms: Date.now() - start };
}
