/**
 * `calico-pool-overlap` (deny): pod address ranges of federated clusters do
 * not overlap, locally or across clusters.
 *
 * Source: Calico Enterprise docs "Configuring remote clusters" (Tigera Secure
 * EE usage/federation/configure-rcc; current:
 * https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig,
 * "Pod CIDRs between clusters must not overlap"): "The IP Pool CIDR used for
 * pod IP allocation should not overlap with any of the IP ranges used by the
 * pods and nodes of any other federated cluster". Calico checks overlap
 * between pools only on create through its own client, never on update or
 * through crd.projectcalico.org/v1 (projectcalico/calico v3.31.0
 * libcalico-go/lib/clientv3/ippool.go `(ipPools).validateAndSetDefaults`,
 * branch `old == nil && !skipCIDROverlap`; `Update` passes the old pool), and
 * no Calico component is known to reject local/remote overlap.
 *
 * Roles (src/state/calico-state.ts `CidrRole`): an enabled pool is any pool
 * whose `disabled` is not true; a federation pool is a disabled pool labelled
 * `remote-cluster-guard.io/remote-cluster` or within a declared remote CIDR;
 * remote CIDRs come from the `remote-cluster-guard.io/remote-cidrs` annotation.
 *
 * - IPPool, enabled: overlaps no other enabled pool, no federation pool, no
 *   remote CIDR. Other disabled pools do not matter.
 * - IPPool, disabled federation pool: overlaps no enabled pool (it may, and
 *   usually does, coincide with a remote CIDR).
 * - RemoteClusterConfiguration: no declared remote CIDR overlaps an enabled pool.
 *
 * IPv4 and IPv6 alike. On UPDATE the stored version of the object itself is
 * not an overlap (entries of the same kind and name are skipped). Queries go
 * to the state's CIDR index (one trie walk), never a scan of every pool. At
 * most `MAX_OVERLAP_FINDINGS` overlaps are listed per object, then a count.
 */
import { deny, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule, RuleInput } from '../../engine/rule.js';
import { REMOTE_CIDRS_ANNOTATION, type IPPool, type RemoteClusterConfiguration } from '../../kube/calico.js';
import type { CidrEntry, CidrRole } from '../../state/calico-state.js';
import { parseCidrList } from '../../net/cidr/cidr.js';
import { displayName, federationStatusFrom, MAX_OVERLAP_FINDINGS, poolCidr, sortEntries } from './common.js';

export const POOL_OVERLAP_RULE = 'calico-pool-overlap';

const CIDR_FIELD = fieldPath(['spec', 'cidr']);
const ANNOTATION_FIELD = fieldPath(['metadata', 'annotations', REMOTE_CIDRS_ANNOTATION]);

/** Turns (up to the cap) overlap messages into findings, the last one counting the rest. */
function capped(field: string, messages: string[], subject: string): Finding[] {
  const shown = messages.slice(0, MAX_OVERLAP_FINDINGS).map((m) => deny(POOL_OVERLAP_RULE, field, m));
  const more = messages.length - MAX_OVERLAP_FINDINGS;
  if (more > 0) {
    shown.push(
      deny(
        POOL_OVERLAP_RULE,
        field,
        `${subject} also overlaps ${more} more CIDRs not listed here; choose a range that overlaps none of them`,
      ),
    );
  }
  return shown;
}

/** What an enabled pool, and a federation pool, must not overlap. */
const ENABLED_POOL_AGAINST: readonly CidrRole[] = ['enabled-pool', 'federation-pool', 'remote-cidr'];
const FEDERATION_POOL_AGAINST: readonly CidrRole[] = ['enabled-pool'];

