/**
 * Hostile input on POST /validate and /mutate, through supertest against
 * `createRequestListener` with the real rules and a realistic state: malformed
 * JSON, deep nesting, huge arrays and strings, wrong types in every field a
 * rule reads, prototype keys everywhere, unicode. Every answer is a
 * well-formed AdmissionReview or a 4xx Status (see `checkAnswer`), never a 5xx,
 * a hang, an unhandled rejection or a polluted prototype.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import request from 'supertest';
import { DEFAULT_MAX_BODY_BYTES } from '../../../src/server/admission-handler.js';
import {
  anyJson,
  assertNoPollution,
  assertOneLine,
  checkAnswer,
  codePoints,
  deepArray,
  deepObject,
  escapedString,
  fcParams,
  handledObject,
  hostileString,
  objectOf,
  pollutionPayload,
  RawJson,
  hostileApp,
  realisticState,
  reviewArb,
  reviewBody,
  validPoolReview,
  reviewDoc,
  setAt,
  toJson,
  useHostileServer,
  wrongValue,
  type ReviewParts,
} from './support.js';

/** Per request: an answer within this long, or the property fails (a hang). */
const DEADLINE_MS = 5_000;
const PATHS = ['/validate', '/mutate'] as const;

const hostile = useHostileServer();
afterEach(() => {
  hostile.logs.length = 0;
});

async function post(path: string, body: string, contentType = 'application/json') {
  const res = await request(hostile.server)
    .post(path)
    .set('content-type', contentType)
    .timeout({ deadline: DEADLINE_MS })
    .send(body)
    .ok(() => true);
  return { status: res.status, text: res.text, headers: res.headers as Record<string, string> };
}

/** Posts `body` to both endpoints and checks both answers, and that each decision log line is one JSON object; returns the answers. */
async function both(body: string) {
  const out: Record<string, unknown>[] = [];
  for (const path of PATHS) out.push(checkAnswer(path, body, await post(path, body)));
  for (const line of hostile.logs.splice(0)) {
    assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, `one log line: ${line.slice(0, 200)}`);
    JSON.parse(line);
  }
  assertNoPollution();
  return out;
}

const review = (wrongObject: number, wrongEnvelope: number) => reviewArb(handledObject(wrongObject), wrongEnvelope);

