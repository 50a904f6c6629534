/**
 * Shared pieces of the hostile-input suite: arbitraries for objects of every
 * handled kind whose read fields are valid or any JSON value, hostile strings
 * and keys, a JSON serializer that can splice in raw text (10k-deep nesting,
 * hand-written escapes), the real-rules app, and the checks every answer must
 * pass (a well-formed AdmissionReview or a 4xx Status, one-line messages,
 * patches that apply, no prototype pollution, no unhandled rejection).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import fjp from 'fast-json-patch';
import { writeCertificates } from '../../../src/certs/files.js';
import { generateCertificates } from '../../../src/certs/generate.js';
import { ServingCertificate } from '../../../src/certs/serving-certificate.js';
import { Engine } from '../../../src/engine/engine.js';
import { HANDLED_KINDS, KINDS, type HandledKind } from '../../../src/kube/kinds.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../../src/server/admission-handler.js';
import { createRequestListener } from '../../../src/server/app.js';
import type { BodyBudget } from '../../../src/server/body-budget.js';
import { createHttpsServer, listen, type HttpsOptions } from '../../../src/server/https-server.js';
import { addToState, parseManifests } from '../../../src/state/manifests.js';
import { type MemoryClusterState } from '../../../src/state/memory-state.js';
import { TEST_NOW } from '../../helpers/engine.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

/** Prototype-pollution payload marker: no object may ever have this property through its prototype. */
export const POLLUTED = 'polluted';

// ---------------------------------------------------------------------------
// Guards run around every property.

const baselineProtoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
const baselineArrayProtoKeys = Object.getOwnPropertyNames(Array.prototype).sort();

/** Asserts that neither Object.prototype nor Array.prototype gained anything. */
export function assertNoPollution(): void {
  assert.equal(({} as Record<string, unknown>)[POLLUTED], undefined, 'Object.prototype polluted');
  assert.equal(([] as unknown as Record<string, unknown>)[POLLUTED], undefined, 'Array.prototype polluted');
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), baselineProtoKeys, 'Object.prototype has new keys');
  assert.deepEqual(Object.getOwnPropertyNames(Array.prototype).sort(), baselineArrayProtoKeys, 'Array.prototype has new keys');
  assert.equal(Object.getPrototypeOf(Object.prototype), null);
}

/** Collects unhandled rejections for the life of the test file. */
export function trapUnhandledRejections(): { rejections: unknown[]; assertNone(): void } {
  const rejections: unknown[] = [];
  process.on('unhandledRejection', (reason) => {
    rejections.push(reason);
  });
  return {
    rejections,
    assertNone() {
      assert.deepEqual(rejections.map(String), [], 'unhandled promise rejections');
    },
  };
}

// ---------------------------------------------------------------------------
// Text checks.

/** Line breaks and other control characters (C0, DEL, C1, U+2028/9): none in a one-line message. */
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function assertOneLine(text: unknown, what: string): void {
  assert.equal(typeof text, 'string', `${what} is a string`);
  assert.ok(!NOT_ONE_LINE.test(text as string), `${what} is one line without control characters: ${JSON.stringify(text).slice(0, 300)}`);
  assert.ok(!/\bat .*\(.*:\d+:\d+\)/.test(text as string), `${what} has no stack trace`);
}

// ---------------------------------------------------------------------------
// JSON with raw splices.

/** A value serialized as the given JSON text as is (deep nesting, hand-written escapes). */
export class RawJson {
  constructor(readonly text: string) {}
}

const RAW_TOKEN = '@@rcg-raw-7c1f@@';

/** JSON.stringify, with each RawJson replaced by its text. Keys such as `__proto__` must be own properties. */
export function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `${RAW_TOKEN}${raws.length - 1}`;
    }
    return v;
  });
  return raws.length === 0 ? text : text.replace(new RegExp(`"${RAW_TOKEN}(\\d+)"`, 'g'), (_m, i: string) => raws[Number(i)]!);
}

