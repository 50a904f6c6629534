/**
 * Child processes of the benchmarks: the bare baseline server and the real
 * `remote-cluster-guard serve`, each in its own Node process so the load
 * generator (this process) never shares their event loop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether this module runs from bench/lib (tsx) or compiled from bench/.build/bench/lib. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/bench\/\.build\/$/, '');
/** Where bench/tsconfig.build.json compiles the webhook and the bench servers (as deploy/Dockerfile compiles the image). */
export const BUILD = join(ROOT, 'bench/.build');
export const CLI = join(BUILD, 'src/cli/bin.js');
export const BARE = join(BUILD, 'bench/servers/bare.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ServerProcess {
  name: string;
  port: number;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resident set size of the process now, in MiB (from /proc/<pid>/status VmRSS). */
  rssMiB(): number;
  stop(): Promise<void>;
}

/** VmRSS of a process in MiB; NaN when it cannot be read. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf-8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface SpawnOptions {
  name: string;
  /** Script and its arguments; a `.ts` script runs through tsx, a compiled `.js` one with plain node. */
  args: string[];
  port: number;
  logFile: string;
  /** Extra node flags before --import (e.g. --cpu-prof). */
  nodeFlags?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Starts `node [flags] <script> <args>` with stdout+stderr to `logFile`. */
export function spawnNode(o: SpawnOptions): ServerProcess {
  const fd = openSync(o.logFile, 'a');
  const tsx = o.args[0]?.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...(o.nodeFlags ?? []), ...tsx, ...o.args], {
    cwd: ROOT,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...o.env },
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name: o.name,
    port: o.port,
    pid: child.pid!,
    child,
    logFile: o.logFile,
    rssMiB: () => rssMiB(child.pid!),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** One HTTPS GET with the given CA; resolves with the status code and body. */
export function httpsGet(port: number, path: string, ca: string | Buffer, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Waits until GET `path` answers `wantStatus` (any status when undefined). */
export async function waitHttps(
  p: ServerProcess,
  path: string,
  ca: string | Buffer,
  timeoutMs: number,
  wantStatus?: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode}; see ${p.logFile}`);
    try {
      const r = await httpsGet(p.port, path, ca);
      if (wantStatus === undefined || r.status === wantStatus) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${p.name} not ready after ${timeoutMs} ms (${last}); see ${p.logFile}`);
    await sleep(100);
  }
}

export interface TlsPaths {
  certFile: string;
  keyFile: string;
  ca: string;
}

/** The bare node:https baseline server. */
export async function startBare(name: string, tls: TlsPaths, logDir: string, nodeFlags: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const p = spawnNode({
    name,
    args: [BARE, tls.certFile, tls.keyFile, String(port)],
    port,
    logFile: join(logDir, `${name}.log`),
    nodeFlags,
  });
  await waitHttps(p, '/', tls.ca, 20_000);
  return p;
}

export interface ServeOptions {
  name: string;
  tls: TlsPaths;
  logDir: string;
  state?: string[];
  kubeconfig?: string;
  extraArgs?: string[];
  nodeFlags?: string[];
  readyTimeoutMs?: number;
  /** The compiled CLI to run; this tree's build (`CLI`) unless set (another tree's, for A/B comparisons). */
  cli?: string;
}

const sidePortSupport = new Map<string, boolean>();

/**
 * Whether `cli serve` has `--metrics-port` (trees from issue 12 on: /metrics and the probes on ports of
 * their own by default). Such a CLI gets `--metrics-port 0 --health-port 0`, so the bench reads them on
 * the webhook port as it does an older tree's (an A/B run may compare both).
 */
function hasSidePorts(cli: string): boolean {
  let known = sidePortSupport.get(cli);
  if (known === undefined) {
    known = execFileSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf-8' }).includes('--metrics-port');
    sidePortSupport.set(cli, known);
  }
  return known;
}

/** The real `remote-cluster-guard serve`, ready when /readyz answers 200. */
export async function startServe(o: ServeOptions): Promise<ServerProcess> {
  const port = await freePort();
  const cli = o.cli ?? CLI;
  const args = [
    cli,
    'serve',
    ...(hasSidePorts(cli) ? ['--metrics-port', '0', '--health-port', '0'] : []),
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--tls-cert',
    o.tls.certFile,
    '--tls-key',
    o.tls.keyFile,
    '--shutdown-delay',
    '0',
    ...(o.state ?? []).flatMap((f) => ['--state', f]),
    ...(o.kubeconfig ? ['--kubeconfig', o.kubeconfig] : []),
    ...(o.extraArgs ?? []),
  ];
  const p = spawnNode({ name: o.name, args, port, logFile: join(o.logDir, `${o.name}.log`), nodeFlags: o.nodeFlags ?? [] });
  await waitHttps(p, '/readyz', o.tls.ca, o.readyTimeoutMs ?? 120_000, 200);
  return p;
}

/** User and system CPU time a process has used so far, in ms (from /proc/<pid>/stat; 10 ms resolution); NaN when unreadable. */
export function cpuTimes(pid: number): { userMs: number; systemMs: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf-8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return { userMs: (Number(fields[11]) * 1000) / CLK_TCK, systemMs: (Number(fields[12]) * 1000) / CLK_TCK };
  } catch {
    return { userMs: Number.NaN, systemMs: Number.NaN };
  }
}

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuTimeMs(pid: number): number {
  const { userMs, systemMs } = cpuTimes(pid);
  return userMs + systemMs;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;
