/**
 * The Event recorder of `serve --emit-events` (src/server/events/): what an
 * Event of a denial or an audit violation holds and where it goes, the
 * series of repeats, the per-object rate limit, the bounded queues, failures
 * that are counted and never thrown, and no secret value in any Event.
 * The sink here is an in-memory stand-in; test/e2e/events.test.ts writes to a
 * real kube-apiserver.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AdmissionRequest } from '../../../src/admission/types.js';
import type { Decision } from '../../../src/engine/decision.js';
import { deny, warn, type Finding } from '../../../src/engine/finding.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import {
  NOTE_MAX_BYTES,
  REASON_MAX_BYTES,
  eventName,
  eventNote,
  eventReason,
  type KubeEvent,
} from '../../../src/server/events/kube-event.js';
import {
  EventRecorder,
  MAX_ATTEMPTS,
  type EventRecorderOptions,
  type EventResult,
  type EventSink,
  type WriteFailureCause,
} from '../../../src/server/events/recorder.js';
import { evaluate } from '../../helpers/engine.js';
import { logSink } from '../operations/support.js';
import { RCC_SECRET_FIELDS } from '../../../src/kube/calico.js';

const ES = { group: 'elasticsearch.k8s.elastic.co', version: 'v1', kind: 'Elasticsearch' };
const POOL = { group: 'projectcalico.org', version: 'v3', kind: 'IPPool' };
const UID = '6a1f0c2e-0000-4000-8000-000000000001';

/** An Error with the HTTP status as `code`, as client-node's ApiException has it. */
const status = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

/** An in-memory Event store with the API server's answers for a missing or duplicate Event; `failures` are thrown first, one per call. */
class MemorySink implements EventSink {
  readonly events = new Map<string, KubeEvent>();
  readonly calls: string[] = [];
  failures: unknown[] = [];
  /** While set, every call waits for it. */
  gate: Promise<void> | undefined;

  async create(e: KubeEvent): Promise<void> {
    this.calls.push(`create ${e.namespace}/${e.name}${e.series ? ` series ${e.series.count}` : ''}`);
    await this.gate;
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (this.events.has(`${e.namespace}/${e.name}`)) throw status(409);
    this.events.set(`${e.namespace}/${e.name}`, structuredClone(e));
  }

  async patchSeries(namespace: string, name: string, series: { count: number; lastObservedTime: number }): Promise<void> {
    this.calls.push(`patch ${namespace}/${name} series ${series.count}`);
    await this.gate;
    const failure = this.failures.shift();
    if (failure) throw failure;
    const e = this.events.get(`${namespace}/${name}`);
    if (!e) throw status(404);
    e.series = { ...series };
  }

  list(): KubeEvent[] {
    return [...this.events.values()];
  }
}

interface Harness {
  recorder: EventRecorder;
  sink: MemorySink;
  results: EventResult[];
  causes: WriteFailureCause[];
  clock: { t: number };
  logs: () => Record<string, unknown>[];
}

function harness(o: Partial<EventRecorderOptions> = {}): Harness {
  const sink = new MemorySink();
  const results: EventResult[] = [];
  const causes: WriteFailureCause[] = [];
  const clock = { t: Date.parse('2026-06-01T00:00:00Z') };
  const log = logSink();
  const recorder = new EventRecorder({
    sink,
    log: createLogger('info', log.stream),
    webhookNamespace: 'rcg-system',
    reportingInstance: 'remote-cluster-guard-7d9f-abcde',
    counted: (r) => results.push(r),
    failed: (c) => causes.push(c),
    now: () => clock.t,
    backoff: { next: () => 0, reset: () => {} },
    ...o,
  });
  return { recorder, sink, results, causes, clock, logs: log.lines };
}

function decisionOf(findings: Finding[], namespace = 'ns-one', name = 'cluster-one'): Decision {
  return {
    handled: true,
    kind: 'Elasticsearch',
    namespace,
    name,
    allowed: !findings.some((f) => f.action === 'deny'),
    findings,
    patch: [],
    mutations: [],
    audited: [],
  };
}

