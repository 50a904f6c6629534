/**
 * The Helm chart (deploy/helm/remote-cluster-guard) agrees with the lists in
 * src/, without running helm:
 * - files/webhook-rules.yaml, the one list both webhook configurations
 *   register, is exactly every (group, version, resource) of every admitted
 *   kind in src/kube/kinds.ts, in the kind's scope, for CREATE and UPDATE
 *   (the operations the engine runs rules on), each once;
 * - values.schema.json allows exactly the rule ids of ALL_RULES in
 *   `config.rules`, with exactly the modes of RULE_MODES, so a mistyped rule
 *   fails at `helm install` instead of in the webhook's reload;
 * - the `config` of values.yaml is a configuration file the webhook accepts,
 *   and the schema's `config` keys are its keys.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../../src/config/config-file.js';
import { RULE_MODES } from '../../../src/config/policy.js';
import { HANDLED_KINDS, KINDS } from '../../../src/kube/kinds.js';
import { ALL_RULES } from '../../../src/rules/index.js';

const chartFile = (path: string) => readFileSync(new URL(`../../../deploy/helm/remote-cluster-guard/${path}`, import.meta.url), 'utf-8');

interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  scope: string;
}

describe('deploy/helm/remote-cluster-guard agrees with src/', () => {
  it('files/webhook-rules.yaml registers every group, version and resource of every admitted kind, in its scope, for CREATE and UPDATE', () => {
    const rules = parse(chartFile('files/webhook-rules.yaml')) as WebhookRule[];
    const registered = rules.flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.apiVersions.flatMap((v) =>
          r.resources.map((res) => ({ gvr: `${g}/${v}/${res}`, scope: r.scope, operations: [...r.operations].sort() })),
        ),
      ),
    );
    const expected = HANDLED_KINDS.flatMap((k) =>
      KINDS[k].groups.flatMap((g) =>
        g.versions.map((v) => ({
          gvr: `${g.group}/${v}/${KINDS[k].resource}`,
          scope: KINDS[k].clusterScoped ? 'Cluster' : 'Namespaced',
          operations: ['CREATE', 'UPDATE'],
        })),
      ),
    );
    const byGvr = (a: { gvr: string }, b: { gvr: string }) => a.gvr.localeCompare(b.gvr);
    assert.deepEqual(registered.sort(byGvr), expected.sort(byGvr));
  });

  const schema = JSON.parse(chartFile('values.schema.json')) as {
    properties: { config: { properties: Record<string, { properties?: Record<string, { enum?: string[] }> }> } };
  };

  it('values.schema.json allows exactly the rule ids of ALL_RULES in config.rules, each with the modes of RULE_MODES', () => {
    const rules = schema.properties.config.properties['rules']!.properties!;
    assert.deepEqual(Object.keys(rules).sort(), [...new Set(ALL_RULES.map((r) => r.id))].sort());
    for (const [id, rule] of Object.entries(rules)) assert.deepEqual(rule.enum, [...RULE_MODES], id);
  });

  it("values.yaml's config is a configuration file the webhook accepts, with the keys the schema lists", () => {
    const config = (parse(chartFile('values.yaml')) as { config: Record<string, unknown> }).config;
    const ids = ALL_RULES.map((r) => r.id);
    assert.doesNotThrow(() => parseConfig(stringify(config), 'values.yaml config', ids));
    assert.deepEqual(Object.keys(config).sort(), Object.keys(schema.properties.config.properties).sort());
    // Every key the schema allows is one the file accepts: a key the webhook does not know is refused.
    assert.throws(() => parseConfig(stringify({ ...config, unknownKey: 1 }), 'x', ids), /unknownKey: unknown key/);
  });
});