/** An object from key/value pairs, every key an own data property (`__proto__` included). */
export function objectOf(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Drops `undefined` members (an omitted field), keeping own `__proto__` keys. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  return objectOf(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function deepArray(depth: number): RawJson {
  return new RawJson('['.repeat(depth) + ']'.repeat(depth));
}
export function deepObject(depth: number, key = 'a'): RawJson {
  return new RawJson(`{"${key}":`.repeat(depth) + '1' + '}'.repeat(depth));
}

// ---------------------------------------------------------------------------
// Arbitraries.

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/**
 * Strings of any code points, lone surrogates included. (fc.string's unit
 * 'binary' builds a reverse map of all of Unicode when created: a second per
 * test process.)
 */
export function codePoints(constraints: { minLength?: number; maxLength: number }): fc.Arbitrary<string> {
  return fc
    .array(
      fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)),
      constraints,
    )
    .map((cps) => cps.join(''));
}

/** Strings that have broken parsers and printers before. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '',
    ' ',
    'a b',
    'line\nbreak',
    'cr\r\nlf',
    'tab\there',
    'nul\u0000byte',
    '\u0000',
    '\u202eRTL override',
    'مرحبا بالعالم',
    'שלום',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀👩‍👩‍👧',
    '\ud800',
    'lone\udfffsurrogate',
    '\udc00\ud800',
    'sep\u2028\u2029',
    'nel\u0085',
    '\u001b[31mred\u001b[0m',
    '\u009b31m',
    '\ufeffbom',
    'x'.repeat(300),
    '%s%n%d',
    '${process.exit()}',
    '../../etc/passwd',
    '-----BEGIN CERTIFICATE-----',
    'a:b,c*d',
    'https://user:pass@host:1',
  ),
  codePoints({ maxLength: 16 }),
  fc.string({ maxLength: 16 }),
);

/** Keys for maps and objects: hostile strings, prototype keys above all. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 3, arbitrary: hostileString },
);

/** Prototype-pollution payloads: `{"__proto__": {"polluted": ...}}`, `{"constructor": {"prototype": {...}}}`. */
export const pollutionPayload: fc.Arbitrary<unknown> = fc.constantFrom(
  objectOf([['__proto__', { [POLLUTED]: 'yes' }]]),
  objectOf([['constructor', { prototype: { [POLLUTED]: 'yes' } }]]),
  objectOf([['prototype', { [POLLUTED]: 'yes' }]]),
  objectOf([['__proto__', objectOf([['__proto__', { [POLLUTED]: 'yes' }]])]]),
  new RawJson(`{"__proto__":{"${POLLUTED}":"yes"},"constructor":{"prototype":{"${POLLUTED}":"yes"}}}`),
);

/** Hand-written JSON string escapes: lone and swapped surrogates, NUL, astral pairs, RTL. */
export const escapedString: fc.Arbitrary<RawJson> = fc.constantFrom(
  new RawJson('"\\ud800"'),
  new RawJson('"\\udfff\\ud800"'),
  new RawJson('"a\\u0000b"'),
  new RawJson('"\\ud83d\\ude00 astral"'),
  new RawJson('"\\u202e\\u0645\\u0631"'),
  new RawJson('"\\u2028\\u2029\\n\\r\\t\\b\\f"'),
  new RawJson('"\\/\\"\\\\"'),
);

/** Any JSON value (small), sometimes hostile. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: pollutionPayload },
  { weight: 1, arbitrary: escapedString },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0.1, 1e-320) },
  { weight: 1, arbitrary: fc.constantFrom(new RawJson('1e400'), new RawJson('-1e400'), new RawJson('123456789012345678901234567890')) },
);

/** A value of the wrong type for a field (or any JSON value): numbers, arrays, objects, null, booleans. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(anyJson, { maxLength: 3 }),
  fc.dictionary(hostileKey, anyJson, { maxKeys: 3 }).map((d) => objectOf(Object.entries(d))),
  anyJson,
);

/**
 * A field: its valid value, a wrong value (with weight `wrong`), or absent.
 * `wrong` 0 keeps every type right so the rules themselves run.
 */
export function field<T>(valid: fc.Arbitrary<T>, wrong: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 2, arbitrary: fc.constant(undefined) },
    ...(wrong > 0 ? [{ weight: wrong, arbitrary: wrongValue }] : []),
  );
}

/** A required field: its valid value, or a wrong one with weight `wrong`. */
function required<T>(valid: fc.Arbitrary<T>, wrong: number): fc.Arbitrary<unknown> {
  return wrong > 0 ? fc.oneof({ weight: 8, arbitrary: valid }, { weight: wrong, arbitrary: wrongValue }) : valid;
}

/** A realistic string or a hostile one. */
function str(realistic: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...realistic) }, { weight: 1, arbitrary: hostileString });
}