function requestOf(operation: 'CREATE' | 'UPDATE', o: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const object = {
    apiVersion: 'elasticsearch.k8s.elastic.co/v1',
    kind: 'Elasticsearch',
    metadata: { name: 'cluster-one', namespace: 'ns-one' },
  };
  return {
    uid: 'req-1',
    kind: ES,
    operation,
    namespace: 'ns-one',
    name: 'cluster-one',
    object: operation === 'UPDATE' ? { ...object, metadata: { ...object.metadata, uid: UID } } : object,
    ...(operation === 'UPDATE' ? { oldObject: { ...object, metadata: { ...object.metadata, uid: UID } } } : {}),
    ...o,
  };
}

const SELF = deny('es-remote-ref', 'spec.remoteClusters[0].elasticsearchRef', 'references this cluster itself; name another cluster');

describe('the Event of a denial', () => {
  it('of an UPDATE: in the object namespace, regarding it with its uid, reason remote-cluster-guard/<rule>, action Admit, the finding as note', async () => {
    const h = harness();
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF, warn('es-remote-ref', 'spec', 'a warning is no denial')]));
    await h.recorder.whenIdle();
    const [e, ...more] = h.sink.list();
    assert.equal(more.length, 0, 'one Event');
    assert.ok(e);
    assert.equal(e.namespace, 'ns-one');
    assert.deepEqual(e.regarding, {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-one',
      name: 'cluster-one',
      uid: UID,
    });
    assert.equal(e.reason, 'remote-cluster-guard/es-remote-ref');
    assert.equal(e.action, 'Admit');
    assert.equal(e.type, 'Warning');
    assert.equal(e.reportingController, 'remote-cluster-guard.io/webhook');
    assert.equal(e.reportingInstance, 'remote-cluster-guard-7d9f-abcde');
    assert.equal(e.note, 'spec.remoteClusters[0].elasticsearchRef: references this cluster itself; name another cluster');
    assert.equal(e.eventTime, h.clock.t);
    assert.equal(e.series, undefined);
    assert.match(e.name, /^cluster-one\.[0-9a-f]+$/);
    assert.deepEqual(h.results, ['created']);
  });

  it('of a CREATE (no object yet): in the webhook namespace, regarding the object by name, without uid', async () => {
    const h = harness();
    h.recorder.admission(requestOf('CREATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    const [e] = h.sink.list();
    assert.equal(e?.namespace, 'rcg-system');
    assert.deepEqual(e?.regarding, {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-one',
      name: 'cluster-one',
    });
  });

  it('of a cluster-scoped object: in default, the only namespace besides kube-system the API server accepts for it', async () => {
    const h = harness();
    const request = requestOf('CREATE', { kind: POOL, namespace: '', name: 'p' });
    h.recorder.admission(request, decisionOf([deny('calico-pool-spec', 'spec.cidr', 'host bits set')], '', 'p'));
    await h.recorder.whenIdle();
    const [e] = h.sink.list();
    assert.equal(e?.namespace, 'default');
    assert.deepEqual(e?.regarding, { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', namespace: '', name: 'p' });
  });

  it('one Event per rule, the rule findings joined in its note', async () => {
    const h = harness();
    const second = deny('es-remote-ref', 'spec.remoteClusters[1].name', 'is empty');
    const licence = deny('es-enterprise-license', 'spec.remoteClusters', 'needs an Enterprise licence');
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF, licence, second]));
    await h.recorder.whenIdle();
    const byReason = new Map(h.sink.list().map((e) => [e.reason, e.note]));
    assert.equal(byReason.size, 2);
    assert.equal(
      byReason.get('remote-cluster-guard/es-remote-ref'),
      'spec.remoteClusters[0].elasticsearchRef: references this cluster itself; name another cluster; spec.remoteClusters[1].name: is empty',
    );
    assert.equal(byReason.get('remote-cluster-guard/es-enterprise-license'), 'spec.remoteClusters: needs an Enterprise licence');
  });

  it('none for a dry run (the webhook declares sideEffects: None), nor for a decision without deny findings', async () => {
    const h = harness();
    h.recorder.admission(requestOf('UPDATE', { dryRun: true }), decisionOf([SELF]));
    h.recorder.admission(requestOf('UPDATE'), decisionOf([warn('es-remote-ref', 'spec', 'only a warning')]));
    await h.recorder.whenIdle();
    assert.deepEqual(h.sink.calls, []);
    assert.deepEqual(h.results, []);
  });
});

