/** Reading manifests: multi-document YAML, JSON, Lists, directories, line numbers, and clear errors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addToState, loadManifests, ManifestError, parseJsonManifest, parseManifests } from '../../../src/state/manifests.js';

describe('parseManifests', () => {
  it('reads every document of a multi-document YAML file with the line it starts on', () => {
    const text = [
      '# a comment',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: a}',
      '---',
      '',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: b}',
      '---',
      '',
    ].join('\n');
    const docs = parseManifests(text, 'f.yaml');
    assert.deepEqual(
      docs.map((d) => [d.line, (d.object as { metadata: { name: string } }).metadata.name]),
      [
        [2, 'a'],
        [7, 'b'],
      ],
    );
  });

  it('reads JSON and expands a List into its items', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'y' } },
      ],
    };
    const docs = parseManifests(JSON.stringify(list, null, 2), 'l.json');
    assert.deepEqual(
      docs.map((d) => (d.object as { metadata: { name: string } }).metadata.name),
      ['x', 'y'],
    );
    assert.ok(docs[1]!.line > docs[0]!.line);
  });

  it('returns nothing for an empty file', () => {
    assert.deepEqual(parseManifests('', 'e.yaml'), []);
    assert.deepEqual(parseManifests('---\n# only a comment\n', 'e.yaml'), []);
  });

  it('reports a YAML syntax error with file and line, on one line', () => {
    assert.throws(
      () => parseManifests('apiVersion: v1\nkind: [ConfigMap\n', 'bad.yaml'),
      (err: unknown) =>
        err instanceof ManifestError && /^bad\.yaml:\d+: YAML syntax error: /.test(err.message) && !err.message.includes('\n'),
    );
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    assert.throws(
      () => parseManifests(bomb, 'bomb.yaml'),
      (e: unknown) => e instanceof ManifestError && /bomb\.yaml:1: cannot read document: .*alias/i.test(e.message),
    );
  });
});

describe('parseJsonManifest (the fast path for .json files)', () => {
  const list = (items: unknown[]) => ({ apiVersion: 'v1', kind: 'List', items });
  const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { 'ca.crt': 'x', items: '[1]' } });
  const shapes: [string, string][] = [
    ['a pretty-printed List', JSON.stringify(list([cm('a'), cm('b'), { kind: 'Nested', items: [cm('c')] }, cm('d')]), null, 2)],
    ['a List with primitives and arrays among the items', JSON.stringify(list([1, cm('a'), [cm('x')], 'two', cm('b')]), null, 1)],
    ['a single object after blank lines', '\n\n' + JSON.stringify(cm('solo'), null, 4)],
    ['a compact one-line List', JSON.stringify(list([cm('a'), cm('b')]))],
    ['an empty List', JSON.stringify(list([]))],
    [
      '"items" as a value and as a nested key before the real items',
      JSON.stringify({ apiVersion: 'v1', note: 'items', meta: { items: [cm('no')] }, kind: 'List', items: [cm('a'), cm('b')] }, null, 2),
    ],
    [
      'items before kind, with escaped keys',
      '{\n"items": [\n{"kind": "ConfigMap", "metadata": {"name": "a"}},\n\n{"kind": "ConfigMap", "metadata": {"name": "b"}}],\n"n\\u0061me": "x", "kind": "List"}',
    ],
  ];
  for (const [what, text] of shapes) {
    it(`gives the objects and lines the YAML parser gives: ${what}`, () => {
      assert.deepEqual(parseJsonManifest(text, 'f.json'), parseManifests(text, 'f.json'));
    });
  }

  it('reads a value nested 200,000 deep without exhausting the stack (JSON.parse accepts it)', () => {
    const depth = 200_000;
    const deep = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const text = `{"apiVersion": "v1", "kind": "List", "items": [\n${JSON.stringify(cm('first'))},\n{"kind": "Deep", "x": ${deep}}]}`;
    const docs = parseJsonManifest(text, 'deep.json');
    assert.deepEqual(
      docs?.map((d) => d.line),
      [2, 3],
    );
    assert.equal((docs?.[1]?.object as { kind: string }).kind, 'Deep');
  });

  it('leaves invalid JSON to the YAML path, which reports the line', () => {
    assert.equal(parseJsonManifest('{"kind": "ConfigMap",\n "x": }', 'bad.json'), undefined);
  });
});

describe('loadManifests', () => {
  it('walks directories for .yaml, .yml and .json files in name order, ignoring others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcg-manifests-'));
    try {
      mkdirSync(join(dir, 'sub'));
      const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;
      writeFileSync(join(dir, 'b.yml'), cm('b'));
      writeFileSync(join(dir, 'a.yaml'), cm('a'));
      writeFileSync(join(dir, 'sub', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }));
      writeFileSync(join(dir, 'README.md'), '# not a manifest');
      const names = loadManifests([dir]).map((d) => (d.object as { metadata: { name: string } }).metadata.name);
      assert.deepEqual(names, ['a', 'b', 'c']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing file', () => {
    assert.throws(() => loadManifests(['/nonexistent/x.yaml']), /\/nonexistent\/x\.yaml: no such file/);
  });
});

describe('addToState', () => {
  it('keeps the kinds the rules read, defaults the namespace, and reports wrong types instead of keeping them', () => {
    const docs = [
      {
        file: 'f',
        line: 1,
        object: {
          apiVersion: 'elasticsearch.k8s.elastic.co/v1',
          kind: 'Elasticsearch',
          metadata: { name: 'es' },
          spec: { version: '8.16.1' },
        },
      },
      {
        file: 'f',
        line: 9,
        object: {
          apiVersion: 'elasticsearch.k8s.elastic.co/v1',
          kind: 'Elasticsearch',
          metadata: { name: 'broken' },
          spec: { version: 816 },
        },
      },
      { file: 'f', line: 20, object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } } },
      {
        file: 'f',
        line: 30,
        object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-password' }, stringData: { password: 'hunter2' } },
      },
    ];
    const { state, problems } = addToState(docs, undefined, 'team-a');
    assert.equal(state.getElasticsearch({ namespace: 'team-a', name: 'es' })?.spec?.version, '8.16.1');
    assert.equal(state.counts().Elasticsearch, 1);
    assert.equal(state.counts().Secret, 0, 'Secrets other than ECK licences are not kept');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^f:9: Elasticsearch ignored: spec\.version: expected string/);
  });
});