/** An object with the given (maybe absent) fields, plus sometimes prototype keys and junk. */
function obj(fields: Record<string, fc.Arbitrary<unknown>>, wrong: number): fc.Arbitrary<unknown> {
  const extra = fc.array(fc.tuple(hostileKey, fc.oneof(anyJson, pollutionPayload)), { maxLength: wrong > 0 ? 2 : 1 });
  return fc
    .tuple(fc.record(fields), fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, unknown][]) }, { weight: 1, arbitrary: extra }))
    .map(([o, junk]) => {
      const base = compact(o as Record<string, unknown>);
      // Junk keys never replace a declared field: they add prototype keys and unread fields.
      return objectOf([...Object.entries(base), ...junk.filter(([k]) => !Object.hasOwn(base, k))]);
    });
}

/** A string-to-string map (labels, annotations, data) with hostile keys and values, plus the given known entries. */
function stringMap(known: Record<string, fc.Arbitrary<string>>, wrong: number): fc.Arbitrary<unknown> {
  const value = wrong > 0 ? fc.oneof({ weight: 5, arbitrary: hostileString }, { weight: 1, arbitrary: wrongValue }) : hostileString;
  return fc
    .tuple(fc.record(known, { requiredKeys: [] }), fc.array(fc.tuple(hostileKey, value), { maxLength: 3 }))
    .map(([k, rest]) => objectOf([...rest, ...Object.entries(k)]));
}

const NAMES = ['cluster-one', 'cluster-two', 'cluster-x', 'a', 'elastic-licensing', 'remote-certs'];
const NAMESPACES = ['ns-one', 'ns-two', 'default', 'elastic-system', ''];

function metadata(
  wrong: number,
  opts: { namespaced: boolean; labels?: Record<string, fc.Arbitrary<string>>; annotations?: Record<string, fc.Arbitrary<string>> },
) {
  return obj(
    {
      name: field(str(NAMES), wrong),
      generateName: field(str(['gen-']), wrong),
      ...(opts.namespaced ? { namespace: field(str(NAMESPACES), wrong) } : {}),
      uid: field(str(['1b4e28ba-2fa1-11d2-883f-0016d3cca427']), wrong),
      resourceVersion: field(str(['1', '12345']), wrong),
      creationTimestamp: field(str(['2026-05-01T00:00:00Z', 'yesterday']), wrong),
      labels: field(stringMap(opts.labels ?? {}, wrong), wrong),
      annotations: field(stringMap(opts.annotations ?? {}, wrong), wrong),
    },
    wrong,
  );
}

const VERSIONS = [
  '8.16.1',
  '7.17.0',
  '8.9.0',
  '8.10.0',
  '8.10.0-SNAPSHOT',
  '9.1.0',
  '7.8.1',
  '8.19.2',
  '99.0.0',
  '8.16',
  ' 8.16.1 ',
  'latest',
  '8',
  '',
];

function indexNames(wrong: number) {
  return obj({ names: field(fc.array(str(['logs-*', 'kibana_sample_data_ecommerce', '*']), { maxLength: 3 }), wrong) }, wrong);
}

function remoteCluster(wrong: number) {
  return obj(
    {
      name: field(str(['cluster-two', 'cluster-one', 'cluster-x', 'alias:bad', 'with space']), wrong),
      elasticsearchRef: field(
        obj(
          {
            name: field(str(NAMES), wrong),
            namespace: field(str(NAMESPACES), wrong),
            serviceName: field(str(['svc']), wrong),
            apiKey: field(anyJson, 0),
          },
          wrong,
        ),
        wrong,
      ),
      apiKey: field(
        obj(
          { access: field(obj({ search: field(indexNames(wrong), wrong), replication: field(indexNames(wrong), wrong) }, wrong), wrong) },
          wrong,
        ),
        wrong,
      ),
    },
    wrong,
  );
}

