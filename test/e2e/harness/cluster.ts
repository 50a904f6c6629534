/**
 * A real, throwaway Kubernetes control plane for e2e tests: etcd + kube-apiserver
 * on 127.0.0.1 (free ports, temp dirs), driven with the real kubectl.
 *
 * No controller-manager, scheduler or kubelet run, so:
 *  - Deployments create no ReplicaSets/Pods; Pods stay Pending with no node.
 *  - Namespaces never get a `default` ServiceAccount; the ServiceAccount
 *    admission plugin is therefore disabled by default (else every Pod create
 *    fails with `serviceaccount "default" not found`).
 *  - A deleted namespace stays Terminating (no namespace controller); use fresh
 *    namespace names per test instead of deleting and re-creating.
 *  - Admission webhooks (Mutating/ValidatingAdmissionWebhook, on by default)
 *    are called directly by the apiserver; `clientConfig.url` pointing at
 *    https://127.0.0.1:<port>/... with a caBundle works. A newly created
 *    webhook configuration takes effect after a short informer delay (<~1s):
 *    retry the first request until the webhook answers.
 *  - No kube-proxy either, so a Service's ClusterIP leads nowhere. The
 *    apiserver runs with --enable-aggregator-routing=true: it sends a webhook's
 *    `clientConfig.service` calls to an address of the Service's EndpointSlices
 *    (k8s.io/apiserver pkg/util/proxy ResolveEndpoint), which a test creates by
 *    hand (no endpointslice controller) with an address that is not loopback,
 *    as EndpointSlice validation refuses 127.0.0.0/8.
 *
 * Binaries come from opts.binDir, else $RCG_KUBE_BIN, else test/e2e/kube/build.sh
 * (which builds them once into ~/.cache/remote-cluster-guard/kube-<version>/bin).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Return a non-zero exit instead of throwing. */
  allowFail?: boolean;
  /** Kill kubectl after this long (default 120 s) and throw. */
  timeoutMs?: number;
}

