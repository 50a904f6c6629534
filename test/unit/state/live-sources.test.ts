/**
 * The live state's watches of admitted kinds come from the kind list: one
 * source per kind and group, its versions the candidates, named and ordered
 * as the hand-written list was (names show in logs and readiness reasons):
 * Elasticsearch, then IPPool and RemoteClusterConfiguration in
 * crd.projectcalico.org, then both in projectcalico.org.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HANDLED_KINDS, KINDS } from '../../../src/kube/kinds.js';
import { admittedKindSources, type Candidate } from '../../../src/state/live/sources.js';

const crd = (group: string, version: string, plural: string): Candidate => ({
  path: `/apis/${group}/${version}/${plural}`,
  list: () => Promise.reject(new Error('not called')),
});

const sources = admittedKindSources(crd).map((s) => ({ name: s.name, resource: s.resource, paths: s.candidates.map((c) => c.path) }));

describe('live sources of admitted kinds', () => {
  it('one per kind and group, with the watch path of each of its versions in order', () => {
    const expected = HANDLED_KINDS.flatMap((kind) =>
      KINDS[kind].groups.map((g) => ({ resource: kind, paths: g.versions.map((v) => `/apis/${g.group}/${v}/${KINDS[kind].resource}`) })),
    );
    const key = (s: { resource: string; paths: string[] }) => JSON.stringify([s.resource, s.paths]);
    assert.deepEqual(sources.map(key).sort(), expected.map(key).sort());
  });

  it('group by group, in the order the groups first appear in the kind list', () => {
    const groupOf = (path: string) => path.split('/')[2]!;
    const groups = [...new Set(HANDLED_KINDS.flatMap((k) => KINDS[k].groups.map((g) => g.group)))];
    const order = sources.map((s) => groups.indexOf(groupOf(s.paths[0]!)));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  });

  it('named by the kind, with the group where the kind has several (the names logs and readiness show)', () => {
    const names = sources.map((s) => s.name);
    assert.ok(names.includes('Elasticsearch'));
    assert.ok(names.includes('IPPool (crd.projectcalico.org)'));
    assert.ok(names.includes('RemoteClusterConfiguration (projectcalico.org)'));
    assert.equal(new Set(names).size, names.length, 'names are unique');
  });
});
