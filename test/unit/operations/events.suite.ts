/**
 * `serve --emit-events` wired through runServe: denials reach the Event
 * recorder after their answer, which never waits for the Event write; the
 * periodic audit hands its violations over (`onViolation`); without the flag
 * nothing is written and no Event metric is exported. The Kubernetes sink's
 * wire format (MicroTime, merge patch, the HTTP status of a failure) against
 * a local HTTP stand-in; test/e2e/events.test.ts uses a real kube-apiserver.
 */
import { kubeConfigFor } from '../../helpers/kubeconfig.js';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startPeriodicAudit } from '../../../src/cli/audit.js';
import { ConfigError, parseConfig } from '../../../src/config/config-file.js';
import type { RunningServer } from '../../../src/cli/serve.js';
import type { ObjectResult } from '../../../src/cli/validate.js';
import { Engine } from '../../../src/engine/engine.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import type { KubeEvent } from '../../../src/server/events/kube-event.js';
import { KubeEventSink } from '../../../src/server/events/kube-sink.js';
import type { EventSink } from '../../../src/server/events/recorder.js';
import { Metrics } from '../../../src/server/metrics.js';
import { addToState, loadManifests } from '../../../src/state/manifests.js';
import { runCli } from '../../helpers/cli.js';
import { admit, metricsText, serve } from './server.js';
import { cluster, LICENSE, sample, SELF_REF, tempDir, waitFor } from './support.js';

/** Records what it is asked to write; while `gate` is set, every call waits for it. */
class RecordingSink implements EventSink {
  readonly created: KubeEvent[] = [];
  readonly patched: { namespace: string; name: string; count: number }[] = [];
  gate: Promise<void> | undefined;
  async create(e: KubeEvent): Promise<void> {
    await this.gate;
    this.created.push(e);
  }
  async patchSeries(namespace: string, name: string, series: { count: number }): Promise<void> {
    await this.gate;
    this.patched.push({ namespace, name, count: series.count });
  }
}

const dir = tempDir('events');
/** An existing Elasticsearch that references itself: es-remote-ref denies it. */
const BAD = join(dir, 'self-ref.yaml');
writeFileSync(
  BAD,
  stringify({
    ...cluster([{ name: 'me', elasticsearchRef: { name: 'cluster-three' } }], 1, 'cluster-three', 'ns-three'),
    metadata: { name: 'cluster-three', namespace: 'ns-three', uid: 'uid-of-cluster-three' },
  }),
);

describe('serve --emit-events', () => {
  const servers: RunningServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('admission: a denial becomes an Event after its answer; an allowed request none; counted in events_total', async () => {
    const sink = new RecordingSink();
    const server = await serve({ emitEvents: ['admission'], eventSink: sink, eventsNamespace: 'rcg-system' });
    servers.push(server);
    const allowed = await admit(server.port, cluster());
    assert.equal(allowed.allowed, true);
    const denied = await admit(server.port, cluster([SELF_REF]));
    assert.equal(denied.allowed, false);
    await waitFor('the Event', () => sink.created.length === 1);
    const e = sink.created[0]!;
    assert.equal(e.namespace, 'rcg-system', 'a denied CREATE: the webhook namespace');
    assert.equal(e.reason, 'remote-cluster-guard/es-remote-ref');
    assert.deepEqual(e.regarding, {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-one',
      name: 'cluster-one',
    });
    await waitFor(
      'events_total{result="created"} 1',
      async () => sample(await metricsText(server.port), 'remote_cluster_guard_events_total', { result: 'created' }) === 1,
    );
    const text = await metricsText(server.port);
    assert.equal(sample(text, 'remote_cluster_guard_events_total', { result: 'failed' }), 0, 'every result exported from 0');
    assert.equal(sample(text, 'remote_cluster_guard_event_write_failures_total', { cause: 'forbidden' }), 0);
  });

  it('the answer never waits for the Event write: with the API server not answering, denials are answered', async () => {
    const sink = new RecordingSink();
    sink.gate = new Promise(() => {});
    // Its shutdown waits the drain timeout for the hung write.
    const server = await serve({ emitEvents: ['admission'], eventSink: sink, drainTimeout: 1 });
    servers.push(server);
    for (let i = 0; i < 5; i++) {
      const r = await admit(server.port, cluster([{ name: 'me', elasticsearchRef: { name: `c${i}` } }], 1, `c${i}`));
      assert.equal(r.allowed, false);
    }
    assert.equal(sink.created.length, 0, 'no write has finished');
  });

  it('without --emit-events: no Event for a denial or a violation, no Event metric sample', async () => {
    const sink = new RecordingSink();
    const server = await serve({ eventSink: sink, auditInterval: 0.05, state: [LICENSE, BAD] });
    servers.push(server);
    assert.equal((await admit(server.port, cluster([SELF_REF]))).allowed, false);
    await waitFor(
      'an audit run',
      async () => (sample(await metricsText(server.port), 'remote_cluster_guard_audit_last_run_timestamp_seconds') ?? 0) > 0,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(sink.created, []);
    const text = await metricsText(server.port);
    for (const result of ['created', 'failed', 'queue_full'])
      assert.equal(sample(text, 'remote_cluster_guard_events_total', { result }), undefined, `events_total{result="${result}"}`);
  });

  it('audit: a violation of the periodic audit becomes an Event regarding the existing object, in its namespace', async () => {
    const sink = new RecordingSink();
    const server = await serve({ emitEvents: ['audit'], eventSink: sink, auditInterval: 0.05, state: [LICENSE, BAD] });
    servers.push(server);
    await waitFor('the audit Event', () => sink.created.length >= 1, 10_000);
    const e = sink.created[0]!;
    assert.equal(e.action, 'Audit');
    assert.equal(e.namespace, 'ns-three');
    assert.deepEqual(e.regarding, {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-three',
      name: 'cluster-three',
      uid: 'uid-of-cluster-three',
    });
    // Only audit: a denial at admission makes no Event.
    assert.equal((await admit(server.port, cluster([SELF_REF]))).allowed, false);
    await waitFor('the next audit run to repeat the violation', () => sink.patched.length >= 1, 10_000);
    assert.ok(
      sink.created.every((c) => c.action === 'Audit'),
      JSON.stringify(sink.created),
    );
    assert.equal(sink.patched[0]!.name, e.name, 'the repeat counts in the series of the same Event');
  });

  it('startPeriodicAudit hands onViolation the objects with a deny finding only', async () => {
    const { state } = addToState(loadManifests([LICENSE, BAD]));
    state.apply(cluster([], 1, 'fine', 'ns-three'));
    const seen: ObjectResult[] = [];
    const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' });
    const stop = startPeriodicAudit({
      engine,
      state,
      metrics: new Metrics(),
      log: createLogger('silent'),
      intervalSeconds: 0.02,
      onViolation: (r) => seen.push(r),
    });
    try {
      await waitFor('a violation', () => seen.length >= 1);
    } finally {
      stop();
    }
    assert.deepEqual([...new Set(seen.map((r) => `${r.namespace}/${r.name} ${r.uid}`))], ['ns-three/cluster-three uid-of-cluster-three']);
  });
});

describe('turning Events on', () => {
  const RULE_IDS = ALL_RULES.map((r) => r.id);
  const servers: RunningServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('the configuration file key emitEvents: [admission, audit], each once; anything else refused naming the key', () => {
    assert.deepEqual(parseConfig('emitEvents: [admission, audit, admission]\n', 'c.yaml', RULE_IDS).emitEvents, ['admission', 'audit']);
    assert.equal(parseConfig('rules: {}\n', 'c.yaml', RULE_IDS).emitEvents, undefined);
    assert.throws(
      () => parseConfig('emitEvents: [denials]\n', 'c.yaml', RULE_IDS),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^c\.yaml: emitEvents\[0\]: /);
        return true;
      },
    );
  });

  it('the configuration file turns them on without the flag', async () => {
    const config = join(dir, 'events-config.yaml');
    writeFileSync(config, 'emitEvents: [admission]\n');
    const sink = new RecordingSink();
    const server = await serve({ config, eventSink: sink });
    servers.push(server);
    assert.equal((await admit(server.port, cluster([SELF_REF]))).allowed, false);
    await waitFor('the Event', () => sink.created.length === 1);
  });

  it('Events of the audit without a periodic audit: refused at start', async () => {
    await assert.rejects(serve({ emitEvents: ['audit'], eventSink: new RecordingSink() }), /need --audit-interval/);
  });

  it('--emit-events takes admission, audit or both, comma-separated; anything else exits 2 naming the flag', async () => {
    const r = await runCli(['serve', '--emit-events', 'admission,denials']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--emit-events.*must be admission, audit or both, comma-separated/);
  });
});

