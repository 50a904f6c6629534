/**
 * `npm run soak`: the real `serve` (compiled, live state from a real
 * kube-apiserver) under 500 requests/s of mixed bodies for 10 minutes, open
 * loop, with a serving-certificate change on disk and a state change in the
 * middle. Reports failed requests (anything but a 200 AdmissionReview
 * allowing the request it answers: errors, timeouts, other statuses) and the
 * webhook's RSS every 10 s. Not part of `make test` nor of `npm run bench`.
 *
 * At half time: new certificate files from the same CA are written (key then
 * certificate, each renamed into place) and 100 Elasticsearch + 100 IPPools
 * are created in the API server; at three quarters they are deleted. The
 * certificate change is confirmed by a fresh TLS handshake presenting the new
 * certificate, the state change by the webhook's `state_objects` metric.
 *
 *   npx tsx bench/soak.ts [--minutes 10] [--rate 500]
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE, issueServingCertificate } from '../src/certs/generate.js';
import { benchBodies } from './lib/bodies.js';
import { buildForBench } from './lib/build.js';
import { writeBenchCerts } from './lib/certs.js';
import { generateElasticsearches, generateIPPools } from './lib/generate.js';
import { createAll, deleteAll, startBenchCluster } from './lib/kube.js';
import { openLoop } from './lib/load.js';
import { startRun, type RunInfo } from './lib/machine.js';
import { httpsGet, ROOT, startServe } from './lib/procs.js';
import { summarize, type LatencySummary } from './lib/stats.js';
import { renderResults } from './report.js';
import { metricValue } from '../test/e2e/support/webhook.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '500' },
  },
});
const MINUTES = Number(args.minutes);
const RATE = Number(args.rate);
const CHANGE = 100;

export interface SoakResults extends RunInfo {
  kind: 'soak';
  command: string;
  method: string;
  minutes: number;
  rate: number;
  bodies: number;
  scheduled: number;
  completed: number;
  failures: number;
  failureSamples: string[];
  summary: LatencySummary;
  /** p50/p99/max per 10 s window of the measured phase (by due time). */
  windows: { fromSecond: number; count: number; p50: number; p99: number; max: number }[];
  certRotation: string;
  stateChange: string;
  rss: { second: number; rssMiB: number }[];
  rssStartMiB: number;
  rssMiddleMiB: number;
  rssEndMiB: number;
}