/** Elasticsearch objects; `wrong` is the weight of a wrong value in each read field. */
export function elasticsearchArb(wrong: number): fc.Arbitrary<unknown> {
  return obj(
    {
      apiVersion: required(str(['elasticsearch.k8s.elastic.co/v1', 'elasticsearch.k8s.elastic.co/v1beta1']), wrong),
      kind: required(fc.constant('Elasticsearch'), wrong),
      metadata: required(metadata(wrong, { namespaced: true, labels: { 'remote-cluster-guard.io/transport-ca-for': str(NAMES) } }), wrong),
      spec: field(
        obj(
          {
            version: field(str(VERSIONS), wrong),
            remoteClusters: field(fc.array(remoteCluster(wrong), { maxLength: 4 }), wrong),
            remoteClusterServer: field(obj({ enabled: field(fc.boolean(), wrong) }, wrong), wrong),
            transport: field(
              obj(
                {
                  tls: field(
                    obj(
                      {
                        certificateAuthorities: field(
                          obj({ configMapName: field(str(['remote-certs', 'labelled-ca', 'missing', 'elastic-licensing']), wrong) }, wrong),
                          wrong,
                        ),
                      },
                      wrong,
                    ),
                    wrong,
                  ),
                },
                wrong,
              ),
              wrong,
            ),
            nodeSets: field(fc.constant([{ name: 'default', count: 3 }]), 0),
          },
          wrong,
        ),
        wrong,
      ),
      status: field(obj({ version: field(str(VERSIONS), wrong) }, wrong), wrong),
    },
    wrong,
  );
}

const CIDRS = [
  '10.244.0.0/16',
  '10.244.1.0/24',
  '192.168.0.0/18',
  '192.168.1.0/24',
  '10.0.0.5/24',
  '10.8.0.0/16',
  'fd00:10:244::/56',
  'fd00:20:244::/56',
  'FD00:20:244:0::/56',
  '169.254.0.0/16',
  'fe80::/64',
  '0.0.0.0/0',
  '::/0',
  '1.2.3.4',
  '10.1',
  '010.0.0.0/8',
  '10.0.0.0/33',
  '10.0.0.0/08',
  'fe80::1%eth0/64',
  'not-a-cidr',
  '',
];

export function ipPoolArb(wrong: number): fc.Arbitrary<unknown> {
  return obj(
    {
      apiVersion: required(str(['projectcalico.org/v3', 'crd.projectcalico.org/v1']), wrong),
      kind: required(fc.constant('IPPool'), wrong),
      metadata: required(
        metadata(wrong, {
          namespaced: false,
          labels: { 'remote-cluster-guard.io/remote-cluster': str(['cluster1', 'cluster-n', 'missing', '']) },
        }),
        wrong,
      ),
      spec: field(
        obj(
          {
            cidr: field(str(CIDRS), wrong),
            blockSize: field(fc.oneof(fc.constantFrom(0, 20, 26, 32, 116, 122, 128, -1, 33, 129, 2 ** 31), fc.integer()), wrong),
            ipipMode: field(str(['Never', 'Always', 'CrossSubnet', '', 'always']), wrong),
            vxlanMode: field(str(['Never', 'Always', 'CrossSubnet', '', 'bogus']), wrong),
            natOutgoing: field(fc.boolean(), wrong),
            disabled: field(fc.boolean(), wrong),
            disableBGPExport: field(fc.boolean(), wrong),
            nodeSelector: field(str(['all()', "kubernetes.io/os == 'linux'"]), wrong),
            allowedUses: field(fc.array(str(['Workload', 'Tunnel', 'LoadBalancer', 'workload']), { maxLength: 4 }), wrong),
            assignmentMode: field(str(['Automatic', 'Manual', 'auto']), wrong),
          },
          wrong,
        ),
        wrong,
      ),
    },
    wrong,
  );
}

export const RCC_SECRET_FIELDS = ['etcdPassword', 'k8sAPIToken', 'kubeconfigInline', 'etcdKey', 'etcdCert', 'etcdCACert'] as const;