export interface TestCluster {
  /** https://127.0.0.1:PORT */
  server: string;
  /** Path of a kubeconfig (bearer token of a system:masters user, CA = the apiserver's cert). */
  kubeconfig: string;
  /** Path of the kubectl binary. */
  kubectl: string;
  binDir: string;
  workDir: string;
  /** Bearer token of the admin user (group system:masters). */
  token: string;
  /** PEM file that verifies the apiserver's serving cert. */
  caFile: string;
  /** Log files of the two processes (in logDir, or workDir). */
  logs: { etcd: string; apiserver: string };
  /** Last `lines` lines of both logs, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
  /**
   * Stops kube-apiserver (SIGTERM, as a control-plane upgrade would) and starts
   * it again on the same port with the same etcd and credentials; resolves once
   * it is ready. Every client's watch is cut in between.
   */
  restartApiServer(): Promise<void>;
  /** SIGSTOPs kube-apiserver: its port still accepts connections, nothing is answered (a hung server). */
  pauseApiServer(): void;
  /** SIGCONTs it after pauseApiServer. */
  resumeApiServer(): void;
  /**
   * Starts a second kube-apiserver on the same etcd, with the same flags,
   * serving certificate (its SAN is 127.0.0.1), tokens and service-account
   * keys, on another port: an HA control plane's other member. stop() stops
   * it too.
   */
  startSecondApiServer(): Promise<SecondApiServer>;
  kubectlRun(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
}

/** A second kube-apiserver of the same cluster (startSecondApiServer). */
export interface SecondApiServer {
  /** https://127.0.0.1:PORT */
  server: string;
  /** kubectl against this server (the cluster's kubeconfig, `--server` overridden). */
  kubectlRun(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Directory holding kube-apiserver, kubectl (and optionally etcd). */
  binDir?: string;
  /** Where <workDir name>-etcd.log / -kube-apiserver.log go; kept after stop(). Default: workDir (removed by stop()). */
  logDir?: string;
  /** Extra --feature-gates for kube-apiserver, merged over the defaults. */
  featureGates?: Record<string, boolean>;
  /** Admission plugins to disable. Default ['ServiceAccount'] (no controller-manager creates SAs). */
  disableAdmissionPlugins?: string[];
  /** Extra kube-apiserver flags, appended last. */
  apiserverArgs?: string[];
  /** How long to wait for etcd + /readyz + the default namespace. Default 120 s. */
  startTimeoutMs?: number;
  /** Keep workDir after stop() (also RCG_KEEP_WORKDIR=1). */
  keepWorkDir?: boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const buildScript = path.resolve(here, '../kube/build.sh');

/**
 * kube-apiserver feature gates this harness sets by default. None are needed
 * with v1.35.4 + Debian's etcd 3.4.23: the apiserver probes etcd's version,
 * logs `RequestWatchProgress feature is not supported by "http://127.0.0.1:..."`
 * and falls back (consistent reads go to etcd instead of the watch cache).
 */
export const DEFAULT_FEATURE_GATES: Record<string, boolean> = {};

// ---------------------------------------------------------------------------
// binaries

let buildPromise: Promise<string> | undefined;

/** Bin dir with kube-apiserver + kubectl: $RCG_KUBE_BIN, else run build.sh once per process. */
export function ensureKubeBinaries(): Promise<string> {
  const fromEnv = process.env.RCG_KUBE_BIN;
  if (fromEnv) return Promise.resolve(path.resolve(fromEnv));
  buildPromise ??= new Promise<string>((resolve, reject) => {
    // Progress (stderr) goes straight through: a cold build takes ~5 min.
    const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop()?.trim() ?? '';
      if (code === 0 && last) resolve(last);
      else reject(new Error(`${buildScript} failed (exit ${code}); stdout:\n${out}`));
    });
  });
  buildPromise.catch(() => (buildPromise = undefined));
  return buildPromise;
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function findBinary(binDir: string, name: string, envVar?: string): string {
  const fromEnv = envVar ? process.env[envVar] : undefined;
  if (fromEnv) return fromEnv;
  const inDir = path.join(binDir, name);
  if (fs.existsSync(inDir)) return inDir;
  const onPath = which(name);
  if (onPath) return onPath;
  throw new Error(`${name} not found in ${binDir} nor on PATH (run test/e2e/kube/build.sh)`);
}

// ---------------------------------------------------------------------------
// processes

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
  exitCode?: number | null;
}

const live = new Set<{ procs: Proc[]; cleanupSync(): void }>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const c of live) c.cleanupSync();
    live.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      // Keep the default behaviour (die by the signal) unless someone else handles it.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

const setpriv = which('setpriv');

function startProcess(name: string, bin: string, args: string[], logFile: string): Proc {
  const fd = fs.openSync(logFile, 'a');
  // setpriv --pdeathsig: the child dies with us even if we are SIGKILLed.
  const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
  const noProxy = [process.env.NO_PROXY, process.env.no_proxy, '127.0.0.1,localhost'].filter(Boolean).join(',');
  const child = spawn(cmd, argv, {
    stdio: ['ignore', fd, fd],
    detached: true, // own process group, killed as a whole
    env: { ...process.env, NO_PROXY: noProxy, no_proxy: noProxy },
  });
  fs.closeSync(fd);
  child.unref();
  const proc: Proc = { name, child, log: logFile, exited: undefined as never };
  proc.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exitCode = code ?? (signal ? -1 : null);
      resolve(proc.exitCode);
    });
    child.on('error', (err) => {
      fs.appendFileSync(logFile, `\n[harness] spawn failed: ${err.message}\n`);
      proc.exitCode = -1;
      resolve(-1);
    });
  });
  return proc;
}

function killGroup(proc: Proc, sig: NodeJS.Signals): void {
  if (proc.exitCode !== undefined || proc.child.pid === undefined) return;
  try {
    process.kill(-proc.child.pid, sig);
  } catch {
    try {
      proc.child.kill(sig);
    } catch {
      /* gone */
    }
  }
}