describe('the Event of an audit violation', () => {
  it('regards the existing object (uid included) in its namespace, action Audit; warnings make none', async () => {
    const h = harness();
    h.recorder.audit({
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-one',
      name: 'cluster-one',
      uid: UID,
      decision: decisionOf([SELF, warn('es-remote-ref', 'spec', 'w')]),
    });
    h.recorder.audit({
      apiVersion: 'v',
      kind: 'Elasticsearch',
      namespace: 'ns-one',
      name: 'ok',
      decision: decisionOf([warn('r', 'f', 'm')]),
    });
    await h.recorder.whenIdle();
    const [e, ...more] = h.sink.list();
    assert.equal(more.length, 0);
    assert.equal(e?.namespace, 'ns-one');
    assert.equal(e?.regarding.uid, UID);
    assert.equal(e?.action, 'Audit');
    assert.equal(e?.reason, 'remote-cluster-guard/es-remote-ref');
  });

  it('is a series of its own, apart from the admission Event of the same object and rule', async () => {
    const h = harness();
    const audited = {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      namespace: 'ns-one',
      name: 'cluster-one',
      decision: decisionOf([SELF]),
    };
    h.recorder.audit(audited);
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    assert.deepEqual(
      h.sink
        .list()
        .map((e) => e.action)
        .sort(),
      ['Admit', 'Audit'],
    );
  });
});

describe('aggregation into a series', () => {
  it('a repeat within 10 minutes counts in series.count and series.lastObservedTime of the same Event; later, a new Event', async () => {
    const h = harness();
    const t0 = h.clock.t;
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    h.clock.t = t0 + 60_000;
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    h.clock.t = t0 + 9 * 60_000;
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    const [e, ...more] = h.sink.list();
    assert.equal(more.length, 0, 'repeats do not make another Event');
    assert.deepEqual(e?.series, { count: 3, lastObservedTime: t0 + 9 * 60_000 });
    assert.equal(e?.eventTime, t0, 'eventTime stays that of the first');
    assert.deepEqual(h.results, ['created', 'series_updated', 'series_updated']);

    // More than 10 minutes after the last observation: the series has ended.
    h.clock.t = t0 + 9 * 60_000 + 10 * 60_000 + 1;
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    assert.equal(h.sink.list().length, 2, 'a new Event');
    assert.equal(h.sink.list()[1]?.series, undefined);
  });

  it('repeats that arrive while the write is queued are folded into it', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    assert.equal(h.sink.calls.length, 1, h.sink.calls.join('\n'));
    assert.deepEqual(h.sink.list()[0]?.series?.count, 5, 'created with the series already counted');
  });

  it('an Event gone from the API server (deleted, past --event-ttl) is made again with its series', async () => {
    const h = harness();
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    h.sink.events.clear();
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    assert.match(h.sink.calls[1]!, /^patch .* series 2$/);
    assert.match(h.sink.calls[2]!, /^create .* series 2$/);
    assert.equal(h.sink.list()[0]?.series?.count, 2);
  });
});

