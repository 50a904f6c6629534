/**
 * The real helm binary against the test kube-apiserver: built once by
 * test/tools/build-helm.sh (as `make helm-bin` does), run with the cluster's
 * kubeconfig and Helm's own config, cache and data in a temp dir of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubectlResult, TestCluster } from '../harness/cluster.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BUILD_SCRIPT = join(ROOT, 'test/tools/build-helm.sh');

let binDir: Promise<string> | undefined;

/** Runs `command args` and resolves with its exit code and output; rejects after `timeoutMs`. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** The directory holding helm: the last stdout line of test/tools/build-helm.sh (a cold build takes minutes). */
export function ensureHelm(): Promise<string> {
  binDir ??= run('bash', [BUILD_SCRIPT], {}, 900_000).then((r) => {
    const last = r.stdout.trim().split('\n').pop()?.trim();
    if (r.code !== 0 || !last) throw new Error(`${BUILD_SCRIPT} failed (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
    return last;
  });
  binDir.catch(() => (binDir = undefined));
  return binDir;
}

export interface Helm {
  /** Runs `helm args` against the cluster; a non-zero exit rejects with helm's stderr. */
  run(args: string[], timeoutMs?: number): Promise<KubectlResult>;
}

export async function helmFor(cluster: TestCluster): Promise<Helm> {
  const helm = join(await ensureHelm(), 'helm');
  const home = mkdtempSync(join(tmpdir(), 'rcg-e2e-helm-'));
  const env = {
    KUBECONFIG: cluster.kubeconfig,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  return {
    run: async (args, timeoutMs = 180_000) => {
      const r = await run(helm, [...args, '--kubeconfig', cluster.kubeconfig], env, timeoutMs);
      if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
      return r;
    },
  };
}
