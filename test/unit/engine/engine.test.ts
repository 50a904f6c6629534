/**
 * The engine's own contract, with stub rules on IPPool objects (the rules'
 * behaviour is tested in test/unit/rules): how a decision is made from what
 * rules return, throw or need, under each policy setting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admissionResponse, MAX_FINDINGS_PER_RULE } from '../../../src/admission/response.js';
import { DEFAULT_POLICY, type Policy, type RuleMode } from '../../../src/config/policy.js';
import { reportedFindings } from '../../../src/engine/decision.js';
import { Engine, INTERNAL_ERROR_RULE, RATCHET_NOTE } from '../../../src/engine/engine.js';
import { deny, warn, type Finding } from '../../../src/engine/finding.js';
import { noMutation, type Mutation, type Rule, type RuleInput } from '../../../src/engine/rule.js';
import type { IPPool } from '../../../src/kube/calico.js';
import { objectRequest } from '../../../src/kube/object-request.js';
import { MemoryClusterState } from '../../../src/state/memory-state.js';

type PoolRule = Rule<'IPPool'>;

const pool = (spec: Record<string, unknown> = { cidr: '10.0.0.0/16' }) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name: 'p' },
  spec,
});

/** A validating stub: returns what `check` returns for the decoded object. */
function validating(id: string, check: (input: RuleInput<IPPool>) => Finding[], extra: Partial<PoolRule> = {}): PoolRule {
  return { id, kind: 'IPPool', summary: id, validate: check, ...extra };
}

/** A mutating stub: returns what `change` returns for the decoded object. */
function mutating(id: string, change: (input: RuleInput<IPPool>) => Mutation, extra: Partial<PoolRule> = {}): PoolRule {
  return { id, kind: 'IPPool', summary: id, mutate: change, ...extra };
}

const policyWith = (p: Partial<Policy>): Policy => ({ ...DEFAULT_POLICY, ...p });

function run(
  rules: PoolRule[],
  opts: { object?: unknown; oldObject?: unknown; policy?: Policy; state?: MemoryClusterState; phase?: 'mutate' | 'validate' | 'both' } = {},
) {
  const engine = new Engine(rules, { operatorNamespace: 'elastic-system', ...(opts.policy ? { policy: opts.policy } : {}) });
  const request = objectRequest(opts.object ?? pool(), {
    operation: opts.oldObject ? 'UPDATE' : 'CREATE',
    oldObject: opts.oldObject,
  });
  return engine.evaluate(request, opts.phase ?? 'both', opts.state ?? new MemoryClusterState());
}

const rows = (findings: readonly { rule: string; action: string; field: string }[]) =>
  findings.map((f) => `${f.rule} ${f.action} ${f.field}`);

describe('a rule that throws', () => {
  it('validate: the request is denied (fail closed) with an internal-error finding naming the rule; other rules still run', () => {
    const d = run([
      validating('boom', () => {
        throw new Error('kaput');
      }),
      validating('after', () => [warn('after', 'spec.cidr', 'still checked')]),
    ]);
    assert.equal(d.allowed, false);
    assert.deepEqual(rows(d.findings), [`${INTERNAL_ERROR_RULE} deny `, 'after warn spec.cidr']);
    assert.match(d.findings[0]!.message, /^rule boom failed \(kaput\); this is a bug in remote-cluster-guard$/);
  });

  it('mutate: denied with internal-error, no patch from the failed rule', () => {
    const d = run(
      [
        mutating('boom', () => {
          throw new TypeError('no');
        }),
      ],
      { phase: 'mutate' },
    );
    assert.equal(d.allowed, false);
    assert.deepEqual(rows(d.findings), [`${INTERNAL_ERROR_RULE} deny `]);
    assert.deepEqual(d.patch, []);
  });
});

describe('many findings', () => {
  const many = (n: number) => validating('many', () => Array.from({ length: n }, (_, i) => deny('many', `spec.x[${i}]`, `bad ${i}`)));

  it('the decision keeps every finding of a rule, past the response cap', () => {
    const d = run([many(MAX_FINDINGS_PER_RULE + 5)]);
    assert.equal(d.findings.length, MAX_FINDINGS_PER_RULE + 5);
    assert.equal(reportedFindings(d).length, MAX_FINDINGS_PER_RULE + 5);
  });

  it('the AdmissionResponse shows the first of each rule and says how many were left out', () => {
    const d = run([many(MAX_FINDINGS_PER_RULE + 5), validating('one', () => [deny('one', 'spec.cidr', 'single')])]);
    const status = admissionResponse('uid', d).status!;
    assert.equal(status.details!.causes.length, MAX_FINDINGS_PER_RULE + 2);
    assert.match(status.message, /many: and 5 more findings like these, not listed; fix those first$/);
    assert.match(status.message, /one: spec\.cidr: single/);
    assert.doesNotMatch(status.message, new RegExp(`bad ${MAX_FINDINGS_PER_RULE}\\b`));
  });

  it('at the cap exactly, nothing is left out', () => {
    const status = admissionResponse('uid', run([many(MAX_FINDINGS_PER_RULE)])).status!;
    assert.equal(status.details!.causes.length, MAX_FINDINGS_PER_RULE);
    assert.doesNotMatch(status.message, /more findings/);
  });
});