async function stopProcess(proc: Proc, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== undefined) return;
  killGroup(proc, 'SIGTERM');
  // A SIGSTOPped process (pauseApiServer) acts on SIGTERM only once continued.
  killGroup(proc, 'SIGCONT');
  const t = setTimeout(() => killGroup(proc, 'SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(t);
}

function tail(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${(e as Error).message})`;
  }
}

// ---------------------------------------------------------------------------
// helpers

/** n distinct free loopback ports (all held open together, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const srv = net.createServer();
          srv.unref();
          srv.on('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve(srv));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(
      url,
      // Only for polling our own apiserver on loopback; kubectl verifies the CA.
      { headers, timeout: 5_000, ...(mod === https ? { rejectUnauthorized: false } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Polls `check` until it returns true; fails early if a process dies. */
async function waitFor(what: string, deadline: number, procs: Proc[], check: () => Promise<boolean>): Promise<void> {
  let lastErr = '';
  for (;;) {
    for (const p of procs) {
      if (p.exitCode !== undefined) {
        throw new Error(`${p.name} exited (code ${p.exitCode}) while waiting for ${what}`);
      }
    }
    try {
      if (await check()) return;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`);
    }
    await sleep(250);
  }
}

/** Directory for etcd's data: tmpfs (/dev/shm) when it has room, as etcd fsyncs every write. */
function etcdDataParent(fallback: string): string {
  try {
    const st = fs.statfsSync('/dev/shm');
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    if (st.bavail * st.bsize > 2 * 1024 ** 3) return '/dev/shm';
  } catch {
    /* no usable tmpfs */
  }
  return fallback;
}

const OWNER_FILE = '.rcg-owner-pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes work/etcd dirs left by test processes that were SIGKILLed (their
 * etcd/apiserver died with them via pdeathsig, but nothing removed the dirs;
 * the etcd ones sit on tmpfs, ~120 MiB each).
 */
function sweepStaleDirs(): void {
  for (const [parent, prefix] of [
    [os.tmpdir(), 'rcg-kube-'],
    ['/dev/shm', 'rcg-etcd-'],
  ] as const) {
    let names: string[];
    try {
      names = fs.readdirSync(parent).filter((n) => n.startsWith(prefix));
    } catch {
      continue;
    }
    for (const n of names) {
      const dir = path.join(parent, n);
      try {
        const pid = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
        if (pid > 0 && pid !== process.pid && !alive(pid)) rmrf(dir);
      } catch {
        /* no owner file: not ours to judge */
      }
    }
  }
}

function rmrf(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

// ---------------------------------------------------------------------------

export async function startTestCluster(opts: StartOptions = {}): Promise<TestCluster> {
  const binDir = path.resolve(opts.binDir ?? (await ensureKubeBinaries()));
  const apiserverBin = findBinary(binDir, 'kube-apiserver', 'RCG_KUBE_APISERVER');
  const kubectl = findBinary(binDir, 'kubectl', 'RCG_KUBECTL');
  const etcdBin = findBinary(binDir, 'etcd', 'RCG_ETCD');

  // Ports are picked free then handed to the processes, so another process may
  // grab one in between: retry the whole start a few times on "address in use".
  let lastErr: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(opts, binDir, apiserverBin, kubectl, etcdBin);
    } catch (e) {
      lastErr = e as Error;
      if (!/address already in use/i.test(lastErr.message)) throw lastErr;
    }
  }
  throw lastErr!;
}

