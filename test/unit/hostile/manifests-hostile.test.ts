/**
 * Hostile manifests for `validate`: `parseManifests` either returns documents
 * or throws a ManifestError with one line naming the file (never another
 * error); `runValidate` on hostile state and input files either answers, with
 * one output line per finding and patch and parseable JSON, or throws a
 * ManifestError; and a few runs of the real CLI exit 0, 1 or 2 with one-line
 * errors. Prototype keys in every map (labels, annotations, ConfigMap and
 * Secret data), deep nesting, unicode and huge documents included.
 */
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { formatJson, formatText } from '../../../src/cli/output/index.js';
import { runValidate, type ValidateResult } from '../../../src/cli/validate.js';
import { INTERNAL_ERROR_RULE } from '../../../src/engine/engine.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { ManifestError, parseManifests } from '../../../src/state/manifests.js';
import { runCli } from '../../helpers/cli.js';
import { TEST_NOW } from '../../helpers/engine.js';
import {
  anyJson,
  codePoints,
  assertNoPollution,
  assertOneLine,
  elasticsearchArb,
  fcParams,
  fixtureText,
  hostileKey,
  hostileString,
  ipPoolArb,
  objectOf,
  pollutionPayload,
  rccArb,
  toJson,
  trapUnhandledRejections,
  wrongValue,
} from './support.js';

const trap = trapUnhandledRejections();
const dir = mkdtempSync(join(tmpdir(), 'rcg-hostile-manifests-'));
let fileNo = 0;
function file(name: string, text: string): string {
  const p = join(dir, `${fileNo++}-${name}`);
  writeFileSync(p, text);
  return p;
}

after(() => {
  rmSync(dir, { recursive: true, force: true });
  trap.assertNone();
});
afterEach(() => {
  assertNoPollution();
  trap.assertNone();
});

const CA = (parseManifests(fixtureText('eck/external-ca.yaml'), 'x')[0]!.object as { data: Record<string, string> }).data['ca.crt']!;

/** A data map with prototype keys and hostile keys and values, sometimes with wrong-typed values. */
const dataMap = (known: [string, fc.Arbitrary<unknown>][]) =>
  fc
    .tuple(
      fc.array(
        fc.tuple(
          hostileKey,
          fc.oneof(
            { weight: 6, arbitrary: hostileString },
            { weight: 1, arbitrary: wrongValue },
            { weight: 1, arbitrary: pollutionPayload },
          ),
        ),
        { maxLength: 4 },
      ),
      fc.tuple(...known.map(([k, v]) => v.map((x) => [k, x] as const))),
    )
    .map(([junk, k]) => objectOf([...junk, ...k]));

const configMap = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('ConfigMap'),
  metadata: fc.record({
    name: fc.constantFrom('elastic-licensing', 'remote-certs', 'labelled-ca', '__proto__', 'constructor'),
    namespace: fc.constantFrom('elastic-system', 'default', 'ns-one', '__proto__'),
    labels: dataMap([['remote-cluster-guard.io/transport-ca-for', fc.constantFrom('cluster-x', 'cluster-one', '__proto__')]]),
  }),
  data: dataMap([
    ['ca.crt', fc.constantFrom(CA, 'not a pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', CA.replace('MII', 'MIJ'))],
    ['eck_license_level', fc.constantFrom('enterprise', 'basic', '__proto__', 'enterprise_trial')],
    ['eck_license_expiry_date', fc.constantFrom('2030-01-01T00:00:00Z', 'never', '')],
  ]),
});