/** RemoteClusterConfigurations; `secret` gives the value of every secret field when set (a sentinel). */
export function rccArb(wrong: number, secret?: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const secretField = (realistic: string[]) =>
    secret ? fc.oneof({ weight: 4, arbitrary: secret }, { weight: 1, arbitrary: fc.constant(undefined) }) : field(str(realistic), wrong);
  const file = (p: string) => field(str([p, 'relative/path', '/with\u0000nul', '']), wrong);
  return obj(
    {
      apiVersion: required(str(['projectcalico.org/v3', 'crd.projectcalico.org/v1']), wrong),
      kind: required(fc.constant('RemoteClusterConfiguration'), wrong),
      metadata: required(
        metadata(wrong, {
          namespaced: false,
          annotations: {
            'remote-cluster-guard.io/remote-cidrs': str([
              '192.168.0.0/18, fd00:20:244::/56',
              '10.244.0.0/16',
              '10.8.0.0/16,',
              ' , ,',
              '10.8.0.1/16',
              'x,y,z',
              '',
            ]),
          },
        }),
        wrong,
      ),
      spec: field(
        obj(
          {
            clusterAccessSecret: fc.oneof(
              { weight: 4, arbitrary: fc.constant(undefined) },
              {
                weight: 1 + wrong,
                arbitrary: field(
                  obj(
                    {
                      apiVersion: field(str(['v1']), wrong),
                      kind: field(str(['Secret', '', 'ConfigMap']), wrong),
                      name: field(str(['remote-access']), wrong),
                      namespace: field(str(['calico-system', '']), wrong),
                    },
                    wrong,
                  ),
                  wrong,
                ),
              },
            ),
            datastoreType: field(str(['etcdv3', 'kubernetes', '', 'etcdv2']), wrong),
            etcdEndpoints: field(
              str([
                'https://10.0.0.1:2379,https://10.0.0.2:2379',
                'http://10.0.0.1:2379',
                'https://[::1]:2379',
                'https://a:1, https://b:2',
                '',
              ]),
              wrong,
            ),
            etcdUsername: field(str(['root', '']), wrong),
            etcdPassword: secretField(['hunter2', '']),
            etcdKeyFile: file('/etc/tigera-federation-remotecluster/etcd-key.pem'),
            etcdCertFile: file('/etc/tigera-federation-remotecluster/etcd-cert.pem'),
            etcdCACertFile: file('/etc/tigera-federation-remotecluster/etcd-ca.pem'),
            etcdKey: secretField(['-----BEGIN PRIVATE KEY-----']),
            etcdCert: secretField(['-----BEGIN CERTIFICATE-----']),
            etcdCACert: secretField(['-----BEGIN CERTIFICATE-----']),
            kubeconfig: file('/etc/tigera-federation-remotecluster/kubeconfig-rem-cluster-n'),
            kubeconfigInline: secretField(['apiVersion: v1\nkind: Config']),
            k8sAPIEndpoint: field(str(['https://10.0.0.1:6443', 'http://10.0.0.1:6443', 'https://[::1]:6443', 'ftp://x:1']), wrong),
            k8sKeyFile: file('/etc/k8s-key.pem'),
            k8sCertFile: file('/etc/k8s-cert.pem'),
            k8sCAFile: file('/etc/k8s-ca.pem'),
            k8sAPIToken: secretField(['eyJhbGciOi']),
            k8sInsecureSkipTLSVerify: field(fc.boolean(), wrong),
            syncOptions: field(obj({ overlayRoutingMode: field(str(['Enabled', 'Disabled', '', 'enabled']), wrong) }, wrong), wrong),
          },
          wrong,
        ),
        wrong,
      ),
    },
    wrong,
  );
}

