/**
 * Helpers for the Calico rule tests: objects in either API group, fixtures,
 * and compact assertions on decisions.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { Decision } from '../../../../src/engine/decision.js';
import type { Finding } from '../../../../src/engine/finding.js';
import { calicoRules } from '../../../../src/rules/calico/index.js';
import type { MemoryClusterState } from '../../../../src/state/memory-state.js';
import { evaluate, yamlDocs, type EvalOptions } from '../../../helpers/engine.js';

/** Both API groups the Calico kinds are served in; every test runs in each. */
export const GROUPS = ['crd.projectcalico.org/v1', 'projectcalico.org/v3'] as const;
export type CalicoApiVersion = (typeof GROUPS)[number];

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** A copy of `object` with its apiVersion set to `apiVersion`. */
export function inGroup<T>(object: T, apiVersion: CalicoApiVersion): T {
  return { ...structuredClone(object as Obj), apiVersion } as T;
}

export function pool(
  apiVersion: CalicoApiVersion,
  name: string,
  spec: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
): Obj {
  return { apiVersion, kind: 'IPPool', metadata: { name, ...metadata }, spec };
}

export function rcc(
  apiVersion: CalicoApiVersion,
  name: string,
  spec: Record<string, unknown> | undefined,
  metadata: Record<string, unknown> = {},
): Obj {
  const o: Obj = { apiVersion, kind: 'RemoteClusterConfiguration', metadata: { name, ...metadata } };
  if (spec !== undefined) o.spec = spec;
  return o;
}

const FIXTURES = fileURLToPath(new URL('../../../fixtures/calico/', import.meta.url));

/** The documents of `test/fixtures/calico/<file>`. */
export function fixture(file: string): Obj[] {
  return yamlDocs(readFileSync(FIXTURES + file, 'utf8')) as Obj[];
}

/** Evaluates with all Calico rules (mutate then validate) unless told otherwise. */
export function run(object: unknown, opts: Partial<EvalOptions> & { state?: MemoryClusterState } = {}): Decision {
  return evaluate(object, { rules: calicoRules, ...opts });
}

/** Findings of one rule (and action, if given). */
export function findingsOf(d: Decision, rule: string, action?: 'deny' | 'warn'): Finding[] {
  return d.findings.filter((f) => f.rule === rule && (!action || f.action === action));
}

/** Asserts the decision allows, printing the findings otherwise. */
export function assertAllowed(d: Decision): void {
  assert.equal(d.allowed, true, `expected allowed, got: ${JSON.stringify(d.findings, null, 1)}`);
}

/** Asserts `rule` denies at `field` with a message containing every `parts` string; returns the finding. */
export function assertDenied(d: Decision, rule: string, field: string, ...parts: string[]): Finding {
  assert.equal(d.allowed, false, `expected a denial by ${rule} at ${field}`);
  const hit = d.findings.find(
    (f) => f.rule === rule && f.action === 'deny' && f.field === field && parts.every((p) => f.message.includes(p)),
  );
  assert.ok(hit, `no ${rule} deny at ${field} containing ${JSON.stringify(parts)}; findings: ${JSON.stringify(d.findings, null, 1)}`);
  return hit;
}

/** Asserts `rule` warns at `field` with a message containing every `parts` string. */
export function assertWarned(d: Decision, rule: string, field: string, ...parts: string[]): Finding {
  const hit = d.findings.find(
    (f) => f.rule === rule && f.action === 'warn' && f.field === field && parts.every((p) => f.message.includes(p)),
  );
  assert.ok(hit, `no ${rule} warning at ${field} containing ${JSON.stringify(parts)}; findings: ${JSON.stringify(d.findings, null, 1)}`);
  return hit;
}

/** Asserts `rule` reported nothing. */
export function assertNoFindings(d: Decision, rule: string): void {
  assert.deepEqual(findingsOf(d, rule), [], `unexpected ${rule} findings`);
}