const secretObject = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Secret'),
  metadata: fc.record({
    name: fc.constantFrom('eck-license', 'trial', '__proto__'),
    namespace: fc.constant('elastic-system'),
    labels: dataMap([
      ['license.k8s.elastic.co/scope', fc.constantFrom('operator', '__proto__')],
      ['license.k8s.elastic.co/type', fc.constantFrom('enterprise_trial', 'x')],
    ]),
    annotations: dataMap([['elastic.co/eula', fc.constantFrom('accepted', 'no')]]),
    creationTimestamp: fc.constantFrom('2026-05-20T00:00:00Z', 'soon'),
  }),
  stringData: dataMap([
    [
      'license',
      fc.constantFrom(
        '{"license":{"type":"enterprise","start_date_in_millis":0,"expiry_date_in_millis":99999999999999}}',
        '{"__proto__":{"polluted":"yes"},"license":{"type":"enterprise_trial","start_date_in_millis":-1e400,"expiry_date_in_millis":1e400}}',
        '{"license":{"constructor":{"prototype":{"polluted":"yes"}},"type":"\\u0000","start_date_in_millis":"0","expiry_date_in_millis":[]}}',
        '['.repeat(20_000),
        'not json',
      ),
    ],
  ]),
});

/** Any object a manifest may hold: handled kinds (right or wrong types), ConfigMaps, Secrets, Lists, junk. */
const manifestObject: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: elasticsearchArb(0) },
  { weight: 1, arbitrary: elasticsearchArb(1) },
  { weight: 2, arbitrary: ipPoolArb(0) },
  { weight: 1, arbitrary: ipPoolArb(1) },
  { weight: 2, arbitrary: rccArb(0) },
  { weight: 1, arbitrary: rccArb(1) },
  { weight: 2, arbitrary: configMap },
  { weight: 1, arbitrary: secretObject },
  { weight: 1, arbitrary: anyJson },
);

/** A manifest text: YAML documents, a JSON document or a List, of hostile objects. */
const manifestText: fc.Arbitrary<string> = fc.oneof(
  fc.array(manifestObject, { minLength: 1, maxLength: 5 }).map((objects) => objects.map((o) => stringify(o)).join('---\n')),
  fc.array(manifestObject, { minLength: 1, maxLength: 5 }).map((objects) => toJson({ apiVersion: 'v1', kind: 'List', items: objects })),
  fc.array(manifestObject, { minLength: 1, maxLength: 3 }).map((objects) => objects.map((o) => toJson(o)).join('\n---\n')),
  fc
    .tuple(fc.array(manifestObject, { minLength: 1, maxLength: 3 }), fc.constantFrom('List', 'ConfigMapList', 'ElasticsearchList'))
    .map(([items, kind]) => stringify({ apiVersion: 'v1', kind, items })),
);

/** Texts that break YAML readers: aliases, tags, merges, deep flow nesting, control characters, BOM, CRLF. */
const hostileYaml: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '---\n---\n...\n',
    '\ufeffapiVersion: v1\nkind: ConfigMap\nmetadata: {name: bom}\n',
    'apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf\r\n',
    'a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
    'a: *undefined\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: merge}\ndata:\n  <<: {__proto__: x, polluted: yes}\n',
    'base: &base {__proto__: {polluted: yes}}\nobj:\n  <<: *base\n',
    '!!js/function "function(){}"\n',
    'x: !!binary aGVsbG8=\n',
    '%YAML 1.1\n---\nx: 2001-12-14\ny: yes\n',
    '? [complex, key]\n: value\n',
    'a: 1\na: 2\n',
    'kind: List\nitems: not-a-list\n',
    'kind: List\nitems: [1, null, "x", [], {kind: Elasticsearch}]\n',
    'kind: ElasticsearchList\napiVersion: v1\nitems:\n  - apiVersion: elasticsearch.k8s.elastic.co/v1\n    kind: Elasticsearch\n    metadata: {name: "a\\nb\\u001b[31m", namespace: "x\\u2028y"}\n    spec: {version: "8.9.0\\r\\n", remoteClusters: [{name: "a b", elasticsearchRef: {name: "\\u0000"}, apiKey: {}}]}\n',
    '\tapiVersion: v1\n',
    'a: "unterminated\n',
    'a: [1, 2\n',
    '\u0000\u0001\u0002',
    '- - - - - - - - - - - - - - - - - - - - - - - - - - - -\n',
    'apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nmetadata: {name: deep}\nspec: {junk: ' +
      '['.repeat(3000) +
      ']'.repeat(3000) +
      '}\n',
    '['.repeat(10_000) + ']'.repeat(10_000),
    '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000),
    'a:\n' + Array.from({ length: 200 }, (_, i) => ' '.repeat(i + 1) + '- x:\n').join(''),
  ),
  // Mangled manifests: a character replaced, or the text cut.
  fc
    .tuple(manifestText, fc.nat(), codePoints({ minLength: 1, maxLength: 2 }))
    .map(([t, i, s]) => t.slice(0, i % (t.length + 1)) + s + t.slice((i % (t.length + 1)) + 1)),
  fc.tuple(manifestText, fc.nat()).map(([t, i]) => t.slice(0, i % (t.length + 1))),
  codePoints({ maxLength: 200 }),
);

