/**
 * `validate --output json|sarif|junit|github` (and `audit`) through the real
 * command: SARIF checked against the SARIF 2.1.0 JSON schema, JUnit parsed as
 * XML, GitHub workflow commands against their grammar, and every finding
 * located at its field in a multi-document YAML file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Log } from 'sarif';
import { escapeData, escapeProperty } from '../../../src/cli/output/github.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { runCli } from '../../helpers/cli.js';
import { scratchDir } from '../../helpers/files.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = (p: string) => fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url));
const LICENCE = fixture('eck/license-enterprise.yaml');
// CommonJS modules that also export themselves as `default`, which is what their types describe.
const Ajv = AjvDraft04.default;
const addFormats = ajvFormats.default;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8')) as { name: string; version: string };

const { file } = scratchDir('output');

// Three handled objects after a ConfigMap: denied (object-shape at line 11), warned at line 23 (and patched), clean.
const multi = `apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated, namespace: team-a}
---
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: broken
  namespace: team-a
spec:
  version: 8
---
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: lonely
  namespace: team-a
spec:
  version: 8.16.1
  nodeSets: [{name: default, count: 1}]
  remoteClusters:
    - name: two
      elasticsearchRef:
        name: nowhere
---
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: plain
  namespace: team-a
spec:
  version: 8.16.1
  nodeSets: [{name: default, count: 1}]
`;
const input = file('multi.yaml', multi);
const rel = relative(ROOT, input).split('\\').join('/');
const validate = (output: string) => runCli(['validate', '--output', output, '--state', LICENCE, input]);

/** `::error|warning|notice [key=value,...]::message` with nothing unescaped that the runner would cut at. */
const WORKFLOW_COMMAND = /^::(error|warning|notice)(?: ([A-Za-z]+=[^,:\r\n]*(?:,[A-Za-z]+=[^,:\r\n]*)*))?::([^\r\n]*)$/;
const BAD_ESCAPE = /%(?!25|0D|0A|3A|2C)/;

describe('validate --output json', () => {
  it('has schemaVersion, the tool version, summary counts, per object the operation, per finding the field line', async () => {
    const r = await validate('json');
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.schemaVersion, 1);
    assert.deepEqual(doc.tool, { name: pkg.name, version: pkg.version });
    assert.deepEqual(doc.summary, { objects: 3, denied: 1, warned: 1, patched: 1 });
    assert.equal(doc.allowed, false);
    assert.deepEqual(doc.problems, [`${input}:5: Elasticsearch ignored: spec.version: expected string, received number`]);
    assert.deepEqual(
      doc.objects.map((o: { name: string; line: number; operation: string }) => [o.name, o.line, o.operation]),
      [
        ['broken', 5, 'CREATE'],
        ['lonely', 13, 'CREATE'],
        ['plain', 26, 'CREATE'],
      ],
    );
    const [broken, lonely] = doc.objects;
    assert.deepEqual(broken.findings[0], {
      rule: 'object-shape',
      action: 'deny',
      field: 'spec.version',
      message: broken.findings[0].message,
      line: 11,
      column: 3,
    });
    assert.deepEqual(
      lonely.findings.map((f: { rule: string; field: string; line: number; column: number }) => [f.rule, f.field, f.line, f.column]),
      [['es-remote-ref', 'spec.remoteClusters[0].elasticsearchRef', 23, 7]],
    );
  });
});