describe('a mutation that breaks the schema', () => {
  it('is denied as internal-error naming the rule, and later mutating rules do not run', () => {
    let laterRan = false;
    const d = run(
      [
        mutating('breaks', () => ({ patch: [{ op: 'replace', path: '/spec/cidr', value: 42 }], findings: [] })),
        mutating('later', () => {
          laterRan = true;
          return noMutation();
        }),
      ],
      { phase: 'mutate' },
    );
    assert.equal(d.allowed, false);
    assert.deepEqual(rows(d.findings), [`${INTERNAL_ERROR_RULE} deny `]);
    assert.match(
      d.findings[0]!.message,
      /^rule breaks produced an invalid object \(spec\.cidr: .*\); this is a bug in remote-cluster-guard$/,
    );
    assert.equal(laterRan, false);
  });

  it('a valid patch is seen by the next mutating rule and by the validating rules (as chained webhooks would)', () => {
    const seen: string[] = [];
    const d = run([
      mutating('first', () => ({ patch: [{ op: 'add', path: '/spec/blockSize', value: 26 }], findings: [] })),
      mutating('second', (i) => (seen.push(`second ${i.object.spec?.blockSize}`), noMutation())),
      validating('check', (i) => (seen.push(`check ${i.object.spec?.blockSize}`), [])),
    ]);
    assert.deepEqual(seen, ['second 26', 'check 26']);
    assert.deepEqual(d.patch, [{ op: 'add', path: '/spec/blockSize', value: 26 }]);
    assert.deepEqual(d.mutations, [{ rule: 'first', patch: d.patch }]);
  });
});

describe('state that has not synced', () => {
  const unsynced = () => {
    const s = new MemoryClusterState();
    s.setSynced('IPPool', false);
    return s;
  };
  const needsPools = { needs: ['IPPool'] as const };

  it('mutate: the rule is not run; a warning says the object was not defaulted, and the request is allowed', () => {
    let ran = false;
    const d = run(
      [
        mutating(
          'defaults',
          () => ((ran = true), { patch: [{ op: 'add', path: '/spec/blockSize', value: 26 }], findings: [] }),
          needsPools,
        ),
      ],
      { state: unsynced(), phase: 'mutate' },
    );
    assert.equal(ran, false);
    assert.equal(d.allowed, true);
    assert.deepEqual(d.patch, []);
    assert.deepEqual(rows(d.findings), ['defaults warn ']);
    assert.match(d.findings[0]!.message, /^not defaulted: the webhook is still reading IPPools from the cluster/);
  });

  it('validate: denied by default ("cannot verify yet"), a warning with unsynced: warn; the rule is not run', () => {
    let ran = false;
    const rule = validating('checks', () => ((ran = true), []), needsPools);
    const denied = run([rule], { state: unsynced() });
    assert.equal(denied.allowed, false);
    assert.deepEqual(rows(denied.findings), ['checks deny ']);
    assert.match(denied.findings[0]!.message, /^cannot verify yet: the webhook is still reading IPPools/);
    const warned = run([rule], { state: unsynced(), policy: policyWith({ unsynced: 'warn' }) });
    assert.equal(warned.allowed, true);
    assert.deepEqual(rows(warned.findings), ['checks warn ']);
    assert.equal(ran, false);
  });

  it('a rule whose needs are synced runs as usual', () => {
    const d = run([validating('checks', () => [deny('checks', 'spec.cidr', 'x')], needsPools)]);
    assert.deepEqual(rows(d.findings), ['checks deny spec.cidr']);
  });
});

describe('setPolicy', () => {
  it('a request being evaluated keeps the policy it started with; the next request gets the new one', () => {
    const switcher = validating('switcher', () => {
      engine.setPolicy(policyWith({ modes: { target: 'off' } }));
      return [];
    });
    const target = validating('target', () => [deny('target', 'spec.cidr', 'no')]);
    const engine = new Engine([switcher, target], { operatorNamespace: 'elastic-system' });
    const request = () => objectRequest(pool(), { operation: 'CREATE' });
    const during = engine.validate(request(), new MemoryClusterState());
    assert.deepEqual(rows(during.findings), ['target deny spec.cidr']);
    const after = engine.validate(request(), new MemoryClusterState());
    assert.deepEqual(rows(after.findings), []);
    assert.equal(after.allowed, true);
  });
});

