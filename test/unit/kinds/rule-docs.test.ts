/**
 * Every rule id in the registry (src/rules/index.ts) has a row in the
 * README's rule tables and a line in `remote-cluster-guard rules`, and the
 * README has no row for a rule that does not exist: a rule added, renamed or
 * removed without its documentation fails here.
 *
 * A rule table is a Markdown table whose header's first cell is `rule`; each
 * row's first cell is the id in backticks: | `es-remote-ref` | ... |
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ALL_RULES } from '../../../src/rules/index.js';
import { runCli } from '../../helpers/cli.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf-8');

/** The ids of the rows of every rule table in `markdown`, in order (an id twice if it has two rows). */
function ruleTableIds(markdown: string): string[] {
  const ids: string[] = [];
  let inTable = false;
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false;
      continue;
    }
    const first = line.split('|')[1]?.trim() ?? '';
    if (first === 'rule') inTable = true;
    else if (inTable && !/^-+$/.test(first)) ids.push(/^`([^`]+)`$/.exec(first)?.[1] ?? first);
  }
  return ids;
}

/** GitHub's anchor of a heading: lower case, punctuation other than `-` and `_` dropped, each space a `-`. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchor of the `##`/`###` heading above the rule table row of `id`. */
function sectionOfRow(markdown: string, id: string): string | undefined {
  let section: string | undefined;
  for (const line of markdown.split('\n')) {
    const h = /^#{2,6} (.*)$/.exec(line);
    if (h) section = githubSlug(h[1]!);
    else if (line.startsWith(`| \`${id}\` |`)) return section;
  }
  return undefined;
}

/** Each rule id once, in registry order (a rule id may cover several kinds, one rule object per kind). */
const registryIds = [...new Set(ALL_RULES.map((r) => r.id))];

describe('rule documentation agrees with the rule registry', () => {
  it("the README's rule tables have one row per rule id, and none for an unknown id", () => {
    const rows = ruleTableIds(README);
    assert.ok(rows.length > 0, 'README.md has rule tables (a header row starting `| rule |`)');
    for (const id of registryIds) assert.equal(rows.filter((r) => r === id).length, 1, `README rule tables: one row for ${id}`);
    for (const row of rows) assert.ok(registryIds.includes(row), `README rule tables: row ${row} is no rule id in src/rules`);
  });

  it('`remote-cluster-guard rules` prints one line per rule id with the kinds it covers', async () => {
    const r = await runCli(['rules']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const printed = lines.map((l) => l.split('\t')[0]);
    assert.deepEqual(printed, registryIds);
    for (const line of lines) {
      const [id, kinds] = line.split('\t');
      const expected = ALL_RULES.filter((rule) => rule.id === id).map((rule) => rule.kind);
      assert.deepEqual(kinds?.split(','), expected, `kinds of ${id}`);
    }
  });

  it('`rules --output json` gives id, kinds, summary per kind, default mode and the README section of its row', async () => {
    const r = await runCli(['rules', '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as {
      id: string;
      kinds: string[];
      summaries: Record<string, string>;
      defaultMode: string;
      readme: string;
    }[];
    assert.deepEqual(
      listed.map((l) => l.id),
      registryIds,
    );
    for (const l of listed) {
      const rules = ALL_RULES.filter((rule) => rule.id === l.id);
      assert.deepEqual(
        l.kinds,
        rules.map((rule) => rule.kind),
        `kinds of ${l.id}`,
      );
      assert.deepEqual(l.summaries, Object.fromEntries(rules.map((rule) => [rule.kind, rule.summary])), `summaries of ${l.id}`);
      assert.equal(l.defaultMode, 'enforce');
      const section = sectionOfRow(README, l.id);
      assert.ok(section, `README has a row for ${l.id} under a heading`);
      assert.equal(l.readme, `README.md#${section}`, `anchor of ${l.id}`);
    }
  });

  it('the heading anchor follows GitHub', () => {
    assert.equal(
      githubSlug('Calico federation (`crd.projectcalico.org/v1` and `projectcalico.org/v3`, cluster-scoped)'),
      'calico-federation-crdprojectcalicoorgv1-and-projectcalicoorgv3-cluster-scoped',
    );
    assert.equal(githubSlug('Command line'), 'command-line');
  });

  it('the table parser reads rows and skips other tables', () => {
    const md = [
      '| rule | does |',
      '|---|---|',
      '| `a-rule` | x |',
      '| `b-rule` | y |',
      '',
      '| name | on |',
      '|---|---|',
      '| `not-a-rule` | z |',
      '| rule | kinds | does |',
      '|---|---|---|',
      '| `c-rule` | IPPool | w |',
    ].join('\n');
    assert.deepEqual(ruleTableIds(md), ['a-rule', 'b-rule', 'c-rule']);
  });
});