describe('hostile admission bodies', () => {
  it('malformed JSON and non-review bodies get a 4xx Status with a one-line message', async () => {
    const goodBody = fc.sample(
      review(0, 0).map((p) => reviewBody(p)),
      { numRuns: 1, seed: 1 },
    )[0]!;
    const mangled = fc.oneof(
      codePoints({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
      fc.nat({ max: goodBody.length - 1 }).map((n) => goodBody.slice(0, n)),
      fc
        .tuple(fc.nat({ max: goodBody.length - 1 }), codePoints({ minLength: 1, maxLength: 3 }))
        .map(([i, s]) => goodBody.slice(0, i) + s + goodBody.slice(i + 1)),
      fc.constantFrom(
        '',
        ' ',
        'null',
        '{',
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"',
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}',
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":[]}',
        '{"apiVersion":"admission.k8s.io/v1\\u2028","kind":"AdmissionReview"}',
        '{"apiVersion":"\\u0000\\n\\r","kind":"AdmissionReview"}',
        '{"apiVersion":{"__proto__":{"polluted":1}},"kind":"AdmissionReview"}',
        '{"__proto__":{"polluted":1},"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}',
        '\ufeff{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}',
        '{"a":1,"a":2}',
        '[' + '1,'.repeat(1000) + '1]',
        'NaN',
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\\ud800","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}}',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        mangled,
        fc.constantFrom(...PATHS),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'),
        async (body, path, type) => {
          const res = await post(path, body, type);
          checkAnswer(path, body, res);
          assertNoPollution();
        },
      ),
      fcParams(100),
    );
  });

  it('wrong methods and content types get 405 / 415', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.constantFrom('text/plain', 'application/yaml', 'application/jsonx', '', 'multipart/form-data; boundary=x'),
        hostileString,
        async (path, type, body) => {
          const res = await post(path, body, type);
          assert.equal(res.status, 415, `415 for ${JSON.stringify(type)}`);
          checkAnswer(path, body, res);
        },
      ),
      fcParams(20),
    );
    for (const method of ['get', 'put', 'delete', 'patch'] as const) {
      const client = request(hostile.server);
      const res = await client[method]('/validate')
        .timeout({ deadline: DEADLINE_MS })
        .ok(() => true);
      assert.equal(res.status, 405);
      assertOneLine(res.body.message, 'message');
    }
  });

  it('envelopes with wrong types (uid, operation, namespace, name, userInfo, dryRun) and wrong-typed objects', async () => {
    await fc.assert(
      fc.asyncProperty(review(1, 2), async (p) => {
        await both(reviewBody(p));
      }),
      fcParams(60),
    );
  });

  it('Elasticsearch, IPPool and RemoteClusterConfiguration objects with a valid or any JSON value in every read field', async () => {
    await fc.assert(
      fc.asyncProperty(review(1, 0), async (p) => {
        await both(reviewBody(p));
      }),
      fcParams(120),
    );
  });

  it('objects of the right types with hostile values (unicode, prototype keys, odd versions and CIDRs) reach the rules', async () => {
    let decided = 0;
    await fc.assert(
      fc.asyncProperty(review(0, 0), async (p) => {
        const [v] = await both(reviewBody(p));
        const r = (v as { response?: { allowed: boolean; status?: { message: string } } }).response;
        if (r && !r.status?.message.startsWith('object-shape')) decided++;
      }),
      fcParams(120),
    );
    assert.ok(decided > 60, `most of these objects decode and are judged by the rules (${decided})`);
  });

  /** Places where a hostile value goes: unread fields, read fields, the object itself, the envelope. */
  const SLOTS: readonly (readonly (string | number)[])[] = [
    ['junk'],
    ['request', 'options'],
    ['request', 'uid'],
    ['request', 'kind'],
    ['request', 'userInfo', 'groups'],
    ['request', 'userInfo', 'extra'],
    ['request', 'object'],
    ['request', 'oldObject'],
    ['request', 'object', 'junk'],
    ['request', 'object', 'metadata'],
    ['request', 'object', 'metadata', 'managedFields'],
    ['request', 'object', 'metadata', 'labels'],
    ['request', 'object', 'metadata', 'labels', 'deep'],
    ['request', 'object', 'metadata', 'annotations', 'remote-cluster-guard.io/remote-cidrs'],
    ['request', 'object', 'spec'],
    ['request', 'object', 'spec', 'junk'],
    ['request', 'object', 'spec', 'nodeSets', 0, 'podTemplate'],
    ['request', 'object', 'spec', 'version'],
    ['request', 'object', 'spec', 'remoteClusters'],
    ['request', 'object', 'spec', 'remoteClusters', 0],
    ['request', 'object', 'spec', 'remoteClusters', 0, 'name'],
    ['request', 'object', 'spec', 'remoteClusters', 0, 'elasticsearchRef', 'apiKey'],
    ['request', 'object', 'spec', 'remoteClusters', 0, 'elasticsearchRef', 'name'],
    ['request', 'object', 'spec', 'remoteClusters', 1, 'apiKey', 'access', 'search', 'names'],
    ['request', 'object', 'spec', 'remoteClusters', 0, '__proto__'],
    ['request', 'object', 'spec', 'transport', 'tls', 'certificateAuthorities', 'configMapName'],
    ['request', 'object', 'spec', 'cidr'],
    ['request', 'object', 'spec', 'allowedUses'],
    ['request', 'object', 'spec', 'syncOptions'],
    ['request', 'object', 'spec', 'syncOptions', 'overlayRoutingMode'],
    ['request', 'object', 'spec', 'etcdPassword'],
    ['request', 'object', 'spec', 'clusterAccessSecret', 'kind'],
    ['request', 'object', 'status', 'version'],
    ['request', 'object', '__proto__'],
    ['request', 'object', 'spec', '__proto__'],
    ['request', 'object', 'constructor'],
    ['request', '__proto__'],
    ['__proto__'],
  ];

  /** A base review with `value` at up to three random slots. */
  const slottedParts = (value: fc.Arbitrary<unknown>) =>
    fc.tuple(review(0, 0), fc.array(fc.tuple(fc.constantFrom(...SLOTS), value), { minLength: 1, maxLength: 3 }));
  const bodyOf = (p: ReviewParts, inserts: readonly (readonly [readonly (string | number)[], unknown])[]) => {
    let doc: unknown = reviewDoc(p);
    for (const [slot, v] of inserts) doc = setAt(doc, slot, v);
    return toJson(doc);
  };
  const slotted = (value: fc.Arbitrary<unknown>) => slottedParts(value).map(([p, inserts]) => bodyOf(p, inserts));

  it('10k-deep and deeper arrays and objects in unread and read fields', async () => {
    const deep = fc
      .tuple(fc.constantFrom(10_000, 10_000, 30_000), fc.constantFrom('array', 'object', '__proto__'))
      .map(([d, shape]) => (shape === 'array' ? deepArray(d) : deepObject(d, shape === 'object' ? 'a' : '__proto__')));
    await fc.assert(
      fc.asyncProperty(slotted(deep), async (body) => {
        await both(body);
      }),
      fcParams(12),
    );
    // And always, on an Elasticsearch that /mutate patches (its entry has no ref namespace): 300k-deep
    // values (over 1 MB of brackets) in an unread field, in a field the rules keep (elasticsearchRef.apiKey),
    // in one they decode (labels) and as the old object.
    const es = {
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      metadata: { name: 'deep', namespace: 'ns-one' },
      spec: { version: '8.16.1', remoteClusters: [{ name: 'x', elasticsearchRef: { name: 'cluster-two' } }] },
    };
    const base: ReviewParts = {
      uid: 'deep-0',
      kind: 'Elasticsearch',
      group: 'elasticsearch.k8s.elastic.co',
      operation: 'UPDATE',
      namespace: 'ns-one',
      name: 'deep',
      object: es,
      oldObject: es,
      userInfo: undefined,
      dryRun: false,
    };
    for (const inserts of [
      [[['request', 'object', 'spec', 'junk'], deepArray(300_000)]],
      [[['request', 'object', 'spec', 'remoteClusters', 0, 'elasticsearchRef', 'apiKey'], deepObject(300_000)]],
      [[['request', 'object', 'metadata', 'labels'], deepArray(300_000)]],
      [[['request', 'oldObject'], deepObject(200_000, '__proto__')]],
    ] as const) {
      const [, mutated] = await both(bodyOf(base, inserts));
      const r = (mutated as { response?: { allowed: boolean; patch?: string } }).response;
      if (inserts[0][0][2] !== 'metadata')
        assert.ok(r?.allowed && r.patch, `patched despite the deep value: ${JSON.stringify(r).slice(0, 300)}`);
    }
  });

  it('a deep value where the rules read, on an object that every mutating rule patches', async () => {
    // cluster-two in ns-two is referenced with an API key (state): its server is enabled by a patch;
    // the entry without a ref namespace gets one; the RCC gets its overlay default.
    const es = objectOf([
      ['apiVersion', 'elasticsearch.k8s.elastic.co/v1'],
      ['kind', 'Elasticsearch'],
      ['metadata', { name: 'cluster-two', namespace: 'ns-two' }],
      [
        'spec',
        {
          version: '8.16.1',
          remoteClusters: [
            {
              name: 'x',
              elasticsearchRef: { name: 'cluster-one', apiKey: deepArray(50_000) },
              apiKey: { access: { search: { names: ['a'] } } },
            },
          ],
          junk: deepObject(50_000),
        },
      ],
    ]);
    const rcc = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'RemoteClusterConfiguration',
      metadata: { name: 'r' },
      spec: { datastoreType: 'kubernetes', kubeconfig: '/k', junk: deepArray(50_000) },
    };
    for (const [kind, group, object] of [
      ['Elasticsearch', 'elasticsearch.k8s.elastic.co', es],
      ['RemoteClusterConfiguration', 'projectcalico.org', rcc],
    ] as const) {
      const p: ReviewParts = {
        uid: 'deep-1',
        kind,
        group,
        operation: 'CREATE',
        namespace: 'ns-two',
        name: 'cluster-two',
        object,
        oldObject: undefined,
        userInfo: undefined,
        dryRun: false,
      };
      const body = reviewBody(p);
      const [, m] = await both(body);
      const r = (m as { response: { allowed: boolean; patch?: string } }).response;
      assert.equal(r.allowed, true, `${kind}: ${JSON.stringify(r).slice(0, 300)}`);
      assert.ok(r.patch, `${kind}: the object is patched despite the deep field`);
    }
  });

  it('prototype-pollution payloads and __proto__ / constructor / prototype keys anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(slotted(fc.oneof(pollutionPayload, anyJson)), async (body) => {
        await both(body);
      }),
      fcParams(100),
    );
  });

  it('unicode (astral, RTL, NUL, lone surrogates in JSON escapes) and numbers where strings belong', async () => {
    await fc.assert(
      fc.asyncProperty(
        slotted(
          fc.oneof(
            escapedString,
            hostileString,
            wrongValue,
            fc.constantFrom(new RawJson('1e400'), new RawJson('-0'), new RawJson('0.0000000000000000000001')),
          ),
        ),
        async (body) => {
          await both(body);
        },
      ),
      fcParams(100),
    );
  });

  it('huge arrays and strings within the body limit are answered in time', async () => {
    const entries = (n: number, entry: unknown) => new RawJson('[' + Array(n).fill(JSON.stringify(entry)).join(',') + ']');
    const base = {
      Elasticsearch: {
        apiVersion: 'elasticsearch.k8s.elastic.co/v1',
        kind: 'Elasticsearch',
        metadata: { name: 'big', namespace: 'ns-one' },
        spec: {
          version: '8.16.1',
          remoteClusters: [{ name: 'cluster-two', elasticsearchRef: { name: 'cluster-two', namespace: 'ns-two' } }],
        },
      },
      IPPool: { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'big' }, spec: { cidr: '10.99.0.0/16' } },
      RemoteClusterConfiguration: {
        apiVersion: 'projectcalico.org/v3',
        kind: 'RemoteClusterConfiguration',
        metadata: { name: 'big' },
        spec: { datastoreType: 'kubernetes', kubeconfig: '/k' },
      },
    } as const;
    // Each: the kind, where the huge value goes (under request.object unless it starts with "request"), and the value.
    const cases: [keyof typeof base, (string | number)[], () => unknown][] = [
      // 140k findings of one rule: more than a spread call takes (the engine used to throw RangeError).
      ['Elasticsearch', ['spec', 'remoteClusters'], () => entries(70_000, {})],
      ['Elasticsearch', ['spec', 'remoteClusters'], () => entries(10_000, { name: 'a b', elasticsearchRef: { name: 'b' }, apiKey: {} })],
      ['Elasticsearch', ['spec', 'version'], () => '8.9.0 '.repeat(300_000)],
      ['Elasticsearch', ['metadata', 'name'], () => '𝔘\u202e\n'.repeat(200_000)],
      ['Elasticsearch', ['spec', 'remoteClusters', 0, 'name'], () => 'a \n'.repeat(300_000)],
      [
        'Elasticsearch',
        ['metadata', 'labels'],
        () => objectOf(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, i % 2 ? 'v' : i] as const)),
      ],
      ['IPPool', ['spec', 'allowedUses'], () => entries(100_000, 'bogus')],
      ['IPPool', ['spec', 'cidr'], () => '\ud83d\ude00'.repeat(300_000)],
      [
        'RemoteClusterConfiguration',
        ['metadata', 'annotations', 'remote-cluster-guard.io/remote-cidrs'],
        () => '10.0.0.1/8,'.repeat(40_000),
      ],
      ['RemoteClusterConfiguration', ['metadata', 'annotations', 'remote-cluster-guard.io/remote-cidrs'], () => 'x,'.repeat(300_000)],
      ['RemoteClusterConfiguration', ['request', 'userInfo', 'groups'], () => entries(50_000, 'system:authenticated')],
      [
        'RemoteClusterConfiguration',
        ['request', 'userInfo', 'extra'],
        () => objectOf(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, [String(i)]] as const)),
      ],
    ];
    const bodyOfCase = (i: number) => {
      const [kind, slot, make] = cases[i]!;
      const group = kind === 'Elasticsearch' ? 'elasticsearch.k8s.elastic.co' : 'projectcalico.org';
      const p: ReviewParts = {
        uid: `big-${i}`,
        kind,
        group,
        operation: 'UPDATE',
        namespace: 'ns-one',
        name: 'big',
        object: base[kind],
        oldObject: base[kind],
        userInfo: { username: 'u' },
        dryRun: false,
      };
      return toJson(setAt(reviewDoc(p), slot[0] === 'request' ? slot : ['request', 'object', ...slot], make()));
    };
    // Every case (a loop: fast-check examples would make it build a reverse map of all of Unicode).
    for (let i = 0; i < cases.length; i++) {
      const body = bodyOfCase(i);
      assert.ok(Buffer.byteLength(body) < DEFAULT_MAX_BODY_BYTES, `case ${i} is within the limit`);
      const answers = await both(body);
      assert.ok(
        answers.every((a) => a['kind'] === 'AdmissionReview'),
        `case ${i}: within the limit, answered with a review`,
      );
    }
  });
});