describe('ratcheting on UPDATE', () => {
  const byCidr = validating('ratchet', (i) => (i.object.spec?.cidr?.startsWith('10.') ? [deny('ratchet', 'spec.cidr', 'in 10/8')] : []));
  const byBlock = validating('block', (i) => (i.object.spec?.blockSize === 31 ? [deny('block', 'spec.blockSize', 'too small')] : []));

  it('a deny the stored object already had (same rule and field) becomes a warning with the ratchet note', () => {
    const d = run([byCidr], { object: pool({ cidr: '10.0.0.0/16', natOutgoing: true }), oldObject: pool({ cidr: '10.0.0.0/16' }) });
    assert.equal(d.allowed, true);
    assert.deepEqual(rows(d.findings), ['ratchet warn spec.cidr']);
    assert.equal(d.findings[0]!.message, 'in 10/8' + RATCHET_NOTE);
  });

  it('a violation the stored object did not have is denied', () => {
    const d = run([byCidr, byBlock], {
      object: pool({ cidr: '10.0.0.0/16', blockSize: 31 }),
      oldObject: pool({ cidr: '10.0.0.0/16' }),
    });
    assert.equal(d.allowed, false);
    assert.deepEqual(rows(d.findings), ['ratchet warn spec.cidr', 'block deny spec.blockSize']);
  });

  it('ratcheting: false denies it; a CREATE is never ratcheted', () => {
    const off = run([byCidr], { object: pool(), oldObject: pool(), policy: policyWith({ ratcheting: false }) });
    assert.deepEqual(rows(off.findings), ['ratchet deny spec.cidr']);
    const create = run([byCidr]);
    assert.deepEqual(rows(create.findings), ['ratchet deny spec.cidr']);
  });
});

describe('rule modes', () => {
  const rule = validating('moded', () => [deny('moded', 'spec.cidr', 'bad'), warn('moded', 'spec.blockSize', 'meh')]);
  const withMode = (mode: RuleMode) => run([rule], { policy: policyWith({ modes: { moded: mode } }) });

  it('enforce: deny denies, warn warns', () => {
    const d = withMode('enforce');
    assert.equal(d.allowed, false);
    assert.deepEqual(rows(d.findings), ['moded deny spec.cidr', 'moded warn spec.blockSize']);
    assert.deepEqual(d.audited, []);
  });

  it('warn: deny findings become warnings, the request is allowed', () => {
    const d = withMode('warn');
    assert.equal(d.allowed, true);
    assert.deepEqual(rows(d.findings), ['moded warn spec.cidr', 'moded warn spec.blockSize']);
  });

  it('audit: nothing shown, allowed; the findings are audited and reported with action audit', () => {
    const d = withMode('audit');
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
    assert.deepEqual(rows(d.audited), ['moded deny spec.cidr', 'moded warn spec.blockSize']);
    assert.deepEqual(rows(reportedFindings(d)), ['moded audit spec.cidr', 'moded audit spec.blockSize']);
    const response = admissionResponse('uid', d);
    assert.equal(response.warnings, undefined);
    assert.deepEqual(response.auditAnnotations, { moded: 'audit spec.cidr, audit spec.blockSize' });
  });

  it('off: the rule does not run', () => {
    let ran = false;
    const d = run([validating('moded', () => ((ran = true), [deny('moded', '', 'x')]))], {
      policy: policyWith({ modes: { moded: 'off' } }),
    });
    assert.equal(ran, false);
    assert.equal(d.allowed, true);
    assert.deepEqual(d.findings, []);
  });
});

describe('requests no rule looks at', () => {
  it('DELETE, an unhandled kind, and an object of the wrong shape', () => {
    const rules = [validating('any', () => [deny('any', '', 'x')])];
    const engine = new Engine(rules, { operatorNamespace: 'elastic-system' });
    const state = new MemoryClusterState();
    const del = engine.validate(
      objectRequest(undefined, { operation: 'DELETE', kind: { group: 'projectcalico.org', kind: 'IPPool' } }),
      state,
    );
    assert.deepEqual([del.handled, del.allowed, del.kind], [false, true, 'IPPool']);
    const other = engine.validate(
      objectRequest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }, { operation: 'CREATE' }),
      state,
    );
    assert.deepEqual([other.handled, other.allowed, other.kind], [false, true, undefined]);
    const malformed = engine.validate(objectRequest(pool({ cidr: 7 }), { operation: 'CREATE' }), state);
    assert.equal(malformed.allowed, false);
    assert.deepEqual(rows(malformed.findings), ['object-shape deny spec.cidr']);
  });
});
