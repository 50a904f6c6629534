/**
 * The label index of EckStore: `configMapsWithLabel` and `secretsWithLabel`
 * answer from it (no scan of every ConfigMap) and must say exactly what a scan
 * would say, through upserts that change labels or namespaces and deletes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ConfigMap, Secret } from '../../../src/kube/core.js';
import { LICENSE_SCOPE_LABEL } from '../../../src/kube/elasticsearch.js';
import { EckStore } from '../../../src/state/memory/eck-store.js';

const NAMESPACES = ['a', 'b'];
const NAMES = ['x', 'y', 'z'];
const LABEL_KEYS = ['team', 'remote-cluster-guard.io/transport-ca-for', LICENSE_SCOPE_LABEL];
const VALUES = ['one', 'two', 'operator'];

const labelsArb = fc.option(fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...VALUES), { maxKeys: 3 }), { nil: undefined });
const opArb = fc.record({
  kind: fc.constantFrom('upsert', 'delete'),
  object: fc.constantFrom('ConfigMap', 'Secret'),
  namespace: fc.constantFrom(...NAMESPACES),
  name: fc.constantFrom(...NAMES),
  labels: labelsArb,
});

/** What a scan of every object answers, as sorted keys. */
function scan<T extends { metadata: { namespace?: string; name?: string; labels?: Record<string, string> } }>(
  all: Map<string, T>,
  namespace: string,
  key: string,
  value: string,
): string[] {
  return [...all.entries()]
    .filter(([, o]) => (o.metadata.namespace ?? '') === namespace && o.metadata.labels?.[key] === value)
    .map(([k]) => k)
    .sort();
}

const keysOf = (list: { metadata: { namespace?: string; name?: string } }[]) =>
  list.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();

describe('EckStore label index', () => {
  it('answers exactly what a scan answers after any sequence of upserts and deletes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const store = new EckStore();
        const configMaps = new Map<string, ConfigMap>();
        const secrets = new Map<string, Secret>();
        for (const op of ops) {
          const key = `${op.namespace}/${op.name}`;
          const metadata = { namespace: op.namespace, name: op.name, ...(op.labels ? { labels: op.labels } : {}) };
          const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata };
          const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata };
          if (op.object === 'ConfigMap') {
            if (op.kind === 'upsert') {
              store.upsertConfigMap(cm);
              configMaps.set(key, cm);
            } else {
              store.deleteConfigMap({ namespace: op.namespace, name: op.name });
              configMaps.delete(key);
            }
          } else if (op.kind === 'upsert') {
            // The store keeps licence Secrets only: mirror that rule in the model.
            if (store.upsertSecret(secret)) secrets.set(key, secret);
          } else {
            store.deleteSecret({ namespace: op.namespace, name: op.name });
            secrets.delete(key);
          }
        }
        for (const ns of [...NAMESPACES, 'c'])
          for (const k of LABEL_KEYS)
            for (const v of VALUES) {
              assert.deepEqual(keysOf(store.configMapsWithLabel(ns, k, v)), scan(configMaps, ns, k, v));
              assert.deepEqual(keysOf(store.secretsWithLabel(ns, k, v)), scan(secrets, ns, k, v));
            }
      }),
      { numRuns: 300 },
    );
  });

  it('does not match a label inherited from Object.prototype', () => {
    const store = new EckStore();
    store.upsertConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'a', name: 'x', labels: { team: 'one' } } });
    assert.deepEqual(store.configMapsWithLabel('a', 'constructor', 'one'), []);
    assert.deepEqual(store.configMapsWithLabel('a', 'toString', 'function toString() { [native code] }'), []);
  });
});
