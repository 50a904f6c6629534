/**
 * The real `helm` and `helm-docs`, from the directory in RCG_HELM_BIN (the
 * Makefile sets it from test/tools/build-helm.sh), else from running that
 * script (which builds them once into a cache).
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let binDir: string | undefined;

/** The directory holding helm and helm-docs. */
export function helmBinDir(): string {
  if (binDir) return binDir;
  const fromEnv = process.env['RCG_HELM_BIN'];
  if (fromEnv) return (binDir = fromEnv);
  // Its last line of stdout is the bin directory; build logs go to stderr.
  const out = execFileSync('bash', ['test/tools/build-helm.sh'], { cwd: ROOT, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'inherit'] });
  return (binDir = out.trim().split('\n').at(-1)!);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tool` from the bin directory, in `cwd` (default ROOT), against the
 * cluster of `kubeconfig`; without one no cluster is reachable (KUBECONFIG=/dev/null).
 */
export function runHelmTool(
  tool: 'helm' | 'helm-docs',
  args: string[],
  opts: { cwd?: string; kubeconfig?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      `${helmBinDir()}/${tool}`,
      args,
      {
        cwd: opts.cwd ?? ROOT,
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', KUBECONFIG: opts.kubeconfig ?? '/dev/null' },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && code === -1) reject(err);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}
