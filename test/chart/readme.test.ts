/**
 * The chart's README.md is what helm-docs generates from README.md.gotmpl,
 * Chart.yaml and the `# --` comments of values.yaml (regenerate it with
 * `helm-docs --chart-search-root deploy/helm`), and every value has a
 * description: every leaf of values.yaml is a row of helm-docs' values table,
 * or lies under a documented row (an object documented as a whole, such as
 * `resources`), and every row has a description.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CHART_DIR, helmDocs as runHelmDocs } from './support.js';

const helmDocs = (args: string[]) => runHelmDocs(['--chart-search-root', 'deploy/helm', '--log-level', 'warning', ...args]);

/** Dotted paths of the leaves of `value` (scalars, empty maps and lists; list items as `[i]`, as helm-docs names them). */
function leaves(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? [path] : entries.flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  }
  return [path];
}

describe('the chart README', () => {
  it('is what helm-docs generates (run `helm-docs --chart-search-root deploy/helm` after changing values.yaml or README.md.gotmpl)', async () => {
    const r = await helmDocs(['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(CHART_DIR, 'README.md'), 'utf-8'), r.stdout);
  });

  it('describes every value of values.yaml', async () => {
    // A template of our own prints helm-docs' rows: key, tab, description (a `# --` comment is its AutoDescription).
    const template = join(mkdtempSync(join(tmpdir(), 'rcg-helm-docs-')), 'rows.gotmpl');
    writeFileSync(template, '{{ range .Values }}{{ .Key }}\t{{ or .Description .AutoDescription }}\n{{ end }}');
    const r = await helmDocs(['--dry-run', '--template-files', template]);
    assert.equal(r.code, 0, r.stderr);
    const rows = new Map(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t') as [string, string]),
    );
    assert.ok(rows.size > 10, r.stdout);
    const undescribed = [...rows].filter(([, description]) => !description?.trim()).map(([key]) => key);
    assert.deepEqual(undescribed, [], 'values.yaml: these values need a `# --` comment');

    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf-8')) as unknown;
    const documented = [...rows.keys()];
    const uncovered = leaves(values, '').filter(
      (leaf) => !documented.some((key) => leaf === key || leaf.startsWith(`${key}.`) || leaf.startsWith(`${key}[`)),
    );
    assert.deepEqual(uncovered, [], 'values.yaml leaves that helm-docs does not list');
  });
});
