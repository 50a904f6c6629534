/**
 * `calico-federation-pool-disabled` (deny, warn): an IPPool covering a remote
 * cluster's range (a federation pool) exists only so that traffic to that
 * cluster is not NATed; it must never be used for local allocation.
 *
 * Source: Calico Enterprise docs "Configuring remote clusters" (Tigera Secure
 * EE usage/federation/configure-rcc; current:
 * https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig):
 * "configure IP Pools covering the IP ranges of your remote clusters ... These
 * additional IP Pools should have disabled set to true". NAT-outgoing off, and
 * with `overlayRoutingMode: Enabled` such pools no longer needed, as
 * documented in the IP pool section of
 * https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig.
 *
 * A federation pool is an IPPool labelled `remote-cluster-guard.io/remote-cluster=<RCC name>`
 * (`FEDERATION_POOL_LABEL`) or whose CIDR lies within (or equals) a remote CIDR
 * declared in a RemoteClusterConfiguration's `remote-cluster-guard.io/remote-cidrs`
 * annotation (`REMOTE_CIDRS_ANNOTATION`) or discovered in the remote cluster
 * (`serve --federation-discovery`; the message then names the remote object).
 *
 * IPPool (deny): a federation pool has `disabled: true` and no `natOutgoing: true`.
 * IPPool (warn): the labelled RemoteClusterConfiguration does not exist, or a
 * related RCC (the labelled one, or one
 * whose remote CIDR contains the pool) has `overlayRoutingMode: Enabled`.
 *
 * RemoteClusterConfiguration (deny): the remote-cidrs annotation parses:
 * comma-separated IPv4/IPv6 CIDRs (empty entries ignored, a bare address is a
 * host prefix), each strictly masked. The message names the bad entry.
 */
import { deny, warn, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule, RuleInput } from '../../engine/rule.js';
import {
  FEDERATION_POOL_LABEL,
  legacySpelling,
  REMOTE_CIDRS_ANNOTATION,
  type IPPool,
  type RemoteClusterConfiguration,
} from '../../kube/calico.js';
import { parseCidrList } from '../../net/cidr/cidr.js';
import { displayName, federationStatus, poolCidr, quote, REMOTE_CIDRS_FIELD, remoteOrigin } from './common.js';

export const FEDERATION_POOL_DISABLED_RULE = 'calico-federation-pool-disabled';

const LABEL_FIELD = fieldPath(['metadata', 'labels', FEDERATION_POOL_LABEL]);

function validatePool({ object: pool, name, ctx }: RuleInput<IPPool>): Finding[] {
  const cidr = poolCidr(pool);
  const status = federationStatus(pool, cidr, ctx.state);
  if (!status.federation) return [];
  const findings: Finding[] = [];
  const self = `federation IPPool ${displayName(name)}${cidr ? ` (${cidr.canonical})` : ''}`;
  const first = status.withinRemote[0];
  const why =
    status.labelledFor !== undefined
      ? `labelled for remote cluster ${quote(status.labelledFor)}`
      : `within remote CIDR ${first!.canonical} ${first!.remote?.source === 'discovered' ? remoteOrigin(first!) : `of RemoteClusterConfiguration ${first!.ownerName}`}`;

  if (pool.spec?.disabled !== true) {
    findings.push(
      deny(
        FEDERATION_POOL_DISABLED_RULE,
        fieldPath(['spec', 'disabled']),
        `${self}, ${why}, is not disabled, so Calico could give a remote cluster's addresses to local pods; set disabled: true`,
      ),
    );
  }
  if (pool.spec?.natOutgoing === true) {
    // natOutgoing is `nat-outgoing || natOutgoing` on a crd/v1 pool (src/kube/calico.ts): name the spelling that turned it on.
    const legacy = legacySpelling(pool, 'natOutgoing');
    const fix = legacy
      ? 'remove nat-outgoing (the Calico v1 spelling of natOutgoing) and set natOutgoing to false'
      : 'set natOutgoing to false';
    findings.push(
      deny(
        FEDERATION_POOL_DISABLED_RULE,
        fieldPath(['spec', legacy ?? 'natOutgoing']),
        `${self}, ${why}, has natOutgoing on, but it exists so that traffic to the remote cluster is not NATed; ${fix}`,
      ),
    );
  }

  const related = new Set<string>(status.withinRemote.map((e) => e.ownerName));
  if (status.labelledFor !== undefined) {
    const rcc = status.labelledFor ? ctx.state.getRemoteClusterConfiguration(status.labelledFor) : undefined;
    if (rcc) related.add(status.labelledFor);
    else {
      const message = status.labelledFor
        ? `names RemoteClusterConfiguration ${quote(status.labelledFor)}, which does not exist; create it or correct the label`
        : 'is empty; set it to the name of the RemoteClusterConfiguration of the remote cluster this pool covers';
      findings.push(warn(FEDERATION_POOL_DISABLED_RULE, LABEL_FIELD, message));
    }
  }
  for (const rccName of [...related].sort()) {
    const rcc = ctx.state.getRemoteClusterConfiguration(rccName);
    if (rcc?.spec?.syncOptions?.overlayRoutingMode === 'Enabled') {
      findings.push(
        warn(
          FEDERATION_POOL_DISABLED_RULE,
          '',
          `RemoteClusterConfiguration ${rccName} has overlayRoutingMode Enabled, so Calico routes to that cluster over the overlay and ${self} is no longer needed; it can be deleted`,
        ),
      );
    }
  }
  return findings;
}

