/**
 * The HTTP protocol of /validate and /mutate through supertest: well-formed
 * AdmissionReviews in and out, and a 4xx with a one-line reason for every kind
 * of bad input. The rules here are test doubles so that the protocol is tested
 * on its own; the product rules have their own suites.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import request from 'supertest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Engine } from '../../../src/engine/engine.js';
import { deny, warn } from '../../../src/engine/finding.js';
import type { Rule } from '../../../src/engine/rule.js';
import { createLogger } from '../../../src/log/logger.js';
import { createRequestListener } from '../../../src/server/app.js';
import { MemoryClusterState } from '../../../src/state/memory-state.js';
import { decodePatch, reviewOf } from '../../helpers/reviews.js';

const denyBad: Rule<'Elasticsearch'> = {
  id: 'test-deny',
  kind: 'Elasticsearch',
  summary: 'denies objects named bad',
  validate: ({ name }) =>
    name === 'bad' ? [deny('test-deny', 'metadata.name', 'is bad; rename it'), deny('test-deny', 'spec.version', 'is also bad')] : [],
};
const warnAll: Rule<'Elasticsearch'> = {
  id: 'test-warn',
  kind: 'Elasticsearch',
  summary: 'warns on every object',
  validate: () => [warn('test-warn', 'spec', 'a warning')],
};
const labelIt: Rule<'Elasticsearch'> = {
  id: 'test-label',
  kind: 'Elasticsearch',
  summary: 'adds a label once',
  mutate: ({ object }) =>
    object.metadata.labels?.['guarded']
      ? { patch: [], findings: [] }
      : { patch: [{ op: 'add', path: '/metadata/labels', value: { guarded: 'yes' } }], findings: [] },
};

function makeApp(opts: { ready?: boolean; maxBodyBytes?: number } = {}) {
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (logs.push(String(chunk)), cb()) });
  const listener = createRequestListener({
    engine: new Engine([denyBad, warnAll, labelIt], { operatorNamespace: 'elastic-system' }),
    state: new MemoryClusterState(),
    log: createLogger('info', sink),
    maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
    ready: () => (opts.ready === false ? { ready: false, reason: 'state not synced' } : { ready: true }),
  });
  return { listener, logs };
}

const es = (name: string) => ({
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  metadata: { name, namespace: 'ns-one' },
  spec: { version: '8.16.1' },
});

describe('admission protocol', () => {
  it('answers an AdmissionReview with the same apiVersion and kind and response.uid = request.uid', async () => {
    const { listener } = makeApp();
    const body = reviewOf(es('good'), { uid: 'uid-123' });
    const res = await request(listener)
      .post('/validate')
      .send(body)
      .expect(200)
      .expect('content-type', /application\/json/);
    assert.equal(res.body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(res.body.kind, 'AdmissionReview');
    assert.equal(res.body.response.uid, 'uid-123');
    assert.equal(res.body.response.allowed, true);
    assert.deepEqual(res.body.response.warnings, ['test-warn: spec: a warning']);
  });

  it('denies with status code, reason, a message listing every finding with its field, and one cause per finding', async () => {
    const { listener, logs } = makeApp();
    const res = await request(listener)
      .post('/validate')
      .send(reviewOf(es('bad')))
      .expect(200);
    const r = res.body.response;
    assert.equal(r.allowed, false);
    assert.equal(r.status.code, 403);
    assert.equal(r.status.reason, 'Forbidden');
    assert.equal(r.status.message, 'test-deny: metadata.name: is bad; rename it; test-deny: spec.version: is also bad');
    assert.deepEqual(
      r.status.details.causes.map((c: { field: string }) => c.field),
      ['metadata.name', 'spec.version'],
    );
    assert.deepEqual(r.auditAnnotations, { 'test-deny': 'deny metadata.name, deny spec.version', 'test-warn': 'warn spec' });
    const line = JSON.parse(logs.find((l) => l.includes('admission denied'))!);
    assert.equal(line.userInfo.username, 'alice');
    assert.equal(line.name, 'bad');
    assert.equal(line.namespace, 'ns-one');
    assert.equal(line.findings.length, 3);
    assert.equal(line.object, undefined, 'the object is never logged');
  });

  it('mutates with patchType JSONPatch and a base64 RFC 6902 patch, and no patch for a mutated object', async () => {
    const { listener } = makeApp();
    const res = await request(listener)
      .post('/mutate')
      .send(reviewOf(es('good')))
      .expect(200);
    assert.equal(res.body.response.patchType, 'JSONPatch');
    assert.deepEqual(decodePatch(res.body.response.patch), [{ op: 'add', path: '/metadata/labels', value: { guarded: 'yes' } }]);
    const mutated = { ...es('good'), metadata: { ...es('good').metadata, labels: { guarded: 'yes' } } };
    const again = await request(listener).post('/mutate').send(reviewOf(mutated)).expect(200);
    assert.equal(again.body.response.patch, undefined);
    assert.equal(again.body.response.patchType, undefined);
  });

  it('/mutate does not run validating rules and /validate does not patch', async () => {
    const { listener } = makeApp();
    const m = await request(listener)
      .post('/mutate')
      .send(reviewOf(es('bad')))
      .expect(200);
    assert.equal(m.body.response.allowed, true);
    const v = await request(listener)
      .post('/validate')
      .send(reviewOf(es('good')))
      .expect(200);
    assert.equal(v.body.response.patch, undefined);
  });

  it('allows a kind it does not handle, and DELETE of a handled kind', async () => {
    const { listener } = makeApp();
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'x' } };
    const res = await request(listener)
      .post('/validate')
      .send(reviewOf(pod, { uid: 'p1' }))
      .expect(200);
    assert.deepEqual(res.body.response, { uid: 'p1', allowed: true });
    const del = await request(listener)
      .post('/validate')
      .send(reviewOf(es('bad'), { operation: 'DELETE' }))
      .expect(200);
    assert.equal(del.body.response.allowed, true);
  });

  it('denies an object whose fields have the wrong type with an object-shape finding', async () => {
    const { listener } = makeApp();
    const obj = { ...es('good'), spec: { version: 8, remoteClusters: 'cluster-two' } };
    const res = await request(listener).post('/validate').send(reviewOf(obj)).expect(200);
    assert.equal(res.body.response.allowed, false);
    assert.match(res.body.response.status.message, /object-shape: spec\.version: expected string/);
    assert.match(res.body.response.status.message, /spec\.remoteClusters: expected array/);
  });

  describe('bad input gets a 4xx with a one-line reason', () => {
    const cases: [string, string | object, number, RegExp][] = [
      ['not JSON', '{"apiVersion": ', 400, /not valid JSON/],
      ['not an object', '[1,2,3]', 400, /not a JSON object/],
      ['a JSON string', '"AdmissionReview"', 400, /not a JSON object/],
      ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 400, /request is missing/],
      [
        'no request.uid',
        {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: { kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE' },
        },
        400,
        /request\.uid/,
      ],
      [
        'an empty request.uid',
        {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: { uid: '', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE' },
        },
        400,
        /request\.uid/,
      ],
      [
        'request.uid a number',
        {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: { uid: 7, kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE' },
        },
        400,
        /request\.uid/,
      ],
      [
        'another apiVersion',
        { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'a' } },
        400,
        /not supported; use admission\.k8s\.io\/v1/,
      ],
      ['another kind', { apiVersion: 'admission.k8s.io/v1', kind: 'Pod' }, 400, /kind must be AdmissionReview/],
      [
        'no request.kind',
        { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'a', operation: 'CREATE' } },
        400,
        /request\.kind/,
      ],
    ];
    for (const [what, body, code, reason] of cases) {
      it(what, async () => {
        const { listener } = makeApp();
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        const res = await request(listener).post('/validate').set('content-type', 'application/json').send(text).expect(code);
        assert.equal(res.body.kind, 'Status');
        assert.equal(res.body.code, code);
        assert.match(res.body.message, reason);
        assert.doesNotMatch(res.text, /\n|at .*\(.*:\d+:\d+\)/, 'one line, no stack trace');
      });
    }

    it('a body over the limit: 413', async () => {
      const { listener } = makeApp({ maxBodyBytes: 2048 });
      const big = reviewOf({ ...es('good'), spec: { version: '8.16.1', pad: 'x'.repeat(10_000) } });
      const res = await request(listener).post('/validate').send(big).expect(413);
      assert.match(res.body.message, /larger than 2048 bytes/);
    });

    it('a content type other than JSON: 415', async () => {
      const { listener } = makeApp();
      const res = await request(listener).post('/validate').set('content-type', 'text/plain').send('hello').expect(415);
      assert.match(res.body.message, /application\/json/);
    });

    it('application/json with parameters is accepted, in any case; charset only utf-8', async () => {
      const { listener } = makeApp();
      const body = JSON.stringify(reviewOf(es('good')));
      for (const type of [
        'application/json',
        'Application/JSON',
        'application/json; charset=utf-8',
        'application/json;charset=UTF-8',
        'application/json; charset="utf-8"',
        'application/json ; foo=bar; charset=utf-8',
      ]) {
        const res = await request(listener).post('/validate').set('content-type', type).send(body);
        assert.equal(res.status, 200, `200 for ${type}`);
        assert.equal(res.body.kind, 'AdmissionReview', type);
      }
    });

    it('other media types that begin like JSON, other charsets and malformed parameters: 415', async () => {
      const { listener } = makeApp();
      const body = JSON.stringify(reviewOf(es('good')));
      for (const type of [
        'application/json-patch+json',
        'application/json.evil',
        'application/jsonx',
        'application/json/x',
        'application/merge-patch+json',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/json; charset',
        'application/json; charset="utf-8',
        'application/json; =utf-8',
        'text/json',
        '',
      ]) {
        const res = await request(listener).post('/validate').set('content-type', type).send(body);
        assert.equal(res.status, 415, `415 for ${JSON.stringify(type)}`);
        assert.equal(res.body.reason, 'UnsupportedMediaType', type);
      }
    });

    it('GET on an admission path: 405', async () => {
      const { listener } = makeApp();
      await request(listener).get('/mutate').expect(405);
    });

    it('an unknown path: 404 naming the endpoints', async () => {
      const { listener } = makeApp();
      const res = await request(listener).post('/admit').send({}).expect(404);
      assert.match(res.body.message, /POST \/validate or POST \/mutate/);
    });
  });

  it('/healthz answers ok; /readyz answers 503 with the reason until ready', async () => {
    await request(makeApp().listener).get('/healthz').expect(200, 'ok');
    await request(makeApp().listener).get('/readyz').expect(200, 'ok');
    const res = await request(makeApp({ ready: false }).listener)
      .get('/readyz')
      .expect(503);
    assert.match(res.text, /state not synced/);
  });

  it('decodes the body once it is whole: a character split across packets arrives intact, invalid UTF-8 becomes U+FFFD', async () => {
    const { listener } = makeApp();
    const server = http.createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    /** Sends `parts` as separate writes, a turn apart, and resolves with the parsed answer. */
    const post = (parts: Buffer[]) =>
      new Promise<{ status: number; body: { response: { uid: string; allowed: boolean } } }>((resolve, reject) => {
        const req = http.request(
          {
            port,
            host: '127.0.0.1',
            path: '/validate',
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.concat(parts).length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
          },
        );
        req.on('error', reject);
        const write = (i: number) => (i === parts.length ? req.end() : req.write(parts[i], () => setTimeout(() => write(i + 1), 5)));
        write(0);
      });
    try {
      const text = Buffer.from(JSON.stringify(reviewOf(es('good'), { uid: 'uid-ü-✓' })));
      const at = text.indexOf(Buffer.from('✓')) + 1; // inside the three bytes of ✓
      const split = await post([text.subarray(0, at), text.subarray(at)]);
      assert.equal(split.status, 200);
      assert.equal(split.body.response.uid, 'uid-ü-✓');
      const marker = Buffer.from('uid-X');
      const bad = Buffer.from(JSON.stringify(reviewOf(es('good'), { uid: 'uid-X' })));
      const i = bad.indexOf(marker) + 4;
      bad[i] = 0xff; // not UTF-8
      const invalid = await post([bad]);
      assert.equal(invalid.status, 200);
      assert.equal(invalid.body.response.uid, 'uid-\ufffd');
      assert.equal(invalid.body.response.allowed, true);
    } finally {
      server.close();
    }
  });
});
