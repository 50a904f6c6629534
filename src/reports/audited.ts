/**
 * One audited object in the compact form the policy reports are built from:
 * its reference and, per rule that found something, the rule's mode and the
 * result it stands for. The periodic audit keeps one of these per object for
 * the length of a run instead of the engine's decisions (a few hundred bytes
 * for an object with findings, its reference alone for one without).
 */
import type { RuleMode } from '../config/policy.js';
import { findingMode, type Decision } from '../engine/decision.js';
import type { Finding } from '../engine/finding.js';
import { KINDS, type HandledKind } from '../kube/kinds.js';

/** A report result's outcome, in the terms of both report APIs: `fail` for a deny finding, `warn` for a warning. */
export type ReportOutcome = 'fail' | 'warn';

/** What one rule found on one object: every finding of the rule, in the rule's order. */
export interface RuleOutcome {
  rule: string;
  /** The rule's mode when it ran (`enforce`, `warn` or `audit`). */
  mode: Exclude<RuleMode, 'off'>;
  /** `fail` when any finding denies (for a rule in `audit` mode: would deny), else `warn`. */
  result: ReportOutcome;
  findings: { field: string; message: string }[];
}

export interface AuditedObject {
  apiVersion: string;
  kind: HandledKind;
  /** "" for the cluster-scoped Calico kinds. */
  namespace: string;
  name: string;
  /** One entry per rule with a finding, in rule order; empty when every rule passed. */
  outcomes: RuleOutcome[];
}

/**
 * The compact form of an audited object's decision. A finding's result is
 * what a user applying the object meets: `fail` for a denial, `warn` for a
 * warning (a rule in `warn` mode warns where it would deny). Findings of
 * rules in `audit` mode, which users never see, count as the action they
 * would have had, as Kyverno reports an Audit-mode policy's violation as
 * `fail`; the mode is beside the result.
 */
export function auditedObject(
  ref: { apiVersion: string; kind: string; namespace: string; name: string },
  decision: Decision,
): AuditedObject {
  // A handled decision names its kind; the object's own is the same kind when it does not.
  const kind = decision.kind ?? (ref.kind as HandledKind);
  const byRule = new Map<string, RuleOutcome>();
  const add = (f: Finding, mode: RuleOutcome['mode'], fails: boolean) => {
    let o = byRule.get(f.rule);
    if (!o) {
      o = { rule: f.rule, mode, result: 'warn', findings: [] };
      byRule.set(f.rule, o);
    }
    if (fails) o.result = 'fail';
    o.findings.push({ field: f.field, message: f.message });
  };
  for (const f of decision.findings) add(f, findingMode(decision, f), f.action === 'deny');
  for (const f of decision.audited) add(f, 'audit', f.action === 'deny');
  const namespace = KINDS[kind].clusterScoped ? '' : ref.namespace;
  return { apiVersion: ref.apiVersion, kind, namespace, name: ref.name, outcomes: [...byRule.values()] };
}