function validateRcc({ object }: RuleInput<RemoteClusterConfiguration>): Finding[] {
  const text = object.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION];
  if (text === undefined) return [];
  const { cidrs, errors } = parseCidrList(text);
  const findings = errors.map((e) =>
    deny(
      FEDERATION_POOL_DISABLED_RULE,
      REMOTE_CIDRS_FIELD,
      `entry ${e.position} ${quote(e.entry)} ${e.reason}; list the remote cluster's ranges as comma-separated CIDRs, for example 10.8.0.0/16, fd00:8::/56`,
    ),
  );
  for (const { written, cidr } of cidrs) {
    if (!cidr.strictlyMasked) {
      findings.push(
        deny(FEDERATION_POOL_DISABLED_RULE, REMOTE_CIDRS_FIELD, `entry ${quote(written)} has host bits set; write ${cidr.canonical}`),
      );
    }
  }
  return findings;
}

/**
 * The unsynced remote clusters an unlabelled pool's check reads: those whose
 * last known discovered ranges contain it (what would make it a federation
 * pool). A labelled pool is a federation pool whatever the remote holds.
 */
function poolRemotes({ object: pool, ctx }: RuleInput<IPPool>, unsynced: ReadonlyMap<string, string>): string[] {
  const cidr = poolCidr(pool);
  if (!cidr || Object.hasOwn(pool.metadata.labels ?? {}, FEDERATION_POOL_LABEL)) return [];
  const hit = new Set<string>();
  for (const e of ctx.state.overlappingCidrs(cidr.canonical)) {
    if (e.remote?.source === 'discovered' && e.prefixLength <= cidr.prefixLength && unsynced.has(e.ownerName)) hit.add(e.ownerName);
  }
  return [...hit].sort();
}

export const federationPoolDisabledRule: Rule<'IPPool'> = {
  id: FEDERATION_POOL_DISABLED_RULE,
  kind: 'IPPool',
  summary: 'An IPPool covering a remote cluster range is disabled and not NAT-outgoing',
  needs: ['RemoteClusterConfiguration'],
  remotes: poolRemotes,
  validate: validatePool,
};

export const federationPoolDisabledRccRule: Rule<'RemoteClusterConfiguration'> = {
  id: FEDERATION_POOL_DISABLED_RULE,
  kind: 'RemoteClusterConfiguration',
  summary: 'The remote-cluster-guard.io/remote-cidrs annotation of a RemoteClusterConfiguration is a list of masked CIDRs',
  validate: validateRcc,
};