describe('rate limit and bounds', () => {
  it('writes per object are limited by a token bucket; unwritten repeats still count in the series; other objects are not held back', async () => {
    const h = harness({ burst: 2, refillMs: 60_000 });
    const t0 = h.clock.t;
    for (let i = 0; i < 4; i++) {
      h.clock.t = t0 + i;
      h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
      await h.recorder.whenIdle();
    }
    assert.deepEqual(h.results, ['created', 'series_updated', 'rate_limited', 'rate_limited']);
    assert.equal(h.sink.list()[0]?.series?.count, 2, 'the third and fourth are not written yet');

    const other = requestOf('UPDATE', { name: 'cluster-two' });
    h.recorder.admission(other, decisionOf([SELF], 'ns-one', 'cluster-two'));
    await h.recorder.whenIdle();
    assert.equal(h.sink.list().length, 2, 'another object has a bucket of its own');

    h.clock.t = t0 + 60_003;
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    assert.deepEqual(h.sink.list()[0]?.series, { count: 5, lastObservedTime: t0 + 60_003 }, 'the next write carries every observation');
  });

  it('a full observation queue drops and counts, and returns at once', async () => {
    const h = harness({ maxQueue: 3 });
    for (let i = 0; i < 10; i++) h.recorder.admission(requestOf('UPDATE', { name: `es-${i}` }), decisionOf([SELF], 'ns-one', `es-${i}`));
    assert.deepEqual(h.results, Array(7).fill('queue_full'), 'counted before any Event work');
    await h.recorder.whenIdle();
    assert.equal(h.sink.list().length, 3);
  });

  it('a full write queue (a slow API server) drops and counts', async () => {
    const h = harness({ maxQueue: 3 });
    let release!: () => void;
    h.sink.gate = new Promise((r) => (release = r));
    for (let i = 0; i < 3; i++) h.recorder.admission(requestOf('UPDATE', { name: `es-${i}` }), decisionOf([SELF], 'ns-one', `es-${i}`));
    await new Promise((r) => setImmediate(r));
    for (let i = 3; i < 8; i++) h.recorder.admission(requestOf('UPDATE', { name: `es-${i}` }), decisionOf([SELF], 'ns-one', `es-${i}`));
    await new Promise((r) => setImmediate(r));
    // One write in flight and three queued (two of the first observations, one of these); the other four dropped.
    assert.deepEqual(h.results, Array(4).fill('queue_full'));
    release();
    await h.recorder.whenIdle();
    assert.equal(h.sink.list().length, 4);
  });

  it('keeps at most maxSeries series', async () => {
    const h = harness({ maxSeries: 5 });
    for (let i = 0; i < 20; i++) h.recorder.admission(requestOf('UPDATE', { name: `es-${i}` }), decisionOf([SELF], 'ns-one', `es-${i}`));
    await h.recorder.whenIdle();
    assert.equal(h.recorder.seriesCount, 5);
  });

  it('sweeps series older than the window', async () => {
    const h = harness();
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    h.clock.t += 11 * 60_000;
    h.recorder.admission(requestOf('UPDATE', { name: 'x' }), decisionOf([SELF], 'ns-one', 'x'));
    await h.recorder.whenIdle();
    assert.equal(h.recorder.seriesCount, 1);
  });
});

describe('failures', () => {
  it('are counted by cause, logged once per cause until a write succeeds, and never thrown', async () => {
    const h = harness();
    h.sink.failures = [status(403), status(403), status(403)];
    for (let i = 0; i < 3; i++) {
      assert.doesNotThrow(() => h.recorder.admission(requestOf('UPDATE', { name: `es-${i}` }), decisionOf([SELF], 'ns-one', `es-${i}`)));
    }
    await h.recorder.whenIdle();
    assert.deepEqual(h.causes, ['forbidden', 'forbidden', 'forbidden']);
    assert.deepEqual(h.results, ['failed', 'failed', 'failed']);
    const warned = h.logs().filter((l) => l['level'] === 'warn');
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.equal(warned[0]?.['cause'], 'forbidden');
    assert.equal(warned[0]?.['status'], 403);

    h.recorder.admission(requestOf('UPDATE', { name: 'es-ok' }), decisionOf([SELF], 'ns-one', 'es-ok'));
    await h.recorder.whenIdle();
    assert.ok(h.logs().some((l) => l['msg'] === 'Kubernetes Events are written again'));
  });

  it('an unreachable server, a 429, a 5xx and a timeout are retried, at most MAX_ATTEMPTS writes', async () => {
    const h = harness({ writeTimeoutMs: 50 });
    h.sink.failures = [new Error('connect ECONNREFUSED 127.0.0.1:6443'), status(429)];
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.whenIdle();
    assert.deepEqual(h.causes, ['unreachable', 'too_many_requests']);
    assert.equal(h.sink.list().length, 1, 'the third attempt wrote it');

    const down = harness();
    down.sink.failures = Array(10).fill(status(503));
    down.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await down.recorder.whenIdle();
    assert.equal(down.sink.calls.length, MAX_ATTEMPTS);
    assert.deepEqual(down.causes, Array(MAX_ATTEMPTS).fill('server_error'));

    const hung = harness({ writeTimeoutMs: 20 });
    hung.sink.gate = new Promise(() => {});
    // The deadline timers do not hold the process open (a server does): this test holds it.
    const open = setInterval(() => {}, 1000);
    hung.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await hung.recorder.whenIdle();
    clearInterval(open);
    assert.deepEqual(hung.causes, Array(MAX_ATTEMPTS).fill('timeout'));
  });

  it('a sink that throws synchronously, or a metric callback that throws, breaks nothing', async () => {
    const h = harness({
      counted: () => {
        throw new Error('metric broken');
      },
    });
    h.sink.create = () => {
      throw new Error('sync throw');
    };
    assert.doesNotThrow(() => h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF])));
    await h.recorder.whenIdle();
    assert.ok(h.logs().some((l) => l['cause'] === 'unreachable'));
  });

  it('close() stops accepting and waits for queued writes, at most the given time', async () => {
    const h = harness();
    h.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await h.recorder.close(5_000);
    assert.equal(h.sink.list().length, 1);
    h.recorder.admission(requestOf('UPDATE', { name: 'late' }), decisionOf([SELF], 'ns-one', 'late'));
    await h.recorder.whenIdle();
    assert.equal(h.sink.list().length, 1, 'nothing accepted after close');

    const hung = harness();
    hung.sink.gate = new Promise(() => {});
    hung.recorder.admission(requestOf('UPDATE'), decisionOf([SELF]));
    await hung.recorder.close(30);
    assert.deepEqual(hung.sink.calls.length, 1, 'the write is under way, and close() returned');
  });
});