describe('body limit', () => {
  it('a body over the limit is cut off with 413; one at the limit is read', async () => {
    const limit = 64 * 1024;
    const app = hostileApp({ maxBodyBytes: limit, state: realisticState() });
    const small = http.createServer(app.listener);
    await new Promise<void>((resolve) => small.listen(0, '127.0.0.1', resolve));
    const base = validPoolReview('u');
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: -200, max: 300_000 }), fc.constantFrom(...PATHS), async (over, path) => {
          // Pad inside the JSON so that at-limit bodies are valid reviews.
          const pad = Math.max(0, limit + over - Buffer.byteLength(base) - 10);
          const body = base.slice(0, -1) + `,"pad":"${'x'.repeat(pad)}"}`;
          const size = Buffer.byteLength(body);
          const res = await request(small)
            .post(path)
            .set('content-type', 'application/json')
            .timeout({ deadline: DEADLINE_MS })
            .send(body)
            .ok(() => true);
          if (size > limit) {
            assert.equal(res.status, 413, `${size} bytes > ${limit}`);
            assert.match(res.body.message, /larger than 65536 bytes/);
          } else {
            assert.equal(res.status, 200, `${size} bytes <= ${limit}: ${res.text.slice(0, 200)}`);
          }
          checkAnswer(path, body, { status: res.status, text: res.text, headers: res.headers as Record<string, string> });
        }),
        fcParams(30),
      );
      // The default limit (4 MiB) on the real app, one byte over.
      const port = (hostile.server.address() as AddressInfo).port;
      const big = base.slice(0, -1) + `,"pad":"${'y'.repeat(4 * 1024 * 1024)}"}`;
      const res = await request(`http://127.0.0.1:${port}`)
        .post('/validate')
        .set('content-type', 'application/json')
        .timeout({ deadline: DEADLINE_MS })
        .send(big)
        .ok(() => true);
      assert.equal(res.status, 413);
      assertOneLine(res.body.message, '413 message');
    } finally {
      await new Promise<void>((resolve) => small.close(() => resolve()));
    }
  });
});
