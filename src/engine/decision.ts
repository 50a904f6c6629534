/**
 * The engine's answer for one request, and the findings of it as users see
 * them. Every consumer (the AdmissionResponse, the decision log, the metrics,
 * `validate` and `audit`) reads findings through `reportedFindings`, so a rule
 * in `audit` mode is labelled the same way everywhere.
 */
import { modeOf, type Policy, type RuleMode } from '../config/policy.js';
import type { HandledKind } from '../kube/kinds.js';
import type { Finding } from './finding.js';
import type { PatchOperation } from './rule.js';

export interface Decision {
  /** False when no rule applies (kind not handled, DELETE, an excluded namespace): always allowed then. */
  handled: boolean;
  /** The kind when the webhook handles its group and kind, even where no rule runs (DELETE, an excluded namespace). */
  kind?: HandledKind;
  /** Effective namespace and name of the object. */
  namespace: string;
  name: string;
  allowed: boolean;
  /** Findings of rules in `enforce` and `warn` mode, in rule order; every one of them (consumers that must stay small cap them). */
  findings: Finding[];
  /** JSON Patch against the request's object; empty when nothing is defaulted. */
  patch: PatchOperation[];
  /** The same operations grouped by the rule that made them, in order. */
  mutations: { rule: string; patch: PatchOperation[] }[];
  /** Findings of rules in `audit` mode, with the action they would have had: logged and counted, never shown to the user. */
  audited: Finding[];
  /** The policy the request was evaluated under (rule modes, configuration generation); unset when no rule ran. */
  policy?: Policy;
}

/** What a finding did: denied, warned, or was recorded only (a rule in `audit` mode). */
export type ReportedAction = Finding['action'] | 'audit';

/** A finding as users and auditors see it. */
export interface ReportedFinding {
  rule: string;
  action: ReportedAction;
  field: string;
  message: string;
}

const NONE: readonly ReportedFinding[] = Object.freeze([]);

/**
 * Every finding of `decision`: the enforced ones as they are, then the
 * audited ones with action `audit`. Shared empty list when there are none
 * (the usual case, no allocation on the hot path).
 */
export function reportedFindings(decision: Pick<Decision, 'findings' | 'audited'>): readonly ReportedFinding[] {
  if (decision.audited.length === 0) return decision.findings.length === 0 ? NONE : decision.findings;
  const all: ReportedFinding[] = decision.findings.slice();
  for (const { rule, field, message } of decision.audited) all.push({ rule, action: 'audit', field, message });
  return all;
}

/**
 * The mode the rule of a reported finding ran in when `decision` was made:
 * `audit` for an audited finding, else `warn` or `enforce` from the
 * decision's policy (`enforce` without one: no rule ran under a policy then).
 * For the decision log and the policy reports alike.
 */
export function findingMode(decision: Pick<Decision, 'policy'>, f: Pick<ReportedFinding, 'rule' | 'action'>): Exclude<RuleMode, 'off'> {
  if (f.action === 'audit') return 'audit';
  return decision.policy && modeOf(decision.policy, f.rule) === 'warn' ? 'warn' : 'enforce';
}

/** The decision for a request no rule looks at: allowed, nothing found. */
export function unhandled(namespace: string, name: string, kind: HandledKind | undefined): Decision {
  return { handled: false, kind, namespace, name, allowed: true, findings: [], patch: [], mutations: [], audited: [] };
}
