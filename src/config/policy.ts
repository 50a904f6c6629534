/**
 * How findings are enforced, per rule, as platform teams roll a rule out:
 * `enforce` (deny findings reject), `warn` (deny findings become warnings),
 * `audit` (findings are logged and counted, the user sees nothing), `off`
 * (the rule does not run). Same modes as Kyverno's validationFailureAction
 * plus Gatekeeper's dryrun/warn enforcement actions.
 */

export type RuleMode = 'enforce' | 'warn' | 'audit' | 'off';
export const RULE_MODES: readonly RuleMode[] = ['enforce', 'warn', 'audit', 'off'];

export interface Policy {
  /** Mode per rule id; rules not listed are enforced. */
  modes: Readonly<Record<string, RuleMode>>;
  /** Namespaces whose objects are not checked (cluster-scoped Calico objects are always checked). */
  excludedNamespaces: readonly string[];
  /** On UPDATE, a deny finding the old object already had (same rule, same field) becomes a warning. */
  ratcheting: boolean;
  /** What a validating rule answers while the live state it needs has not synced. */
  unsynced: 'deny' | 'warn';
  /**
   * Which configuration this is, for the decision log: the first 12 hex digits
   * of the SHA-256 of the configuration file's text; unset for the defaults.
   */
  generation?: string;
}

export const DEFAULT_POLICY: Policy = Object.freeze({ modes: {}, excludedNamespaces: [], ratcheting: true, unsynced: 'deny' });

export function modeOf(policy: Policy, rule: string): RuleMode {
  return Object.hasOwn(policy.modes, rule) ? policy.modes[rule]! : 'enforce';
}