/** The API group sent in `request.kind` for an object: usually its own, sometimes another one of the kind. */
export function groupOf(object: unknown): string {
  const apiVersion = (object as { apiVersion?: unknown } | null)?.apiVersion;
  if (typeof apiVersion !== 'string') return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** One arbitrary per admitted kind: a kind added to src/kube/kinds.ts does not compile here until it has one. */
const KIND_ARBS: Record<HandledKind, (wrong: number) => fc.Arbitrary<unknown>> = {
  Elasticsearch: elasticsearchArb,
  IPPool: ipPoolArb,
  RemoteClusterConfiguration: (wrong) => rccArb(wrong),
};

/** An object of one of the handled kinds with its request kind. */
export function handledObject(wrong: number): fc.Arbitrary<{ kind: HandledKind; object: unknown }> {
  return fc.oneof(...HANDLED_KINDS.map((kind) => KIND_ARBS[kind](wrong).map((object) => ({ kind, object }))));
}

export interface ReviewParts {
  uid: unknown;
  kind: HandledKind;
  group: string;
  operation: unknown;
  namespace: unknown;
  name: unknown;
  object: unknown;
  oldObject: unknown;
  userInfo: unknown;
  dryRun: unknown;
}

/** An AdmissionReview for an object of a handled kind; the envelope fields are valid except with weight `wrong`. */
export function reviewArb(objects: fc.Arbitrary<{ kind: HandledKind; object: unknown }>, wrong: number): fc.Arbitrary<ReviewParts> {
  return objects.chain(({ kind, object }) =>
    fc.record({
      uid: fc.oneof(
        {
          weight: 8,
          arbitrary: fc.oneof(
            fc.uuid(),
            hostileString.filter((s) => s.length > 0),
          ),
        },
        { weight: wrong, arbitrary: wrongValue },
      ),
      kind: fc.constant(kind),
      group: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(...KINDS[kind].groups.map((g) => g.group)) },
        { weight: 1, arbitrary: hostileString },
      ),
      operation: fc.oneof(
        { weight: 16, arbitrary: fc.constantFrom('CREATE', 'UPDATE', 'CREATE', 'UPDATE', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT') },
        { weight: 1, arbitrary: hostileString },
        { weight: wrong, arbitrary: wrongValue },
      ),
      namespace: fc.oneof(
        { weight: 8, arbitrary: str(NAMESPACES) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: wrong, arbitrary: wrongValue },
      ),
      name: fc.oneof(
        { weight: 8, arbitrary: str(NAMES) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: wrong, arbitrary: wrongValue },
      ),
      object: fc.constant(object),
      oldObject: fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constant(object) },
        { weight: 1, arbitrary: anyJson },
      ),
      userInfo: fc.oneof(
        { weight: 6, arbitrary: fc.constant({ username: 'alice', groups: ['system:authenticated'] }) },
        { weight: 1, arbitrary: fc.record({ username: hostileString, groups: fc.array(hostileString, { maxLength: 2 }) }) },
        { weight: wrong, arbitrary: wrongValue },
      ),
      dryRun: fc.oneof({ weight: 6, arbitrary: fc.boolean() }, { weight: wrong, arbitrary: wrongValue }),
    }),
  );
}

/** The body of a valid AdmissionReview that every rule allows (a CREATE of a lone IPPool), for the transport tests. */
export function validPoolReview(uid: string): string {
  return reviewBody({
    uid,
    kind: 'IPPool',
    group: 'projectcalico.org',
    operation: 'CREATE',
    namespace: '',
    name: 'p',
    object: { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.99.0.0/16' } },
    oldObject: undefined,
    userInfo: undefined,
    dryRun: false,
  });
}

/** The AdmissionReview body of `parts` (as JSON text). */
export function reviewBody(p: ReviewParts, extra: Record<string, unknown> = {}): string {
  return toJson(reviewDoc(p, extra));
}

/** The AdmissionReview of `parts` as a value for `toJson` (RawJson leaves allowed). */
export function reviewDoc(p: ReviewParts, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const request = compact({
    uid: p.uid,
    kind: { group: p.group, version: 'v1', kind: p.kind },
    resource: { group: p.group, version: 'v1', resource: KINDS[p.kind].resource },
    operation: p.operation,
    namespace: p.namespace,
    name: p.name,
    userInfo: p.userInfo,
    object: p.object,
    oldObject: p.oldObject,
    dryRun: p.dryRun,
    ...extra,
  });
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

/**
 * `root` with `value` at `path`, parents created (an index pads the array with
 * empty objects) and replaced when not containers; `root` itself is not changed.
 */
export function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const arr: unknown[] = Array.isArray(root) ? [...(root as unknown[])] : [];
    while (arr.length <= head) arr.push({});
    arr[head] = setAt(arr[head], rest, value);
    return arr;
  }
  const entries = root && typeof root === 'object' && !Array.isArray(root) && !(root instanceof RawJson) ? Object.entries(root) : [];
  const current = entries.find(([k]) => k === head)?.[1];
  return objectOf([...entries.filter(([k]) => k !== head), [head!, setAt(current, rest, value)]]);
}

// ---------------------------------------------------------------------------
// The app under test: real rules, a realistic state.

export function fixtureText(path: string): string {
  return readFileSync(new URL(path, FIXTURES), 'utf-8');
}