describe('Event fields within the API server limits, and no secret', () => {
  it('the note is one line of at most 1024 bytes, cut on a character boundary; the reason at most 128 bytes', () => {
    const long = Array.from({ length: 200 }, (_, i) => deny('r', `spec.f${i}`, 'ünïcödé 😀 message\nsecond line'));
    const note = eventNote(long);
    assert.ok(Buffer.byteLength(note) <= NOTE_MAX_BYTES, String(Buffer.byteLength(note)));
    assert.ok(Buffer.byteLength(note) > NOTE_MAX_BYTES - 8, 'cut near the limit');
    assert.ok(note.endsWith('…'));
    assert.ok(!note.includes('\n'));
    assert.ok(!note.includes('\uFFFD'));
    assert.ok(Buffer.byteLength(eventReason('x'.repeat(300))) <= REASON_MAX_BYTES);
  });

  it('an Event name is <object>.<hex>, or a UUID when that is no DNS subdomain of at most 253 characters', () => {
    assert.match(eventName('cluster-one', Date.now()), /^cluster-one\.[0-9a-f]+$/);
    assert.equal(
      eventName('a'.repeat(250), Date.now(), () => 'uuid'),
      'uuid',
    );
    assert.equal(
      eventName('Upper_Case', Date.now(), () => 'uuid'),
      'uuid',
    );
  });

  it('a RemoteClusterConfiguration denied with secret fields set: no secret value in its Events', async () => {
    const SENTINEL = 'sEcReT-sEnTiNeL-events-8d1e';
    const rcc = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'RemoteClusterConfiguration',
      metadata: { name: 'cluster-b' },
      spec: {
        datastoreType: 'etcdv3',
        ...Object.fromEntries(RCC_SECRET_FIELDS.map((f) => [f, SENTINEL])),
        etcdEndpoints: `https://user:${SENTINEL}@etcd:2379`,
      },
    };
    const decision = evaluate(rcc, { rules: ALL_RULES, phase: 'validate' });
    assert.equal(decision.allowed, false, 'denied');
    const h = harness();
    const kind = { group: 'projectcalico.org', version: 'v3', kind: 'RemoteClusterConfiguration' };
    h.recorder.admission({ uid: 'r', kind, operation: 'CREATE', name: 'cluster-b', object: rcc }, decision);
    h.recorder.audit({
      apiVersion: 'projectcalico.org/v3',
      kind: 'RemoteClusterConfiguration',
      namespace: '',
      name: 'cluster-b',
      decision,
    });
    await h.recorder.whenIdle();
    assert.ok(h.sink.list().length >= 2, 'Events written');
    const text = JSON.stringify(h.sink.list());
    assert.ok(!text.includes(SENTINEL), text);
  });
});
