/**
 * Runs the real webhook (`remote-cluster-guard serve` with live state) as a
 * child process next to the test kube-apiserver, and registers deploy/'s two
 * webhook configurations with it through `clientConfig.url` + `caBundle`
 * (there is no cluster network for a Service here).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubectlResult, TestCluster } from '../harness/cluster.js';
import { runCli } from '../../helpers/cli.js';
import { freePort } from '../../helpers/net.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');

export interface RunningWebhook {
  port: number;
  url: string;
  certDir: string;
  caBundle: string;
  logFile: string;
  decisionLog: string;
  process: ChildProcess;
  /** Output of the process so far (its JSON log lines). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** GET a path over HTTPS with the webhook's CA. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** Polls `/metrics` until `predicate` holds for the text, or throws after `timeoutMs`. */
  waitForMetrics(predicate: (text: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** `remote-cluster-guard certs` into a temp dir; returns the dir and the printed caBundle. */
export async function makeCerts(): Promise<{ certDir: string; caBundle: string }> {
  const certDir = mkdtempSync(join(tmpdir(), 'rcg-e2e-certs-'));
  const r = await runCli(['certs', '--out-dir', certDir, '--validity-days', '2']);
  if (r.code !== 0) throw new Error(`certs failed: ${r.stderr}`);
  return { certDir, caBundle: r.stdout.trim() };
}

export interface StartWebhookOptions {
  cluster: TestCluster;
  certDir: string;
  caBundle: string;
  port?: number;
  extraArgs?: string[];
  /** `--manage-certs`: the webhook makes its certificates in certDir itself (no --tls-* flags). */
  managed?: boolean;
  /**
   * Plain HTTP ports of their own for /metrics and for the probes (`get` goes there for those paths);
   * unset: served on the webhook port (`--metrics-port 0 --health-port 0`).
   */
  metricsPort?: number;
  healthPort?: number;
  /** What to wait for before returning: `/readyz` 200 (default, every informer synced) or `/healthz` 200 (listening). */
  waitFor?: 'ready' | 'listening';
}

export async function startWebhook(o: StartWebhookOptions): Promise<RunningWebhook> {
  const port = o.port ?? (await freePort());
  const logDir = mkdtempSync(join(tmpdir(), 'rcg-e2e-log-'));
  const decisionLog = join(logDir, 'decisions.jsonl');
  const args = [
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--kubeconfig',
    o.cluster.kubeconfig,
    ...(o.managed
      ? ['--manage-certs', '--cert-dir', o.certDir]
      : ['--tls-cert', join(o.certDir, 'tls.crt'), '--tls-key', join(o.certDir, 'tls.key')]),
    '--decision-log',
    decisionLog,
    '--shutdown-delay',
    '0',
    '--metrics-port',
    String(o.metricsPort ?? 0),
    '--health-port',
    String(o.healthPort ?? 0),
    ...(o.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** The plain HTTP port serving `path`, when it has one of its own. */
  const sidePort = (path: string) =>
    path === '/metrics' ? o.metricsPort : ['/healthz', '/readyz'].includes(path) ? o.healthPort : undefined;
  /** GET over http or https (2 s timeout, no keep-alive): status and body. */
  const fetchText = (client: typeof http | typeof https, options: https.RequestOptions) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      client
        .get({ host: '127.0.0.1', timeout: 2000, agent: false, ...options }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject)
        .on('timeout', function (this: { destroy(): void }) {
          this.destroy();
        });
    });
  // Read at each call: with --manage-certs the CA appears, and changes, at run time.
  const get = (path: string) => {
    const side = sidePort(path);
    return side !== undefined
      ? fetchText(http, { port: side, path })
      : fetchText(https, { port, path, ca: readFileSync(join(o.certDir, 'ca.crt')) });
  };
  const hook: RunningWebhook = {
    port,
    url: `https://127.0.0.1:${port}`,
    certDir: o.certDir,
    caBundle: o.caBundle,
    logFile: '',
    decisionLog,
    process: child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
    get,
    waitForMetrics: async (predicate, what, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        try {
          last = (await get('/metrics')).body;
          if (predicate(last)) return;
        } catch {
          /* not listening yet */
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `timed out waiting for ${what}; last metrics:\n${last
          .split('\n')
          .filter((l) => l.startsWith('remote_cluster_guard_state'))
          .join('\n')}\nwebhook output:\n${out.slice(-3000)}`,
      );
    },
  };
  // Ready means listening and every informer has synced.
  const deadline = Date.now() + 30_000;
  const probe = o.waitFor === 'listening' ? '/healthz' : '/readyz';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`webhook exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await get(probe)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      // Nothing else holds the child: left running, it would keep the test process alive.
      child.kill('SIGKILL');
      throw new Error(`webhook: ${probe} not 200 after 30 s:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return hook;
}

/**
 * deploy/base/webhooks.yaml with each webhook's Service replaced by a URL on
 * 127.0.0.1 and the given caBundle: the same rules, failurePolicy,
 * matchPolicy, namespaceSelector and timeouts as an install.
 */
export function webhookConfigurations(url: string, caBundle: string): string {
  const text = readFileSync(join(ROOT, 'deploy/base/webhooks.yaml'), 'utf-8');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as { webhooks: { clientConfig: Record<string, unknown> }[] });
  for (const doc of docs) {
    for (const w of doc.webhooks) {
      const path = (w.clientConfig['service'] as { path: string }).path;
      w.clientConfig = { url: `${url}${path}`, caBundle };
    }
  }
  return docs.map((d) => stringify(d)).join('---\n');
}

/** The value of a metric line (first match of `name{labels}`), or undefined. */
export function metricValue(text: string, nameWithLabels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(nameWithLabels + ' '));
  return line === undefined ? undefined : Number(line.slice(nameWithLabels.length + 1));
}

/**
 * Runs `kubectl args` (`input` on stdin) until it fails, as it does once the
 * webhook answers: new webhook configurations reach the kube-apiserver's
 * informer within about a second, so this tries for about ten. `between`
 * runs before each retry (e.g. deleting what an apply that got through made).
 * Gives the last result; the caller asserts what refused it.
 */
export async function kubectlUntilRefused(
  cluster: Pick<TestCluster, 'kubectlRun'>,
  args: string[],
  input: string,
  between?: () => Promise<unknown>,
): Promise<KubectlResult> {
  let r = await cluster.kubectlRun(args, { allowFail: true, input });
  for (let i = 0; i < 100 && r.code === 0; i++) {
    await between?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await cluster.kubectlRun(args, { allowFail: true, input });
  }
  return r;
}