function assertManifestError(err: unknown, name: string): void {
  assert.ok(
    err instanceof ManifestError,
    `only a ManifestError is thrown, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
  );
  assertOneLine(err.message, 'manifest error');
  assert.ok(err.message.startsWith(name), `the error names the file: ${err.message}`);
}

/** formatText prints one line per finding and per patch operation, and a summary line. */
function checkOutput(result: ValidateResult): void {
  const text = formatText(result);
  const expected = result.results.reduce((n, r) => n + r.decision.findings.length + r.decision.patch.length, 0) + 1;
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'text ends with a newline');
  assert.equal(lines.length, expected, `one line per finding and patch, got:\n${text.slice(0, 2000)}`);
  for (const line of lines) assertOneLine(line, 'output line');
  const doc = JSON.parse(formatJson(result)) as { objects: unknown[]; problems: string[] };
  assert.equal(doc.objects.length, result.results.length);
  for (const p of result.problems) assertOneLine(p, 'problem');
  for (const r of result.results) {
    const internal = r.decision.findings.find((f) => f.rule === INTERNAL_ERROR_RULE);
    assert.equal(internal, undefined, `no rule fails: ${internal?.message}`);
  }
}

async function validateFiles(files: string[], state: string[]): Promise<ValidateResult | undefined> {
  try {
    return await runValidate({
      files,
      state,
      namespace: 'default',
      operatorNamespace: 'elastic-system',
      rules: ALL_RULES,
      now: () => TEST_NOW,
    });
  } catch (err) {
    assertManifestError(err, '');
    return undefined;
  }
}

describe('hostile manifests', () => {
  it('parseManifests returns documents or throws a one-line ManifestError naming the file', async () => {
    await fc.assert(
      fc.property(fc.oneof(manifestText, hostileYaml), (text) => {
        let docs;
        try {
          docs = parseManifests(text, 'hostile.yaml');
        } catch (err) {
          assertManifestError(err, 'hostile.yaml:');
          return;
        }
        for (const d of docs) {
          assert.equal(d.file, 'hostile.yaml');
          assert.ok(Number.isInteger(d.line) && d.line >= 1, `line ${d.line}`);
        }
        assertNoPollution();
      }),
      fcParams(150),
    );
  });

  it('runValidate on hostile state and input files answers or reports unreadable input, one line per finding', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 4, arbitrary: manifestText }, { weight: 1, arbitrary: hostileYaml }), { minLength: 1, maxLength: 3 }),
        fc.array(manifestText, { maxLength: 2 }),
        async (inputs, states) => {
          const files = inputs.map((t, i) => file(i % 2 ? 'in.json' : 'in.yaml', t));
          const state = states.map((t) => file('state.yaml', t));
          const result = await validateFiles(files, state);
          if (result) {
            checkOutput(result);
            checked += result.results.length;
          }
          assertNoPollution();
        },
      ),
      fcParams(50),
    );
    assert.ok(checked > 30, `objects were checked (${checked})`);
  });

  it('huge remote-cidrs annotations (repeated blocks, invalid entries) and huge lists are judged in time', async () => {
    // 20k ways of writing 10.8.0.0/16 and 20k entries that are no CIDR: about 240 KiB, within the
    // 256 KiB Kubernetes allows for annotations. The validated RCC is also in the state, as its
    // stored version would be on UPDATE, and another RCC declares the same blocks.
    const annotation = (n: number) => Array.from({ length: n }, (_, i) => `10.8.${i >> 8}.${i & 255}/16, x${i}`).join(',');
    const rcc = (name: string, n: number) => ({
      apiVersion: 'projectcalico.org/v3',
      kind: 'RemoteClusterConfiguration',
      metadata: { name, annotations: { 'remote-cluster-guard.io/remote-cidrs': annotation(n) } },
      spec: { datastoreType: 'kubernetes', kubeconfig: '/k' },
    });
    await fc.assert(
      fc.asyncProperty(fc.constant(20_000), fc.constantFrom('10.8.0.0/16', '10.8.0.0/24', '10.0.0.0/8'), async (n, cidr) => {
        const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr, disabled: false } };
        const es = {
          apiVersion: 'elasticsearch.k8s.elastic.co/v1',
          kind: 'Elasticsearch',
          metadata: { name: 'e', namespace: 'x' },
          spec: {
            version: '8.16.1',
            remoteClusters: Array.from({ length: 10_000 }, () => ({ name: 'same', elasticsearchRef: { name: 'e' } })),
          },
        };
        const started = Date.now();
        const result = await validateFiles(
          [file('in.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [rcc('dup', n), pool, es] }))],
          [file('state.json', JSON.stringify(rcc('other', n)))],
        );
        const ms = Date.now() - started;
        assert.ok(result);
        checkOutput(result);
        assert.ok(ms < 5_000, `judged in ${ms} ms`);
        for (const r of result.results) assert.equal(r.decision.allowed, false, `${r.kind} is denied`);
        // validate lists every finding (only the AdmissionResponse is capped): 10,000 self-references, each reported.
        const esFindings = result.results.find((r) => r.kind === 'Elasticsearch')!.decision.findings;
        assert.ok(esFindings.filter((f) => f.rule === 'es-remote-ref').length >= 10_000, `${esFindings.length} findings`);
      }),
      fcParams(1),
    );
  });

  it('the real CLI: hostile files exit 0 or 1 with one line per finding; unreadable input exits 2 with a one-line error', async () => {
    const [objects] = fc.sample(fc.array(manifestObject, { minLength: 8, maxLength: 8 }), { numRuns: 1, seed: 42 });
    const tricky =
      'apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nmetadata: {name: "evil\\nname\\u001b[2J", namespace: "ns\\r\\nx"}\nspec: {version: "8.9.0\\n", remoteClusters: [{name: "a\\nb", elasticsearchRef: {name: "x\\u2028y"}, apiKey: {}}]}\n';
    const input = file('cli.yaml', objects!.map((o) => stringify(o)).join('---\n') + '---\n' + tricky);
    const state = file(
      'cli-state.yaml',
      [fixtureText('eck/license-enterprise.yaml'), fixtureText('calico/federation-example.yaml')].join('\n---\n'),
    );
    const [ok, bad] = await Promise.all([
      runCli(['validate', '--state', state, input]),
      runCli(['validate', '-'], { input: 'a: &a [1]\nb: [' + '*a,'.repeat(200) + '*a]\n---\n' + '['.repeat(5000) }),
    ]);
    assert.ok(ok.code === 0 || ok.code === 1, `exit 0 or 1: ${ok.code} ${ok.stderr}`);
    const lines = ok.stdout.split('\n');
    assert.equal(lines.pop(), '');
    assert.match(lines.at(-1)!, /^\d+ objects checked: \d+ denied, \d+ allowed, \d+ patched$/);
    for (const line of lines.slice(0, -1)) {
      assertOneLine(line, 'CLI line');
      assert.ok(line.startsWith(`${input}:`), `every line names the file: ${line}`);
    }
    assert.ok(
      lines.some((l) => l.includes('evil\\nname\\u001b[2J')),
      'the tricky name is printed escaped',
    );
    for (const line of ok.stderr.split('\n').filter(Boolean)) {
      assert.match(line, /^warning: /);
      assertOneLine(line, 'CLI warning');
    }
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^error: stdin:\d+: [^\n]+\n$/);
    assertOneLine(bad.stderr.trimEnd(), 'CLI error');
  });
});