async function startOnce(opts: StartOptions, binDir: string, apiserverBin: string, kubectl: string, etcdBin: string): Promise<TestCluster> {
  const startTimeout = opts.startTimeoutMs ?? 120_000;
  sweepStaleDirs();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rcg-kube-'));
  const etcdParent = fs.mkdtempSync(path.join(etcdDataParent(workDir), 'rcg-etcd-'));
  const etcdDir = path.join(etcdParent, 'data'); // etcd wants to create its own data dir (0700)
  for (const d of [workDir, etcdParent]) fs.writeFileSync(path.join(d, OWNER_FILE), String(process.pid));
  const logDir = opts.logDir ? path.resolve(opts.logDir) : workDir;
  fs.mkdirSync(logDir, { recursive: true });
  const keep = opts.keepWorkDir || process.env.RCG_KEEP_WORKDIR === '1';

  const procs: Proc[] = [];
  let stopped = false;
  const entry = {
    procs,
    cleanupSync() {
      for (const p of [...procs].reverse()) killGroup(p, 'SIGKILL');
      if (!keep) {
        rmrf(etcdParent);
        rmrf(workDir);
      }
    },
  };
  installExitHooks();
  live.add(entry);

  // In a shared logDir, prefix with the workDir's unique name.
  const logPrefix = opts.logDir ? `${path.basename(workDir)}-` : '';
  const logs = {
    etcd: path.join(logDir, `${logPrefix}etcd.log`),
    apiserver: path.join(logDir, `${logPrefix}kube-apiserver.log`),
  };
  const logTail = (lines = 40) =>
    `--- ${logs.apiserver} (last ${lines} lines) ---\n${tail(logs.apiserver, lines)}\n` +
    `--- ${logs.etcd} (last ${lines} lines) ---\n${tail(logs.etcd, lines)}`;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // apiserver first, then its storage.
    for (const p of [...procs].reverse()) await stopProcess(p);
    live.delete(entry);
    if (!keep) {
      rmrf(etcdParent);
      rmrf(workDir);
    }
  };

  try {
    // ---- etcd
    const [clientPort, peerPort, port] = (await freePorts(3)) as [number, number, number];
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    procs.push(
      startProcess(
        'etcd',
        etcdBin,
        [
          '--name=rcg-e2e',
          `--data-dir=${etcdDir}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=rcg-e2e=${peerUrl}`,
          '--initial-cluster-state=new',
          '--listen-metrics-urls=',
          '--logger=zap',
          '--log-level=warn',
          '--quota-backend-bytes=1073741824',
        ],
        logs.etcd,
      ),
    );
    const deadline = Date.now() + startTimeout;
    await waitFor('etcd /health', deadline, procs, async () => {
      const r = await httpGet(`${etcdUrl}/health`);
      return r.status === 200 && /"health":\s*"true"/.test(r.body);
    });

    // ---- credentials
    const pki = path.join(workDir, 'pki');
    fs.mkdirSync(pki, { mode: 0o700 });
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const saPub = path.join(pki, 'sa.pub');
    const saKey = path.join(pki, 'sa.key');
    fs.writeFileSync(saPub, publicKey);
    fs.writeFileSync(saKey, privateKey, { mode: 0o600 });
    const token = randomBytes(24).toString('hex');
    const tokenFile = path.join(pki, 'tokens.csv');
    fs.writeFileSync(tokenFile, `${token},rcg-admin,rcg-admin,"system:masters"\n`, { mode: 0o600 });

    // ---- kube-apiserver
    const server = `https://127.0.0.1:${port}`;
    const gates = { ...DEFAULT_FEATURE_GATES, ...opts.featureGates };
    const gateArg = Object.entries(gates)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const disabled = opts.disableAdmissionPlugins ?? ['ServiceAccount'];
    const args = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${pki}`, // self-signed serving cert (SAN 127.0.0.1) + its CA: pki/apiserver.crt
      '--service-cluster-ip-range=10.96.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      // Services resolve to their endpoints, not the ClusterIP (nothing routes it here): see the header.
      '--enable-aggregator-routing=true',
      '--allow-privileged=true', // like real clusters: privileged pods reach validating webhooks
      '--profiling=false',
      '--v=1',
      ...(disabled.length ? [`--disable-admission-plugins=${disabled.join(',')}`] : []),
      ...(gateArg ? [`--feature-gates=${gateArg}`] : []),
      ...(opts.apiserverArgs ?? []),
    ];
    fs.writeFileSync(logs.apiserver, `[harness] ${apiserverBin} ${args.join(' ')}\n`);
    procs.push(startProcess('kube-apiserver', apiserverBin, args, logs.apiserver));

    const auth = { Authorization: `Bearer ${token}` };
    const apiserverReady = (by: number) =>
      waitFor(`kube-apiserver ${server}/readyz`, by, procs, async () => {
        const r = await httpGet(`${server}/readyz`, auth);
        return r.status === 200 && r.body.trim() === 'ok';
      });
    await apiserverReady(deadline);
    const restartApiServer = async () => {
      const i = procs.findIndex((p) => p.name === 'kube-apiserver');
      await stopProcess(procs[i]!);
      fs.appendFileSync(logs.apiserver, '\n[harness] restarting kube-apiserver\n');
      procs[i] = startProcess('kube-apiserver', apiserverBin, args, logs.apiserver);
      await apiserverReady(Date.now() + startTimeout);
    };
    const signalApiServer = (sig: NodeJS.Signals) =>
      killGroup(
        procs.find((p) => p.name === 'kube-apiserver')!,
        sig,
      );
    const pauseApiServer = () => signalApiServer('SIGSTOP');
    const resumeApiServer = () => signalApiServer('SIGCONT');
    await waitFor('namespace "default"', deadline, procs, async () => {
      const r = await httpGet(`${server}/api/v1/namespaces/default`, auth);
      return r.status === 200;
    });

    // ---- kubeconfig
    const caFile = path.join(pki, 'apiserver.crt');
    const kubeconfig = path.join(workDir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: rcg-e2e',
        '  cluster:',
        `    server: ${server}`,
        `    certificate-authority: ${caFile}`,
        'users:',
        '- name: rcg-admin',
        '  user:',
        `    token: ${token}`,
        'contexts:',
        '- name: rcg-e2e',
        '  context:',
        '    cluster: rcg-e2e',
        '    user: rcg-admin',
        '    namespace: default',
        'current-context: rcg-e2e',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const cacheDir = path.join(workDir, 'kubectl-cache');

    const kubectlRun = (args: string[], ko: KubectlOptions = {}): Promise<KubectlResult> =>
      new Promise((resolve, reject) => {
        const child = spawn(kubectl, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cacheDir}`, ...args], {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, KUBECONFIG: kubeconfig },
        });
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        const timeoutMs = ko.timeoutMs ?? 120_000;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          const res = { code: code ?? -1, stdout, stderr };
          if (timedOut) {
            reject(new Error(`kubectl ${args.join(' ')}: timed out after ${timeoutMs} ms\n${stderr}`));
          } else if (res.code !== 0 && !ko.allowFail) {
            reject(Object.assign(new Error(`kubectl ${args.join(' ')} exited ${res.code}\nstderr: ${stderr}\nstdout: ${stdout}`), res));
          } else resolve(res);
        });
        child.stdin.on('error', () => {
          /* kubectl may exit before reading stdin */
        });
        child.stdin.end(ko.input ?? '');
      });

    const startSecondApiServer = async (): Promise<SecondApiServer> => {
      const [secondPort] = (await freePorts(1)) as [number];
      const secondServer = `https://127.0.0.1:${secondPort}`;
      const secondLog = logs.apiserver.replace(/kube-apiserver\.log$/, 'kube-apiserver-2.log');
      const secondArgs = args.map((a) => (a === `--secure-port=${port}` ? `--secure-port=${secondPort}` : a));
      fs.writeFileSync(secondLog, `[harness] ${apiserverBin} ${secondArgs.join(' ')}\n`);
      const proc = startProcess('kube-apiserver-2', apiserverBin, secondArgs, secondLog);
      procs.push(proc);
      await waitFor(`kube-apiserver ${secondServer}/readyz`, Date.now() + startTimeout, [proc], async () => {
        const r = await httpGet(`${secondServer}/readyz`, auth);
        return r.status === 200 && r.body.trim() === 'ok';
      });
      return {
        server: secondServer,
        kubectlRun: (a, ko) => kubectlRun([`--server=${secondServer}`, ...a], ko),
        stop: async () => {
          await stopProcess(proc);
          procs.splice(procs.indexOf(proc), 1);
        },
      };
    };

    return {
      server,
      kubeconfig,
      kubectl,
      binDir,
      workDir,
      token,
      caFile,
      logs,
      logTail,
      stop,
      restartApiServer,
      pauseApiServer,
      resumeApiServer,
      startSecondApiServer,
      kubectlRun,
    };
  } catch (e) {
    const err = e as Error;
    const msg = `startTestCluster: ${err.message}\n${logTail(40)}`;
    await stop();
    throw Object.assign(new Error(msg), { cause: err });
  }
}