function validatePool({ object: pool, name, ctx }: RuleInput<IPPool>): Finding[] {
  const cidr = poolCidr(pool);
  if (!cidr) return []; // calico-pool-spec reports a missing or invalid CIDR
  const enabled = pool.spec?.disabled !== true;
  const overlapping = ctx.state.overlappingCidrs(cidr.canonical);
  if (!enabled && !federationStatusFrom(pool, cidr, overlapping).federation) return [];
  const against = enabled ? ENABLED_POOL_AGAINST : FEDERATION_POOL_AGAINST;
  const entries = overlapping.filter((e) => against.includes(e.role) && !(e.ownerKind === 'IPPool' && e.ownerName === name));
  if (entries.length === 0) return [];
  const self = `${enabled ? 'IPPool' : 'federation IPPool'} ${displayName(name)} (${cidr.canonical})`;
  const messages = sortEntries(entries).map((e) => poolMessage(self, enabled, e, e.prefixLength <= cidr.prefixLength));
  return capped(CIDR_FIELD, messages, self);
}

/** `contains`: the other block contains (or equals) this pool's. */
function poolMessage(self: string, enabled: boolean, e: CidrEntry, contains: boolean): string {
  if (!enabled) {
    return `${self} overlaps enabled IPPool ${e.ownerName} (${e.canonical}), so local pods get addresses in a remote cluster's range; move or narrow the local pool, or correct this one`;
  }
  switch (e.role) {
    case 'enabled-pool':
      return `${self} overlaps enabled IPPool ${e.ownerName} (${e.canonical}), so Calico could assign the same addresses from both; change one of the CIDRs or disable one of the pools`;
    case 'federation-pool':
      return `${self} overlaps federation IPPool ${e.ownerName} (${e.canonical}), which covers a remote cluster's range; choose a CIDR outside the remote clusters' ranges`;
    default:
      if (contains) {
        return (
          `${self} lies within remote CIDR ${e.canonical} declared by RemoteClusterConfiguration ${e.ownerName}, so local pods would get that cluster's addresses; ` +
          `if the pool only covers the remote range set disabled: true, otherwise choose a CIDR outside it`
        );
      }
      return `${self} overlaps remote CIDR ${e.canonical} declared by RemoteClusterConfiguration ${e.ownerName}, and federated clusters' pod ranges must not overlap; choose a CIDR outside it`;
  }
}

function validateRcc({ object, name, ctx }: RuleInput<RemoteClusterConfiguration>): Finding[] {
  const text = object.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION];
  if (text === undefined) return [];
  const messages: string[] = [];
  const seen = new Set<string>();
  for (const { cidr } of parseCidrList(text).cidrs) {
    // Each block once: a repeated block would repeat the query (and its findings) for nothing.
    if (seen.has(cidr.canonical)) continue;
    seen.add(cidr.canonical);
    const pools = sortEntries(ctx.state.overlappingCidrs(cidr.canonical).filter((e) => e.role === 'enabled-pool'));
    for (const e of pools) {
      messages.push(
        `remote CIDR ${cidr.canonical} of RemoteClusterConfiguration ${displayName(name)} overlaps enabled IPPool ${e.ownerName} (${e.canonical}), ` +
          `and federated clusters' pod ranges must not overlap; correct the remote CIDR or move the local pool`,
      );
    }
  }
  return capped(ANNOTATION_FIELD, messages, `the remote CIDRs of RemoteClusterConfiguration ${displayName(name)}`);
}

export const poolOverlapRule: Rule<'IPPool'> = {
  id: POOL_OVERLAP_RULE,
  kind: 'IPPool',
  summary: 'An enabled IPPool overlaps no other enabled pool, federation pool or remote CIDR; a federation pool overlaps no enabled pool',
  needs: ['IPPool', 'RemoteClusterConfiguration'],
  validate: validatePool,
};

export const rccOverlapRule: Rule<'RemoteClusterConfiguration'> = {
  id: POOL_OVERLAP_RULE,
  kind: 'RemoteClusterConfiguration',
  summary: 'The remote CIDRs a RemoteClusterConfiguration declares overlap no enabled IPPool',
  // Only an RCC that declares remote CIDRs reads the pools.
  needs: (rcc) => (rcc.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION] ? ['IPPool'] : []),
  validate: validateRcc,
};
