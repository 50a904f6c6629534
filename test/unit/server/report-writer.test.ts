/**
 * The policy report writer against a stand-in API server (plain HTTP) that
 * keeps reports in memory, serves discovery for the report groups it is
 * told are installed, and refuses requests on demand: for each fault class
 * (CRDs missing or removed, reports edited or deleted by someone else, 403,
 * 409, 429 and 5xx on writes) what is written, retried, counted and logged.
 */
import { kubeConfigFor } from '../../helpers/kubeconfig.js';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../../src/log/logger.js';
import type { AuditedObject } from '../../../src/reports/audited.js';
import { Metrics } from '../../../src/server/metrics.js';
import { ReportWriter, failureReason } from '../../../src/server/report-writer.js';
import type { ReportsSetting } from '../../../src/config/config-file.js';

interface Stored {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  results?: unknown[];
  [k: string]: unknown;
}

/** Reports by path without the group prefix: `reports/<ns>/<name>` or `clusterreports/<name>`. */
class ReportApiServer {
  /** Installed groups: `openreports.io/v1alpha1`, `wgpolicyk8s.io/v1alpha2`. */
  readonly served = new Set<string>(['openreports.io/v1alpha1']);
  readonly store = new Map<string, Stored>();
  readonly requests: { method: string; path: string }[] = [];
  /** Answers for the next write requests (PATCH, DELETE), in order; each used once. */
  readonly faults: number[] = [];
  vwcUid: string | undefined = 'uid-1';
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<KubeConfig> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return kubeConfigFor(port);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  writes(): { method: string; path: string }[] {
    return this.requests.filter((r) => r.method === 'PATCH' || r.method === 'DELETE');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const method = req.method ?? 'GET';
      this.requests.push({ method, path: url.pathname });
      const send = (code: number, value: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const status = (code: number) =>
        send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message: `refused with ${code}` });
      const vwc = /^\/apis\/admissionregistration\.k8s\.io\/v1\/validatingwebhookconfigurations\/(.+)$/.exec(url.pathname);
      if (vwc) return this.vwcUid ? send(200, { metadata: { name: vwc[1], uid: this.vwcUid } }) : status(404);
      const m = /^\/apis\/([^/]+)\/([^/]+)(?:\/namespaces\/([^/]+))?(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(url.pathname);
      if (!m || !this.served.has(`${m[1]}/${m[2]}`)) return status(404);
      const [, group, , namespace, plural, name] = m;
      const kinds = group === 'openreports.io' ? ['reports', 'clusterreports'] : ['policyreports', 'clusterpolicyreports'];
      if (!plural)
        return send(200, { kind: 'APIResourceList', groupVersion: `${m[1]}/${m[2]}`, resources: kinds.map((k) => ({ name: k })) });
      if (!kinds.includes(plural)) return status(404);
      const key = (ns: string | undefined, n: string) => `${group}/${plural}/${ns ?? ''}/${n}`;
      if (method === 'GET' && !name) {
        const prefix = `${group}/${plural}/`;
        return send(200, { items: [...this.store].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v), metadata: {} });
      }
      if (method === 'PATCH' || method === 'DELETE') {
        const fault = this.faults.shift();
        if (fault) return status(fault);
      }
      if (method === 'PATCH' && name) {
        assert.equal(req.headers['content-type'], 'application/apply-patch+yaml');
        assert.equal(url.searchParams.get('fieldManager'), 'remote-cluster-guard');
        assert.equal(url.searchParams.get('force'), 'true');
        const object = JSON.parse(body) as Stored;
        this.store.set(key(namespace, name), object);
        return send(200, object);
      }
      if (method === 'DELETE' && name) {
        if (!this.store.delete(key(namespace, name))) return status(404);
        return send(200, { kind: 'Status', status: 'Success' });
      }
      return status(405);
    });
  }
}

const es = (namespace: string, name: string, failing = false): AuditedObject => ({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  namespace,
  name,
  outcomes: failing
    ? [
        {
          rule: 'es-remote-ref',
          mode: 'enforce',
          result: 'fail',
          findings: [{ field: 'spec.remoteClusters[0].name', message: 'bad alias' }],
        },
      ]
    : [],
});
const ippool = (name: string, failing = false): AuditedObject => ({
  apiVersion: 'crd.projectcalico.org/v1',
  kind: 'IPPool',
  namespace: '',
  name,
  outcomes: failing
    ? [{ rule: 'calico-pool-spec', mode: 'audit', result: 'fail', findings: [{ field: 'spec.cidr', message: 'host bits' }] }]
    : [],
});
const AUDIT = [es('a', 'one', true), es('a', 'two'), es('b', 'three'), ippool('p1', true), ippool('p2')];

