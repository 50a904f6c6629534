/**
 * The real `helm` and `helm-docs` for the chart tests, from the directory in
 * RCG_HELM_BIN (the Makefile sets it from test/tools/build-helm.sh), else
 * from running that script (which builds them once into a cache).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { generateCA } from '../../src/certs/generate.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The chart, relative to ROOT (the tests run helm from ROOT). */
export const CHART = 'deploy/helm/remote-cluster-guard';
export const CHART_DIR = `${ROOT}${CHART}`;

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

/** Runs `tool` (helm or helm-docs) from the bin directory in ROOT, with no kubeconfig (no cluster is ever reached). */
export function run(tool: 'helm' | 'helm-docs', args: string[], cwd = ROOT): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      `${helmBinDir()}/${tool}`,
      args,
      {
        cwd,
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
        // Helm's cache and config in a place of their own, and no cluster.
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', KUBECONFIG: '/dev/null' },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && code === -1) reject(err);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

export const helm = (args: string[]) => run('helm', args);

/** A Kubernetes object as rendered; the fields the tests read. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The release and namespace every test renders with unless it says otherwise: the names deploy/ uses. */
export const RELEASE = 'remote-cluster-guard';
export const NAMESPACE = 'remote-cluster-guard';

/**
 * `helm template` of the chart with `args` (e.g. `--set`, `--api-versions`),
 * parsed; fails the test with Helm's message when it does not render.
 */
export async function render(args: string[] = [], release = RELEASE, namespace = NAMESPACE): Promise<K8sObject[]> {
  const r = await helm(['template', release, CHART, '--namespace', namespace, ...args]);
  if (r.code !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** The one object of `kind` named `name` (the fullname when omitted). */
export function find(objects: readonly K8sObject[], kind: string, name = RELEASE): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1)
    throw new Error(`${found.length} ${kind} named ${name} (rendered: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return found[0]!;
}

export type CertificateMode = 'selfManaged' | 'certManager' | 'secret';
export const CERTIFICATE_MODES: readonly CertificateMode[] = ['selfManaged', 'certManager', 'secret'];

let ca: { file: string; pem: string } | undefined;

/** A CA certificate (PEM) made once per test file, and the file holding it. */
export function testCa(): { file: string; pem: string } {
  if (ca) return ca;
  const pem = generateCA({ service: RELEASE, namespace: NAMESPACE, validityDays: 30 }).caCert;
  const file = join(mkdtempSync(join(tmpdir(), 'rcg-chart-')), 'ca.crt');
  writeFileSync(file, pem);
  return (ca = { file, pem });
}

/** The values a certificate mode needs to render: `secret` its Secret and caBundle, `certManager` the cert-manager API. */
export function modeValues(mode: CertificateMode): string[] {
  switch (mode) {
    case 'selfManaged':
      return [];
    case 'certManager':
      return ['--set', 'certificates.mode=certManager', '--api-versions', 'cert-manager.io/v1'];
    case 'secret':
      return [
        '--set',
        'certificates.mode=secret',
        '--set',
        'certificates.secret.name=webhook-tls',
        '--set-file',
        `certificates.secret.caBundle=${testCa().file}`,
      ];
  }
}
