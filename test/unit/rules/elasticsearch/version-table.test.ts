/**
 * Elastic's remote-cluster compatibility table against the implementation, cell by
 * cell, from an independent transcription (test/fixtures/eck/version-table.ts),
 * both through `compatibility()` and through the `es-remote-version` rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { remoteVersionRule } from '../../../../src/rules/elasticsearch/remote-version.js';
import { compatibility, describeReach, isCovered } from '../../../../src/rules/elasticsearch/compat-table.js';
import { parseEsVersion, type MajorMinor } from '../../../../src/rules/elasticsearch/version.js';
import { evaluate, stateOf } from '../../../helpers/engine.js';
import { REMOTE_VERSIONS, TABLE_ROWS } from '../../../fixtures/eck/version-table.js';
import { es, ref } from './helpers.js';

function mm(text: string): MajorMinor {
  const [major, minor] = text.split('.').map(Number);
  return { major: major ?? NaN, minor: minor ?? NaN };
}

/** The rule's verdict for local `<l>.0` referencing a remote at `<r>.3`. */
function ruleVerdict(l: string, r: string): 'compatible' | 'incompatible' {
  const state = stateOf(es('ns-two', 'cluster-two', { version: `${r}.3` }));
  const d = evaluate(es('ns-one', 'cluster-one', { version: `${l}.0`, remoteClusters: [ref('two', 'cluster-two', 'ns-two')] }), {
    rules: [remoteVersionRule],
    state,
  });
  assert.ok(
    d.findings.every((f) => f.action === 'deny'),
    `unexpected warning: ${JSON.stringify(d.findings)}`,
  );
  return d.allowed ? 'compatible' : 'incompatible';
}

test('the fixture holds 25 rows of 25 cells', () => {
  assert.equal(TABLE_ROWS.length, 25);
  assert.equal(REMOTE_VERSIONS.length, 25);
  for (const [, cells] of TABLE_ROWS)
    assert.deepEqual(
      cells.split(' ').filter((c) => c !== '✅' && c !== '❌'),
      [],
    );
  for (const [, cells] of TABLE_ROWS) assert.equal(cells.split(' ').length, 25);
});

for (const [local, cells] of TABLE_ROWS) {
  describe(`compatibility table row local ${local}`, () => {
    cells.split(' ').forEach((cell, i) => {
      const remote = REMOTE_VERSIONS[i] ?? '';
      const expected = cell === '✅' ? 'compatible' : 'incompatible';
      test(`local ${local} → remote ${remote}: ${expected}`, () => {
        assert.equal(compatibility(mm(local), mm(remote)), expected);
        assert.equal(ruleVerdict(local, remote), expected);
      });
    });
  });
}

describe('asymmetries of the table', () => {
  test('9.0 → 8.19 is incompatible while 8.19 → 9.0 is compatible', () => {
    assert.equal(compatibility(mm('9.0'), mm('8.19')), 'incompatible');
    assert.equal(compatibility(mm('8.19'), mm('9.0')), 'compatible');
  });
  test('8.0 → 7.17 is compatible while 8.1 → 7.17 is not', () => {
    assert.equal(compatibility(mm('8.0'), mm('7.17')), 'compatible');
    assert.equal(compatibility(mm('8.1'), mm('7.17')), 'incompatible');
  });
  test('9.0 → 8.18 is compatible (8.18 shipped with 9.0), 9.1 → 8.18 is not', () => {
    assert.equal(compatibility(mm('9.0'), mm('8.18')), 'compatible');
    assert.equal(compatibility(mm('9.1'), mm('8.18')), 'incompatible');
  });
  test('8.18 reaches 9.0 only, 8.19 every 9.x', () => {
    assert.equal(compatibility(mm('8.18'), mm('9.0')), 'compatible');
    assert.equal(compatibility(mm('8.18'), mm('9.1')), 'incompatible');
    assert.equal(compatibility(mm('8.19'), mm('9.3')), 'compatible');
  });
});

describe('beyond the table, its pattern continues', () => {
  const cases: [string, string, string][] = [
    ['9.4', '9.3', 'compatible'],
    ['9.4', '9.2', 'incompatible'],
    ['9.7', '9.6', 'compatible'],
    ['9.7', '9.12', 'compatible'],
    ['9.0', '9.9', 'compatible'],
    ['9.3', '9.8', 'compatible'],
    ['8.19', '9.9', 'compatible'],
    ['8.18', '9.5', 'incompatible'],
    ['8.17', '9.5', 'incompatible'],
    ['9.5', '8.18', 'incompatible'],
    ['9.5', '8.19', 'incompatible'],
    ['7.17', '9.4', 'incompatible'],
  ];
  for (const [l, r, expected] of cases) {
    test(`local ${l} → remote ${r}: ${expected}`, () => assert.equal(compatibility(mm(l), mm(r)), expected));
  }
});

describe('pairs the table does not cover', () => {
  const cases: [string, string][] = [
    ['7.16', '8.0'],
    ['8.0', '7.10'],
    ['7.8', '7.8'],
    ['10.0', '9.0'],
    ['9.0', '10.1'],
    ['8.20', '8.19'],
    ['6.8', '7.17'],
  ];
  for (const [l, r] of cases) {
    test(`local ${l} → remote ${r}: uncovered`, () => assert.equal(compatibility(mm(l), mm(r)), 'uncovered'));
  }
  test('coverage: 7.17, 8.0 to 8.19, any 9.x', () => {
    assert.deepEqual(
      ['7.16', '7.17', '7.18', '8.0', '8.19', '8.20', '9.0', '9.42', '10.0'].map((v) => isCovered(mm(v))),
      [false, true, false, true, true, false, true, true, false],
    );
  });
});

describe('describeReach', () => {
  test('names the ranges a local version reaches', () => {
    assert.equal(describeReach(mm('8.17')), '8.16 to 8.19');
    assert.equal(describeReach(mm('8.18')), '8.17 to 8.19 and 9.0');
    assert.equal(describeReach(mm('9.0')), '8.18 and 9.0 or any later 9.x');
    assert.equal(describeReach(mm('9.5')), '9.4 or any later 9.x');
    assert.equal(describeReach(mm('7.17')), '7.17 to 8.19');
  });
});

describe('parseEsVersion', () => {
  test('accepts release, pre-release and major.minor versions', () => {
    assert.deepEqual(parseEsVersion('8.16.1'), { major: 8, minor: 16, patch: 1, raw: '8.16.1' });
    assert.deepEqual(parseEsVersion('8.16.1-SNAPSHOT'), { major: 8, minor: 16, patch: 1, raw: '8.16.1-SNAPSHOT' });
    assert.deepEqual(parseEsVersion('9.0'), { major: 9, minor: 0, patch: 0, raw: '9.0' });
    assert.equal(parseEsVersion(' 8.16.1 ')?.minor, 16);
  });
  test('rejects what is not a version', () => {
    for (const bad of [undefined, '', 'latest', '8', 'v', 'eight.sixteen', 'release-8.16.1'])
      assert.equal(parseEsVersion(bad), undefined, String(bad));
  });
});