let api: ReportApiServer;
let kc: KubeConfig;
let lines: Record<string, unknown>[];
let metrics: Metrics;
let setting: ReportsSetting;

const writer = () =>
  new ReportWriter(kc, {
    log: createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }),
    metrics,
    setting: () => setting,
    webhookConfiguration: 'remote-cluster-guard',
    retryBaseMs: 5,
    retries: 3,
    now: () => 1_700_000_000,
  });
const counter = async (c: Metrics['reportWriteFailures'] | Metrics['reportWrites'], label: string, value: string) =>
  (await c.get()).values.find((v) => (v.labels as Record<string, unknown>)[label] === value)?.value ?? 0;
const logged = (msg: string) => lines.filter((l) => l['msg'] === msg);

before(async () => {
  api = new ReportApiServer();
  kc = await api.start();
});
after(() => api.stop());
beforeEach(() => {
  api.store.clear();
  api.requests.length = 0;
  api.faults.length = 0;
  api.served.clear();
  api.served.add('openreports.io/v1alpha1');
  api.vwcUid = 'uid-1';
  lines = [];
  metrics = new Metrics();
  setting = 'auto';
});

describe('report writer', () => {
  it('writes one report per namespace and one cluster report, owned by the webhook configuration; a second run writes nothing', async () => {
    const w = writer();
    const first = await w.write(AUDIT);
    assert.deepEqual(first, { api: 'openreports', created: 3, updated: 0, deleted: 0, unchanged: 0, failed: 0 });
    assert.deepEqual([...api.store.keys()].sort(), [
      'openreports.io/clusterreports//remote-cluster-guard',
      'openreports.io/reports/a/remote-cluster-guard',
      'openreports.io/reports/b/remote-cluster-guard',
    ]);
    const a = api.store.get('openreports.io/reports/a/remote-cluster-guard') as unknown as {
      summary: unknown;
      metadata: { ownerReferences: { uid: string; kind: string }[] };
    };
    assert.deepEqual(a.summary, { pass: 1, fail: 1, warn: 0, error: 0, skip: 0 });
    assert.deepEqual(
      a.metadata.ownerReferences.map((o) => [o.kind, o.uid]),
      [['ValidatingWebhookConfiguration', 'uid-1']],
    );
    assert.equal(await counter(metrics.reportWrites, 'verb', 'create'), 3);

    api.requests.length = 0;
    const second = await w.write(AUDIT);
    assert.deepEqual(second, { api: 'openreports', created: 0, updated: 0, deleted: 0, unchanged: 3, failed: 0 });
    assert.deepEqual(api.writes(), []);
  });

  it('a changed result rewrites its report only; a namespace left without objects loses its report', async () => {
    const w = writer();
    await w.write(AUDIT);
    api.requests.length = 0;
    const run = await w.write([es('a', 'one'), es('a', 'two'), ippool('p1', true), ippool('p2')]);
    assert.deepEqual(run, { api: 'openreports', created: 0, updated: 1, deleted: 1, unchanged: 1, failed: 0 });
    assert.deepEqual(
      api
        .writes()
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
      [
        'DELETE /apis/openreports.io/v1alpha1/namespaces/b/reports/remote-cluster-guard',
        'PATCH /apis/openreports.io/v1alpha1/namespaces/a/reports/remote-cluster-guard',
      ],
    );
  });

  it('CRDs missing: nothing written, one warning; installed at run time: written at the next run; removed again: nothing, no failure', async () => {
    api.served.clear();
    const w = writer();
    assert.deepEqual(await w.write(AUDIT), { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 });
    await w.write(AUDIT);
    assert.equal(
      logged('no policy report API served (openreports.io or wgpolicyk8s.io CRDs): reports are not written').length,
      1,
      'logged once, not per run',
    );
    assert.deepEqual(api.writes(), []);

    api.served.add('wgpolicyk8s.io/v1alpha2');
    const run = await w.write(AUDIT);
    assert.equal(run.api, 'wgpolicyk8s');
    assert.equal(run.created, 3);
    assert.ok(api.store.has('wgpolicyk8s.io/clusterpolicyreports//remote-cluster-guard'));

    api.served.clear();
    api.store.clear();
    const gone = await w.write(AUDIT);
    assert.equal(gone.failed, 0);
    assert.equal(await counter(metrics.reportWriteFailures, 'reason', 'not_found'), 0, 'an unserved group is not a failure');
  });

  it('--reports wgpolicyk8s when only OpenReports is served: nothing written', async () => {
    setting = 'wgpolicyk8s';
    const run = await writer().write(AUDIT);
    assert.equal(run.api, undefined);
    assert.deepEqual(api.writes(), []);
  });

  it('off: no request at all', async () => {
    setting = 'off';
    await writer().write(AUDIT);
    assert.deepEqual(api.requests, []);
  });

  it('a report deleted by someone else is written again, one edited is applied over the edit', async () => {
    const w = writer();
    await w.write(AUDIT);
    api.store.delete('openreports.io/reports/b/remote-cluster-guard');
    const edited = api.store.get('openreports.io/clusterreports//remote-cluster-guard')!;
    edited.results = [];
    const run = await w.write(AUDIT);
    assert.deepEqual(run, { api: 'openreports', created: 1, updated: 1, deleted: 0, unchanged: 1, failed: 0 });
    assert.equal(api.store.get('openreports.io/clusterreports//remote-cluster-guard')!.results?.length, 2);
  });

  for (const [code, reason] of [
    [409, 'conflict'],
    [429, 'throttled'],
    [503, 'server_error'],
  ] as const) {
    it(`${code} on writes: retried with backoff within the run, written, each refusal counted (${reason}), one log line`, async () => {
      api.faults.push(code, code, code, code);
      const run = await writer().write(AUDIT);
      assert.equal(run.created, 3);
      assert.equal(run.failed, 0);
      assert.equal(api.store.size, 3);
      assert.equal(await counter(metrics.reportWriteFailures, 'reason', reason), 4);
      const warned = logged('policy report requests failed');
      assert.equal(warned.length, 1, JSON.stringify(warned));
      assert.equal(warned[0]!['reason'], reason);
      assert.equal(warned[0]!['failures'], 4);
      assert.match(String(warned[0]!['example']), new RegExp(`: ${code}: refused with ${code}$`));
    });
  }

  it('403 on writes: not retried, every report counted as failed, one log line for the cause, not one per report', async () => {
    api.faults.push(403, 403, 403);
    const run = await writer().write(AUDIT);
    assert.deepEqual(run, { api: 'openreports', created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 3 });
    assert.equal(api.writes().length, 3, 'one attempt per report');
    assert.equal(await counter(metrics.reportWriteFailures, 'reason', 'forbidden'), 3);
    assert.equal(logged('policy report requests failed').length, 1);
  });

  it('a 503 that lasts past the retries: the report fails this run and is written at the next', async () => {
    api.faults.push(503, 503, 503, 503, 503, 503, 503, 503);
    const w = writer();
    const run = await w.write([ippool('p1', true)]);
    assert.equal(run.failed, 1);
    assert.equal(api.writes().length, 4, 'the first attempt and 3 retries');
    api.faults.length = 0;
    assert.equal((await w.write([ippool('p1', true)])).created, 1);
  });

  it('no webhook configuration: reports without an owner, logged once', async () => {
    api.vwcUid = undefined;
    const w = writer();
    await w.write(AUDIT);
    await w.write(AUDIT);
    const r = api.store.get('openreports.io/reports/a/remote-cluster-guard') as unknown as { metadata: { ownerReferences?: unknown } };
    assert.equal(r.metadata.ownerReferences, undefined);
    assert.equal(logged('policy reports have no owner: the webhook configuration cannot be read').length, 1);
  });

  it('failure reasons from status codes and network errors', () => {
    assert.equal(failureReason({ code: 403 }), 'forbidden');
    assert.equal(failureReason({ code: 422 }), 'invalid');
    assert.equal(failureReason({ code: 504 }), 'server_error');
    assert.equal(failureReason(new Error('connect ECONNREFUSED')), 'unreachable');
  });
});