/** Fixtures (licence, Elasticsearches, a transport CA, IPPools, RCCs) plus a labelled CA ConfigMap and licence Secrets. */
export function realisticState(): MemoryClusterState {
  const docs = [
    ...parseManifests(fixtureText('eck/license-enterprise.yaml'), 'license-enterprise.yaml'),
    ...parseManifests(fixtureText('eck/api-key-model.yaml'), 'api-key-model.yaml'),
    ...parseManifests(fixtureText('eck/external-ca.yaml'), 'external-ca.yaml'),
    ...parseManifests(fixtureText('calico/federation-example.yaml'), 'federation-example.yaml'),
    ...parseManifests(fixtureText('calico/calico-docs-rcc-etcd.yaml'), 'calico-docs-rcc-etcd.yaml'),
  ];
  const { state, problems } = addToState(docs);
  assert.deepEqual(problems, []);
  const ca = (parseManifests(fixtureText('eck/external-ca.yaml'), 'x')[0]!.object as { data: Record<string, string> }).data['ca.crt']!;
  for (const ns of ['ns-one', 'ns-two', 'default']) {
    state.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'labelled-ca', namespace: ns, labels: { 'remote-cluster-guard.io/transport-ca-for': 'cluster-x' } },
      data: { 'ca.crt': ca },
    });
  }
  // A licence Secret the rules must read without ever echoing it.
  state.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'eck-license', namespace: 'elastic-system', labels: { 'license.k8s.elastic.co/scope': 'operator' } },
    stringData: { license: '{"license":{"type":"enterprise","start_date_in_millis":0,"expiry_date_in_millis":99999999999999}}' },
  });
  return state;
}

/** Log lines written by a logger created with `createLogger(level, sink)`. */
export function logSink(): { sink: Writable; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { sink, lines };
}

export function hostileApp(opts: { maxBodyBytes?: number; state?: MemoryClusterState; bodyBudget?: BodyBudget } = {}) {
  const { sink, lines } = logSink();
  const log = createLogger('debug', sink);
  const listener = createRequestListener({
    engine: new Engine(ALL_RULES, { operatorNamespace: 'elastic-system', now: () => TEST_NOW }),
    state: opts.state ?? realisticState(),
    log,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(opts.bodyBudget ? { bodyBudget: opts.bodyBudget } : {}),
    ready: () => ({ ready: true }),
  });
  return { listener, logs: lines };
}

// ---------------------------------------------------------------------------
// The answer checks.

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The request as the server read it, when the body is a JSON object with one:
 * parsed from the body as sent on the wire (UTF-8, where a lone surrogate of
 * the JS string becomes U+FFFD).
 */
function requestOf(body: string): { uid: unknown; object: unknown } | undefined {
  // Both endpoints get the same body: parse it once (only /mutate changes the object, by its patch).
  if (body === lastRequest.body) return lastRequest.parsed;
  const parsed = parseRequest(body);
  lastRequest = { body, parsed };
  return parsed;
}
let lastRequest: { body: string | undefined; parsed: { uid: unknown; object: unknown } | undefined } = {
  body: undefined,
  parsed: undefined,
};

