/**
 * The e2e suite installs a CRD for every admitted kind in each of its groups
 * (test/e2e/crds/*.yaml), with the list's plural, scope and versions: a kind
 * added to src/kube/kinds.ts without one would go untested end to end, and
 * its e2e writes would fail with "no matches for kind" rather than here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { HANDLED_KINDS, KINDS } from '../../../src/kube/kinds.js';

interface Crd {
  kind: string;
  spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string; served: boolean }[] };
}

const DIR = new URL('../../e2e/crds/', import.meta.url);

const crds: Crd[] = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((f) => parseAllDocuments(readFileSync(new URL(f, DIR), 'utf-8')).map((d) => d.toJS() as Crd))
  .filter((d) => d.kind === 'CustomResourceDefinition');

describe('the e2e CRDs agree with the kind list', () => {
  for (const kind of HANDLED_KINDS) {
    const info = KINDS[kind];
    for (const { group, versions } of info.groups) {
      it(`${kind} in ${group}: a CRD with plural ${info.resource}, its scope and versions ${versions.join(', ')} served`, () => {
        const found = crds.filter((c) => c.spec.group === group && c.spec.names.plural === info.resource);
        assert.equal(found.length, 1, `one CRD for ${info.resource}.${group} in test/e2e/crds`);
        const crd = found[0]!;
        assert.equal(crd.spec.names.kind, kind);
        assert.equal(crd.spec.scope, info.clusterScoped ? 'Cluster' : 'Namespaced');
        for (const v of versions)
          assert.ok(
            crd.spec.versions.some((s) => s.name === v && s.served),
            `${info.resource}.${group} serves ${v}`,
          );
      });
    }
  }
});
