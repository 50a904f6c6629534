/**
 * Test helpers: run rules on an object through the real engine and an
 * in-memory state built from plain objects or YAML text.
 */
import { parseAllDocuments } from 'yaml';
import type { Decision } from '../../src/engine/decision.js';
import { Engine, type Phase } from '../../src/engine/engine.js';
import type { AnyRule } from '../../src/engine/rule.js';
import type { Policy } from '../../src/config/policy.js';
import { objectRequest } from '../../src/kube/object-request.js';
import { MemoryClusterState } from '../../src/state/memory-state.js';

/** A fixed clock for tests: 2026-06-01T00:00:00Z. */
export const TEST_NOW = new Date('2026-06-01T00:00:00Z');

/** An in-memory state holding `objects` (plain objects); throws if one does not decode. */
export function stateOf(...objects: unknown[]): MemoryClusterState {
  const state = new MemoryClusterState();
  for (const o of objects) {
    const r = state.apply(o);
    if (r.status === 'invalid') throw new Error(`state object does not decode: ${r.reason}`);
  }
  return state;
}

/** The documents of a YAML text, as plain objects. */
export function yamlDocs(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d != null);
}

export interface EvalOptions {
  rules: readonly AnyRule[];
  state?: MemoryClusterState;
  phase?: Phase;
  oldObject?: unknown;
  operation?: 'CREATE' | 'UPDATE' | 'DELETE';
  namespace?: string;
  now?: Date;
  operatorNamespace?: string;
  policy?: Policy;
}

/** Evaluates `object` as an admission request of its own apiVersion/kind. */
export function evaluate(object: unknown, opts: EvalOptions): Decision {
  const engine = new Engine(opts.rules, {
    operatorNamespace: opts.operatorNamespace ?? 'elastic-system',
    now: () => opts.now ?? TEST_NOW,
    ...(opts.policy ? { policy: opts.policy } : {}),
  });
  const request = objectRequest(object, {
    operation: opts.operation ?? (opts.oldObject ? 'UPDATE' : 'CREATE'),
    oldObject: opts.oldObject,
    namespace: opts.namespace ?? '',
  });
  return engine.evaluate(request, opts.phase ?? 'both', opts.state ?? new MemoryClusterState());
}

/** The findings of a decision as `rule action field` strings, for compact assertions. */
export function summary(d: Decision): string[] {
  return d.findings.map((f) => `${f.rule} ${f.action} ${f.field}`);
}
