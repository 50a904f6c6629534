/**
 * `calico-declared-ranges` (warn): the remote CIDRs a RemoteClusterConfiguration
 * declares (`remote-cluster-guard.io/remote-cidrs`) agree with what federation
 * discovery finds in that remote cluster. The annotation is the fallback
 * where discovery is off or cannot reach the remote; once discovery can, a
 * declaration that disagrees is drift: a stale annotation keeps flagging
 * overlaps that no longer exist, or misses a pool the remote cluster added.
 *
 * Checked only while the remote is under discovery and synced (its ranges
 * are current); a warning, never a denial: the discovered ranges are what
 * the other Calico rules enforce anyway, and an RCC update (new credentials
 * for an unreachable remote) must never be blocked by the remote's state.
 * Reported on the RCC at admission and by `audit`, which is where a change
 * on the remote side shows (nothing local is admitted then).
 *
 * Two findings, each capped (MAX_OVERLAP_FINDINGS):
 * - a declared CIDR overlapping no discovered pod range of the remote (its
 *   IPPools, its Nodes' `spec.podCIDRs`): declared but not in use there;
 * - a discovered pod range not covered by the declared CIDRs (together: a
 *   pool declared as two halves is declared): in use there but not
 *   declared. Node addresses are not pod ranges and are not compared.
 */
import { warn, type Finding } from '../../engine/finding.js';
import type { Rule, RuleInput } from '../../engine/rule.js';
import { REMOTE_CIDRS_ANNOTATION, type RemoteClusterConfiguration } from '../../kube/calico.js';
import { uncoveredBlocks } from '../../net/cidr/cidr-cover.js';
import { cidrOverlaps } from '../../net/cidr/cidr.js';
import { declaredRemoteCidrs } from '../../state/memory/calico-store.js';
import { capFindings, displayName, REMOTE_CIDRS_FIELD } from './common.js';

export const DECLARED_RANGES_RULE = 'calico-declared-ranges';

function validateRcc({ object, name, ctx }: RuleInput<RemoteClusterConfiguration>): Finding[] {
  const state = ctx.state;
  if (object.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION] === undefined) return [];
  if (!state.discoveredRemotes().has(name) || state.unsyncedRemotes().has(name)) return [];
  const declared = declaredRemoteCidrs(object).map((d) => d.cidr);
  const discovered = state.remoteRangesOf(name).filter((r) => r.source === 'discovered' && !r.nodeAddress);
  const cluster = displayName(name);
  const unused = declared.filter((d) => !discovered.some((r) => cidrOverlaps(d, r.cidr)));
  const undeclared = discovered.filter((r) => uncoveredBlocks(r.cidr, declared).length > 0);
  const findings = unused.map((d) =>
    warn(
      DECLARED_RANGES_RULE,
      REMOTE_CIDRS_FIELD,
      `declared remote CIDR ${d.canonical} of remote cluster ${cluster} matches no IPPool or node pod CIDR discovered there; remove it from ${REMOTE_CIDRS_ANNOTATION}, or correct it`,
    ),
  );
  const missing = undeclared.map((r) =>
    warn(
      DECLARED_RANGES_RULE,
      REMOTE_CIDRS_FIELD,
      `remote cluster ${cluster} uses ${r.cidr.canonical} (its ${r.object.kind} ${r.object.name}), which ${REMOTE_CIDRS_ANNOTATION} does not declare; add it, or remove the annotation and rely on discovery`,
    ),
  );
  const more = (n: number, what: string) => warn(DECLARED_RANGES_RULE, REMOTE_CIDRS_FIELD, `and ${n} more ${what} not listed here`);
  return [
    ...capFindings(findings, (n) => more(n, 'declared CIDRs that match nothing discovered')),
    ...capFindings(missing, (n) => more(n, `ranges of remote cluster ${cluster} that are not declared`)),
  ];
}

export const declaredRangesRule: Rule<'RemoteClusterConfiguration'> = {
  id: DECLARED_RANGES_RULE,
  kind: 'RemoteClusterConfiguration',
  summary: `The remote CIDRs declared in ${REMOTE_CIDRS_ANNOTATION} agree with the ranges discovered in that remote cluster`,
  validate: validateRcc,
};