describe('the Kubernetes Event sink', () => {
  interface Seen {
    method: string;
    url: string;
    contentType: string;
    body: Record<string, unknown>;
  }
  const seen: Seen[] = [];
  let answer = 201;
  const stub = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, contentType: String(req.headers['content-type']), body: JSON.parse(body || '{}') });
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end(
        answer < 300 ? body : JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: answer, reason: 'Forbidden' }),
      );
    });
  });
  after(() => stub.close());

  const sinkOf = (port: number) => new KubeEventSink(kubeConfigFor(port));

  it('creates an events.k8s.io/v1 Event with MicroTime times, patches series as a merge patch, and rejects with the HTTP status', async () => {
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const sink = sinkOf((stub.address() as { port: number }).port);
    const t = Date.parse('2026-06-01T10:20:30.456Z');
    await sink.create({
      namespace: 'ns-one',
      name: 'cluster-one.abc',
      regarding: { apiVersion: 'elasticsearch.k8s.elastic.co/v1', kind: 'Elasticsearch', namespace: 'ns-one', name: 'cluster-one' },
      reason: 'remote-cluster-guard/es-remote-ref',
      action: 'Admit',
      note: 'n',
      type: 'Warning',
      reportingController: 'remote-cluster-guard.io/webhook',
      reportingInstance: 'pod-1',
      eventTime: t,
    });
    await sink.patchSeries('ns-one', 'cluster-one.abc', { count: 2, lastObservedTime: t + 1000 });
    const [created, patched] = seen;
    assert.equal(created?.method, 'POST');
    assert.equal(created?.url, '/apis/events.k8s.io/v1/namespaces/ns-one/events');
    assert.equal(created?.body['eventTime'], '2026-06-01T10:20:30.456000Z');
    assert.equal(created?.body['apiVersion'], 'events.k8s.io/v1');
    assert.equal(created?.body['reportingController'], 'remote-cluster-guard.io/webhook');
    assert.equal(created?.body['series'], undefined);
    assert.equal(patched?.method, 'PATCH');
    assert.equal(patched?.url, '/apis/events.k8s.io/v1/namespaces/ns-one/events/cluster-one.abc');
    assert.equal(patched?.contentType, 'application/merge-patch+json');
    assert.deepEqual(patched?.body, { series: { count: 2, lastObservedTime: '2026-06-01T10:20:31.456000Z' } });

    answer = 403;
    await assert.rejects(sink.patchSeries('ns-one', 'x', { count: 2, lastObservedTime: t }), (err: { code?: number }) => err.code === 403);
  });
});