function parseRequest(body: string): { uid: unknown; object: unknown } | undefined {
  try {
    const doc = JSON.parse(Buffer.from(body, 'utf-8').toString('utf-8')) as { request?: { uid?: unknown; object?: unknown } };
    return doc && typeof doc === 'object' && doc.request && typeof doc.request === 'object'
      ? { uid: doc.request.uid, object: doc.request.object }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every answer is a well-formed AdmissionReview (200) whose denial has a 4xx
 * code and a one-line message and whose patch applies to the object, or a 4xx
 * Status with a one-line message. Returns the parsed body.
 */
export function checkAnswer(path: '/validate' | '/mutate', body: string, res: Answer): Record<string, unknown> {
  assert.ok(res.status < 500, `no 5xx: got ${res.status} ${res.text.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const doc = JSON.parse(res.text) as Record<string, unknown>;
  if (res.status !== 200) {
    assert.ok(res.status >= 400 && res.status < 500, `4xx: ${res.status}`);
    assert.equal(doc['apiVersion'], 'v1');
    assert.equal(doc['kind'], 'Status');
    assert.equal(doc['code'], res.status);
    assertOneLine(doc['message'], 'Status message');
    return doc;
  }
  assert.equal(doc['apiVersion'], 'admission.k8s.io/v1');
  assert.equal(doc['kind'], 'AdmissionReview');
  const response = doc['response'] as Record<string, unknown>;
  assert.equal(typeof response, 'object');
  const sent = requestOf(body);
  assert.ok(sent, 'a 200 answers a request');
  assert.equal(response['uid'], sent.uid);
  assert.equal(typeof response['allowed'], 'boolean');
  if (response['allowed'] === false) {
    const status = response['status'] as { code: number; message: string; details?: { causes: { message: string; field: string }[] } };
    assert.ok(status.code >= 400 && status.code < 500, `denial code 4xx, got ${status.code}: ${status.message}`);
    assertOneLine(status.message, 'denial message');
    assert.ok(status.message.length > 0, 'denial message not empty');
    for (const c of status.details?.causes ?? []) {
      assertOneLine(c.message, 'cause message');
      assertOneLine(c.field, 'cause field');
    }
    assert.equal(response['patch'], undefined, 'no patch on a denial');
  }
  for (const w of (response['warnings'] as unknown[] | undefined) ?? []) assertOneLine(w, 'warning');
  for (const [k, v] of Object.entries((response['auditAnnotations'] as Record<string, unknown> | undefined) ?? {})) {
    assertOneLine(k, 'audit annotation key');
    assertOneLine(v, 'audit annotation value');
  }
  if (response['patch'] !== undefined) {
    assert.equal(path, '/mutate', '/validate never patches');
    assert.equal(response['patchType'], 'JSONPatch');
    const ops = JSON.parse(Buffer.from(response['patch'] as string, 'base64').toString('utf-8')) as fjp.Operation[];
    assert.ok(Array.isArray(ops) && ops.length > 0, 'patch is a non-empty JSON array');
    // Each operation is validated against the object before it is applied (fjp.validate would
    // deep-clone it recursively); `sent.object` is a fresh parse of the body, ours to change.
    assert.doesNotThrow(() => fjp.applyPatch(sent.object, ops, true, true, true), 'the patch applies to the object');
  } else {
    assert.equal(response['patchType'], undefined);
  }
  return doc;
}

/**
 * fast-check parameters shared by the suite: a report that states the error
 * first and cuts the counterexample (10k-deep bodies are megabytes), with the
 * seed and path to replay it (RCG_FC_SEED sets the seed of every property).
 */
export function fcParams<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env['RCG_FC_SEED'];
  return {
    numRuns,
    ...(seed ? { seed: Number(seed) } : {}),
    endOnFailure: true,
    reporter: (details) => {
      if (!details.failed) return;
      const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      const example = fc.stringify(details.counterexample);
      throw new Error(
        `property failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}"): ${error}\n` +
          `counterexample (${example.length} chars): ${example.length > 3000 ? example.slice(0, 3000) + '…' : example}`,
      );
    },
  };
}

/**
 * The hostile app on a plain HTTP server for one test file: started before its
 * tests, stopped after them, and after each test checked for prototype
 * pollution and unhandled rejections. `logs` is the decision log so far.
 */
export function useHostileServer(): { readonly server: http.Server; readonly logs: string[] } {
  const trap = trapUnhandledRejections();
  let server: http.Server | undefined;
  let logs: string[] = [];
  before(async () => {
    const app = hostileApp();
    logs = app.logs;
    server = http.createServer(app.listener);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    trap.assertNone();
  });
  afterEach(() => {
    assertNoPollution();
    trap.assertNone();
  });
  return {
    get server() {
      return server!;
    },
    get logs() {
      return logs;
    },
  };
}

/** The real HTTPS server of a transport suite: its port and the CA that verifies it, set once the suite's `before` has run. */
export interface SuiteServer {
  port: number;
  caCert: string;
}

/**
 * Starts the webhook's own HTTPS server (createHttpsServer, a throwaway
 * certificate) on 127.0.0.1 before the calling suite, with `listener` and
 * the server options it gives, and after it closes the server, removes the
 * certificate and checks that no rejection went unhandled and nothing was
 * polluted.
 */
export function suiteHttpsServer(
  name: string,
  listener: HttpsOptions['listener'],
  options: Pick<HttpsOptions, 'timeouts' | 'limits'> = {},
): SuiteServer {
  const trap = trapUnhandledRejections();
  const dir = mkdtempSync(join(tmpdir(), `rcg-${name}-`));
  const bundle = generateCertificates({ service: 'rcg', namespace: name, validityDays: 1 });
  const suite: SuiteServer = { port: 0, caCert: bundle.caCert };
  let server: https.Server | undefined;
  before(async () => {
    const paths = writeCertificates(dir, bundle);
    const certificate = new ServingCertificate({ certFile: paths.cert, keyFile: paths.key }, createLogger('silent'));
    server = createHttpsServer({ port: 0, certificate, listener, ...options });
    suite.port = await listen(server, 0, '127.0.0.1');
  });
  after(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    rmSync(dir, { recursive: true, force: true });
    trap.assertNone();
    assertNoPollution();
  });
  return suite;
}