describe('validate --output sarif', () => {
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  // The SARIF 2.1.0 schema (rtm.5, as schemastore publishes it), from npm's @microsoft/jest-sarif.
  const schema = ajv.compile(JSON.parse(readFileSync(fixture('sarif/sarif-2.1.0-rtm.5.json'), 'utf-8')));
  const assertValid = (log: unknown) => assert.ok(schema(log), JSON.stringify(schema.errors?.slice(0, 5), null, 2));

  it('validates against the SARIF 2.1.0 schema and carries every rule as a reportingDescriptor', async () => {
    const r = await validate('sarif');
    assert.equal(r.code, 1, r.stderr);
    const log = JSON.parse(r.stdout) as Log;
    assertValid(log);
    assert.equal(log.version, '2.1.0');
    const driver = log.runs[0]!.tool.driver;
    assert.equal(driver.name, pkg.name);
    assert.equal(driver.version, pkg.version);
    const ids = (driver.rules ?? []).map((d) => d.id);
    assert.deepEqual(new Set(ids), new Set([...ALL_RULES.map((x) => x.id), 'object-shape', 'internal-error']));
    assert.equal(ids.length, new Set(ids).size, 'one descriptor per id');
    for (const d of driver.rules ?? []) {
      assert.ok(d.shortDescription?.text && d.fullDescription?.text && d.help?.text, d.id);
    }
    const results = log.runs[0]!.results ?? [];
    assert.deepEqual(
      results.map((x) => {
        const p = x.locations?.[0]?.physicalLocation;
        return [x.ruleId, x.level, p?.artifactLocation?.uri, p?.region?.startLine, p?.region?.startColumn];
      }),
      [
        ['object-shape', 'error', rel, 11, 3],
        ['es-remote-ref', 'warning', rel, 23, 7],
      ],
    );
    for (const x of results) assert.equal(driver.rules?.[x.ruleIndex!]?.id, x.ruleId);
    // The schema check is not vacuous.
    (results[0] as { level: string }).level = 'fatal';
    assert.equal(schema(log), false);
  });

  it('audit: results without a file have a logical location only, still valid', async () => {
    const r = await runCli(['audit', '--output', 'sarif', '--state', input]);
    assert.equal(r.code, 1, r.stderr);
    const log = JSON.parse(r.stdout) as Log;
    assertValid(log);
    const [first] = log.runs[0]!.results ?? [];
    assert.equal(first?.locations?.[0]?.physicalLocation, undefined);
    assert.equal(first?.locations?.[0]?.logicalLocations?.[0]?.fullyQualifiedName, 'Elasticsearch team-a/lonely');
  });
});

describe('validate --output junit', () => {
  it('parses as XML, one testcase per object, a failure per denied object, warnings in system-out', async () => {
    const r = await validate('junit');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(XMLValidator.validate(r.stdout), true);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(r.stdout);
    const suite = xml.testsuites.testsuite;
    assert.equal(suite.name, 'remote-cluster-guard validate');
    const cases = suite.testcase as { classname: string; name: string; failure?: { message: string }; 'system-out'?: string }[];
    assert.deepEqual(
      cases.map((c) => [c.classname, c.name, Boolean(c.failure)]),
      [
        ['Elasticsearch', `team-a/broken (${input}:5)`, true],
        ['Elasticsearch', `team-a/lonely (${input}:13)`, false],
        ['Elasticsearch', `team-a/plain (${input}:26)`, false],
      ],
    );
    assert.match(cases[0]!.failure!.message, /object-shape: spec\.version: expected string/);
    assert.match(cases[1]!['system-out']!, /:23:7: es-remote-ref: spec\.remoteClusters\[0\]\.elasticsearchRef: .* \(warning\)/);
    assert.match(cases[1]!['system-out']!, /es-default-namespace: .* \(patch\)/);
  });
});

describe('validate --output github', () => {
  it('prints one workflow command per finding, at the field, then the summary line', async () => {
    const r = await validate('github');
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.pop(), '3 objects checked: 1 denied, 2 allowed, 1 patched');
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.match(l, WORKFLOW_COMMAND);
      assert.doesNotMatch(l, BAD_ESCAPE);
    }
    const prop = escapeProperty(rel);
    assert.equal(lines[0]!.split('::')[1], `error file=${prop},line=11,col=3,title=object-shape`);
    assert.equal(lines[1]!.split('::')[1], `warning file=${prop},line=23,col=7,title=es-remote-ref`);
  });

  it('escapes file names and messages so each command stays one well-formed line', async () => {
    const odd = file('a,b:c%d.yaml', multi.replace('name: broken', 'name: "broken"'));
    const r = await runCli(['validate', '--output', 'github', '--state', LICENCE, odd]);
    const lines = r.stdout.trimEnd().split('\n').slice(0, -1);
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.match(l, WORKFLOW_COMMAND);
      assert.doesNotMatch(l, BAD_ESCAPE);
      assert.ok(l.includes('a%2Cb%3Ac%25d.yaml,line='), l);
    }
    assert.equal(escapeData('50%\r\nx: y, z'), '50%25%0D%0Ax: y, z');
    assert.equal(escapeProperty('50%\r\nx: y, z'), '50%25%0D%0Ax%3A y%2C z');
  });

  it('audit: notices and errors without a file property', async () => {
    const r = await runCli(['audit', '--output', 'github', '--state', input]);
    const lines = r.stdout.trimEnd().split('\n').slice(0, -1);
    assert.ok(lines.length > 0);
    for (const l of lines) {
      assert.match(l, WORKFLOW_COMMAND);
      assert.doesNotMatch(l, /file=/);
    }
  });
});