const log = (msg: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** SHA-256 fingerprint of the certificate a fresh TLS handshake presents. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/healthz', ca, agent: false, timeout: 2000 }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate();
      res.resume();
      resolve(cert.fingerprint256);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function stateObjects(metrics: string, resource: string): number {
  return metricValue(metrics, `remote_cluster_guard_state_objects{resource="${resource}"}`) ?? Number.NaN;
}

async function main(): Promise<void> {
  const run = startRun();
  buildForBench();
  log('starting etcd + kube-apiserver');
  const { cluster, api } = await startBenchCluster(Array.from({ length: 100 }, (_, i) => `team-${i}`));
  const dir = mkdtempSync(join(os.tmpdir(), 'rcg-soak-'));
  try {
    const certs = writeBenchCerts(join(dir, 'certs'));
    // Made before the load starts: RSA key generation would stall the generator's schedule.
    const next = issueServingCertificate(certs.authority, { service: DEFAULT_SERVICE, namespace: DEFAULT_NAMESPACE, validityDays: 2 });
    const nextFingerprint = new X509Certificate(next.cert).fingerprint256;
    const hook = await startServe({ name: 'webhook-soak', tls: certs, logDir: dir, kubeconfig: cluster.kubeconfig });
    log(`webhook ready on port ${hook.port} (pid ${hook.pid}); ${MINUTES} min at ${RATE} req/s`);
    const { es } = generateElasticsearches(CHANGE);
    const { pools } = generateIPPools(CHANGE);
    // Distinct names from anything the base state holds; none overlaps or references the bodies.
    type Obj = Parameters<typeof createAll>[1][number];
    const change = [...es, ...pools] as Obj[];

    const bodies = benchBodies();
    const targets = bodies.flatMap((b) =>
      ['/validate', '/mutate'].map((path) => ({ target: { port: hook.port, path, ca: certs.ca }, text: b.text })),
    );
    const total = MINUTES * 60;
    const half = Math.floor(total / 2);
    const threeQuarters = Math.floor((total * 3) / 4);
    const rss: SoakResults['rss'] = [];
    let certRotation = 'not done';
    let stateChange = 'not done';
    const background: Promise<void>[] = [];
    const metrics = async () => (await httpsGet(hook.port, '/metrics', certs.ca)).body;
    const esBefore = stateObjects(await metrics(), 'Elasticsearch');

    const onSecond = (second: number) => {
      if (second === 1 || second % 10 === 0) rss.push({ second, rssMiB: hook.rssMiB() });
      if (second === half) {
        background.push(
          (async () => {
            const at = Date.now();
            writeFileSync(certs.keyFile + '.new', next.key, { mode: 0o600 });
            writeFileSync(certs.certFile + '.new', next.cert);
            renameSync(certs.keyFile + '.new', certs.keyFile);
            renameSync(certs.certFile + '.new', certs.certFile);
            log('serving certificate replaced on disk');
            for (;;) {
              const fp = await servedFingerprint(hook.port, certs.ca).catch(() => '');
              if (fp === nextFingerprint) {
                certRotation = `new certificate (same CA) written at ${half} s; a fresh handshake presented it ${((Date.now() - at) / 1000).toFixed(1)} s later (the webhook polls the files every 5 s); established keep-alive connections went on`;
                log(certRotation);
                return;
              }
              if (Date.now() - at > 30_000) {
                certRotation = 'new certificate NOT served 30 s after the change';
                log(certRotation);
                return;
              }
              await new Promise((r) => setTimeout(r, 250));
            }
          })(),
        );
        background.push(
          (async () => {
            const at = Date.now();
            await createAll(api, change, 8);
            const created = Date.now() - at;
            let seen = Number.NaN;
            for (let i = 0; i < 100; i++) {
              seen = stateObjects(await metrics(), 'Elasticsearch');
              if (seen === esBefore + es.length) break;
              await new Promise((r) => setTimeout(r, 200));
            }
            stateChange = `${es.length} Elasticsearch + ${pools.length} IPPools created at ${half} s (${(created / 1000).toFixed(1)} s), the webhook's state went from ${esBefore} to ${seen} Elasticsearch`;
            log(stateChange);
          })(),
        );
      }
      if (second === threeQuarters) {
        background.push(
          (async () => {
            await Promise.all(background.slice(0, 2));
            const at = Date.now();
            await deleteAll(api, change, 8);
            let seen = Number.NaN;
            for (let i = 0; i < 100; i++) {
              seen = stateObjects(await metrics(), 'Elasticsearch');
              if (seen === esBefore) break;
              await new Promise((r) => setTimeout(r, 200));
            }
            stateChange += `; deleted at ${threeQuarters} s (${((Date.now() - at) / 1000).toFixed(1)} s), back to ${seen}`;
            log(`deleted the ${change.length} objects; state back to ${seen} Elasticsearch`);
          })(),
        );
      }
    };

    const r = await openLoop({ rate: RATE, durationMs: total * 1000, warmupMs: 5000, bodies: targets, onSecond, timeoutMs: 10_000 });
    await Promise.all(background);
    rss.push({ second: total, rssMiB: hook.rssMiB() });
    await hook.stop();
    const summary = summarize(r.latencies);
    const byWindow = new Map<number, number[]>();
    r.latencies.forEach((l, i) => {
      const w = Math.floor(r.dueMs[i]! / 10_000) * 10;
      if (!byWindow.has(w)) byWindow.set(w, []);
      byWindow.get(w)!.push(l);
    });
    const windows = [...byWindow.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([fromSecond, ls]) => {
        const s = summarize(ls);
        return { fromSecond, count: s.count, p50: s.p50, p99: s.p99, max: s.max };
      });
    const middle = rss.reduce((best, s) => (Math.abs(s.second - half) < Math.abs(best.second - half) ? s : best), rss[0]!);
    const out: SoakResults = {
      kind: 'soak',
      ...run.finish(),
      command: `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      method:
        `The compiled \`serve --kubeconfig\` (live state) against a real etcd + kube-apiserver (test/e2e/harness/cluster.ts) holding the bench's base state; ` +
        `open-loop load (bench/lib/load.ts) of ${RATE} req/s cycling through ${targets.length} combinations (Elasticsearch and IPPool bodies × /validate and /mutate) ` +
        `on keep-alive connections, 5 s warm-up; a request fails unless it gets a 200 AdmissionReview with its uid and allowed: true within 10 s. ` +
        `RSS of the webhook process from /proc at second 1 and every 10 s of the measured phase (after the warm-up).`,
      minutes: MINUTES,
      rate: RATE,
      bodies: targets.length,
      scheduled: r.scheduled,
      completed: r.completed,
      failures: r.failures,
      failureSamples: r.failureSamples,
      summary,
      windows,
      certRotation,
      stateChange,
      rss,
      rssStartMiB: rss[0]!.rssMiB,
      rssMiddleMiB: middle.rssMiB,
      rssEndMiB: rss[rss.length - 1]!.rssMiB,
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, `bench/results/soak-${MINUTES}min.json`), JSON.stringify(out, null, 2) + '\n');
    renderResults();
    log(
      `${r.failures} failed of ${r.scheduled}; p99 ${summary.p99.toFixed(2)} ms; RSS ${out.rssStartMiB.toFixed(0)} → ${out.rssMiddleMiB.toFixed(0)} → ${out.rssEndMiB.toFixed(0)} MiB`,
    );
    if (r.failures > 0) process.exitCode = 1;
  } finally {
    api.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
