/**
 * `calico-nat-coverage` (deny, warn): while some local IPPool has
 * `natOutgoing` on, every remote cluster range of that IP family lies inside
 * local IPPools, so that traffic from local pods to the remote cluster keeps
 * the pods' addresses.
 *
 * Sources:
 * - Calico Enterprise docs "Configure federated endpoint identity and
 *   multi-cluster networking", section "Configure IP pool resources"
 *   (https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig):
 *   "If your local cluster has NATOutgoing configured on your IP Pools, it is
 *   necessary to configure IP Pools covering the IP ranges of your remote
 *   clusters", with `disabled: true` so they are not used for allocation.
 * - projectcalico/calico felix/dataplane/linux/masq_mgr.go
 *   `(masqManager).OnUpdate` and `isLoadBalancerOnly`: per IP family, every
 *   pool with `natOutgoing` (disabled pools too: their pods keep their
 *   addresses) is a NAT source, and traffic is masqueraded unless its
 *   destination is in a pool that is not LoadBalancer-only (enabled or
 *   disabled). This rule counts pools exactly so: a remote range is covered
 *   by the local pools other than LoadBalancer-only ones, and needs covering
 *   only while a pool of its family has NAT on.
 *
 * Remote ranges are the remote cluster ranges (src/state/remote-cluster-ranges.ts:
 * declared today, discovered later). The IPPools to create are given as the
 * fewest CIDRs covering exactly the uncovered space (src/net/cidr/cidr-cover.ts).
 *
 * Calico accepts every change reported here, and nothing stops working
 * outright: remote traffic is SNATed to the node's address, so the remote
 * cluster loses the pods' identity (its federated policies no longer match
 * them) and connections keyed on pod addresses break. Hence:
 * - RemoteClusterConfiguration, CREATE and UPDATE (warn): a range left
 *   uncovered. A warning, because the federation pools usually arrive in
 *   the same apply, often after the RemoteClusterConfiguration; a denial
 *   would make the result depend on apply order. This is also where the
 *   audit reports a federation pool that was deleted: DELETE is not
 *   admitted (deploy/base/webhooks.yaml registers CREATE and UPDATE only).
 * - IPPool that turns NAT on for a family (no other pool of the family has
 *   it): warn on CREATE (the default pool of a new cluster comes with
 *   `natOutgoing: true`, before or after the federation objects), deny on
 *   UPDATE (it breaks a federation that works now).
 * - IPPool UPDATE that stops covering part of a remote range (now
 *   LoadBalancer-only, or another CIDR) while NAT is on: deny, for the same
 *   reason. (Deleting one is not admitted; see above.)
 *
 * Remote node addresses (discovered from `status.addresses`) are left out:
 * they are hosts, not pod ranges, and the federation docs ask for pools
 * covering the remote clusters' pod ranges only.
 *
 * Cost: the usual IPPool request costs two set lookups; a trie query per
 * remote range is made only when NAT is turned on or coverage may shrink, and
 * a RemoteClusterConfiguration costs one query per range.
 */
import { deny, warn, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule, RuleInput } from '../../engine/rule.js';
import {
  FEDERATION_POOL_LABEL,
  legacySpelling,
  loadBalancerOnly,
  REMOTE_CIDRS_ANNOTATION,
  type IPPool,
  type RemoteClusterConfiguration,
} from '../../kube/calico.js';
import { uncoveredBlocks } from '../../net/cidr/cidr-cover.js';
import { parseCidrList, type Cidr, type IpFamily } from '../../net/cidr/cidr.js';
import type { CalicoState } from '../../state/calico-state.js';
import type { RemoteRange } from '../../state/remote-cluster-ranges.js';
import { capFindings, displayName, listWords, poolCidr, REMOTE_CIDRS_FIELD, unsyncedRemotesOverlapping } from './common.js';

export const NAT_COVERAGE_RULE = 'calico-nat-coverage';

/** Adjustments to the state's pools for the object being admitted: its stored version left out, its new block added. */
interface PoolChange {
  skip?: string;
  add?: Cidr;
}

/** The parts of `range` no local pool (LoadBalancer-only pools aside) covers; one trie query. */
export function uncoveredPart(state: CalicoState, range: Cidr, change: PoolChange = {}): Cidr[] {
  const covers: Cidr[] = [];
  for (const e of state.overlappingCidrs(range.canonical)) {
    if (e.ownerKind === 'IPPool' && !e.loadBalancerOnly && e.ownerName !== change.skip) covers.push(e.block);
  }
  if (change.add) covers.push(change.add);
  return uncoveredBlocks(range, covers);
}

/** `IPPool a`, `IPPools a and b`, `IPPools a, b and 3 more`: the NAT-outgoing pools, first names in order. */
function natPoolNames(names: Iterable<string>, skip?: string): string {
  const all = [...names].filter((n) => n !== skip).sort();
  const shown = all.slice(0, 2);
  const more = all.length - shown.length;
  const list = more > 0 ? `${shown.join(', ')} and ${more} more` : listWords(shown);
  return `${all.length === 1 ? 'IPPool' : 'IPPools'} ${list}`;
}

/** What to create: disabled pools for `blocks`, labelled for `cluster`. */
function advice(cluster: string, blocks: readonly Cidr[]): string {
  const list = listWords(blocks.map((b) => b.canonical));
  return (
    `create a disabled IPPool (disabled: true, natOutgoing: false, label ${FEDERATION_POOL_LABEL}: ${cluster}) ` +
    `${blocks.length === 1 ? 'with CIDR' : 'for each of'} ${list}`
  );
}

/** `remote CIDR c of remote cluster x` with where it was learnt, and the uncovered part when it is not the whole range. */
function describeRange(r: RemoteRange, uncovered: readonly Cidr[]): string {
  const origin = r.source === 'declared' ? 'declared on it' : `discovered from its ${r.object.kind} ${r.object.name}`;
  const part =
    uncovered.length === 1 && uncovered[0]!.canonical === r.cidr.canonical
      ? 'is not covered by any local IPPool'
      : `is only partly covered by local IPPools (${listWords(uncovered.map((b) => b.canonical))} is not)`;
  return `remote CIDR ${r.cidr.canonical} of remote cluster ${r.cluster} (${origin}) ${part}`;
}

const SNAT =
  "so traffic from local pods to that cluster is SNATed to the node's address and the remote cluster no longer sees the pods' identity";

function cap(findings: Finding[], make: typeof deny, field: string): Finding[] {
  return capFindings(findings, (more) => make(NAT_COVERAGE_RULE, field, `and ${more} more remote CIDRs not listed here are not covered`));
}

function validateRcc({ object, name, ctx }: RuleInput<RemoteClusterConfiguration>): Finding[] {
  const state = ctx.state;
  const origin = { kind: 'RemoteClusterConfiguration', name };
  const seen = new Set<string>();
  const ranges: RemoteRange[] = [];
  for (const { cidr } of parseCidrList(object.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION] ?? '').cidrs) {
    if (seen.has(cidr.canonical)) continue;
    seen.add(cidr.canonical);
    ranges.push({ cluster: name, cidr, source: 'declared', object: origin });
  }
  for (const r of state.remoteRangesOf(name)) if (r.source === 'discovered' && !r.nodeAddress) ranges.push(r);
  const findings: Finding[] = [];
  for (const r of ranges) {
    const nat = state.natOutgoingPools(r.cidr.family);
    if (nat.size === 0) continue;
    const uncovered = uncoveredPart(state, r.cidr);
    if (uncovered.length === 0) continue;
    findings.push(
      warn(
        NAT_COVERAGE_RULE,
        r.source === 'declared' ? REMOTE_CIDRS_FIELD : '',
        `${describeRange({ ...r, cluster: displayName(name) }, uncovered)} while ${natPoolNames(nat)} ${nat.size === 1 ? 'has' : 'have'} natOutgoing on, ${SNAT}; ${advice(displayName(name), uncovered)}`,
      ),
    );
  }
  return cap(findings, warn, REMOTE_CIDRS_FIELD);
}

/** True when a pool (version) counts for coverage: Felix puts it in its network pools. */
const covering = (pool: IPPool): boolean => !loadBalancerOnly(pool);

/** What a pool change does to NAT coverage: turns NAT on for its family, takes coverage away while NAT is on, or neither. */
type NatChange =
  | { kind: 'nat-on'; cidr: Cidr; newCover: Cidr | undefined }
  | { kind: 'shrink'; cidr: Cidr; oldCidr: Cidr; newCover: Cidr | undefined }
  | undefined;

function natChangeOf({ object: pool, oldObject, name, operation, ctx }: RuleInput<IPPool>): NatChange {
  const cidr = poolCidr(pool);
  if (!cidr) return undefined;
  const state = ctx.state;
  const old = operation === 'UPDATE' ? oldObject : undefined;
  const oldCidr = old && poolCidr(old);
  const newCover = covering(pool) ? cidr : undefined;
  const natNow = pool.spec?.natOutgoing === true;
  const natBefore = old?.spec?.natOutgoing === true && oldCidr?.family === cidr.family;
  // NAT turned on for the family by this change: every remote range of the family must be covered.
  if (natNow && !natBefore && !otherNatPools(state, cidr.family, name)) return { kind: 'nat-on', cidr, newCover };
  // Coverage this update takes away (now LoadBalancer-only, or another CIDR) while NAT is on.
  if (old && oldCidr && covering(old) && (!newCover || oldCidr.canonical !== cidr.canonical)) {
    if (!natNow && !otherNatPools(state, oldCidr.family, name)) return undefined;
    return { kind: 'shrink', cidr, oldCidr, newCover };
  }
  return undefined;
}

/** The unsynced remote clusters a change reads: all of them when NAT is turned on, those overlapping the coverage taken away otherwise. */
function poolRemotes(input: RuleInput<IPPool>, unsynced: ReadonlyMap<string, string>): string[] {
  const change = natChangeOf(input);
  if (!change) return [];
  if (change.kind === 'nat-on') return [...unsynced.keys()].sort();
  return unsyncedRemotesOverlapping(input.ctx.state, [change.oldCidr], unsynced, false);
}

function validatePool(input: RuleInput<IPPool>): Finding[] {
  const change = natChangeOf(input);
  if (!change) return [];
  const { object: pool, name, operation, ctx } = input;
  const state = ctx.state;
  const { cidr, newCover } = change;
  const findings: Finding[] = [];
  const self = `IPPool ${displayName(name)} (${cidr.canonical})`;

  if (change.kind === 'nat-on') {
    const make = operation === 'UPDATE' ? deny : warn;
    const field = fieldPath(['spec', legacySpelling(pool, 'natOutgoing') ?? 'natOutgoing']);
    for (const r of state.allRemoteRanges()) {
      if (r.cidr.family !== cidr.family || r.nodeAddress) continue;
      const uncovered = uncoveredPart(state, r.cidr, { skip: name, ...(newCover ? { add: newCover } : {}) });
      if (uncovered.length === 0) continue;
      findings.push(
        make(
          NAT_COVERAGE_RULE,
          field,
          `${self} turns on natOutgoing for IPv${cidr.family}, and ${describeRange(r, uncovered)}, ${SNAT}; first ${advice(r.cluster, uncovered)}`,
        ),
      );
    }
    return cap(findings, make, field);
  }

  const { oldCidr } = change;
  const field = fieldPath(['spec', newCover ? 'cidr' : 'allowedUses']);
  for (const e of state.overlappingCidrs(oldCidr.canonical)) {
    const r = e.remote;
    if (!r || r.nodeAddress) continue;
    const before = uncoveredPart(state, r.cidr, { skip: name, add: oldCidr });
    const after = uncoveredPart(state, r.cidr, { skip: name, ...(newCover ? { add: newCover } : {}) });
    if (sameBlocks(before, after)) continue;
    findings.push(
      deny(
        NAT_COVERAGE_RULE,
        field,
        `${self} no longer covers ${oldCidr.canonical} for NAT (${newCover ? 'its CIDR changes' : 'it becomes LoadBalancer-only'}) while natOutgoing is on, so ${describeRange(r, after)}, ${SNAT}; keep it, or first ${advice(r.cluster, after)}`,
      ),
    );
  }
  return cap(findings, deny, field);
}

/** True when a pool of `family` other than `name` has natOutgoing on. */
function otherNatPools(state: CalicoState, family: IpFamily, name: string): boolean {
  const set = state.natOutgoingPools(family);
  return set.size > (set.has(name) ? 1 : 0);
}

function sameBlocks(a: readonly Cidr[], b: readonly Cidr[]): boolean {
  return a.length === b.length && a.every((x, i) => x.canonical === b[i]!.canonical);
}

export const natCoverageRule: Rule<'IPPool'> = {
  id: NAT_COVERAGE_RULE,
  kind: 'IPPool',
  summary: 'Turning natOutgoing on, or taking a pool away from a remote range, leaves no remote cluster range uncovered by local IPPools',
  needs: ['IPPool', 'RemoteClusterConfiguration'],
  remotes: poolRemotes,
  validate: validatePool,
};

export const natCoverageRccRule: Rule<'RemoteClusterConfiguration'> = {
  id: NAT_COVERAGE_RULE,
  kind: 'RemoteClusterConfiguration',
  summary: 'While an IPPool has natOutgoing on, the remote cluster ranges are covered by local IPPools',
  // An RCC without declared ranges must not wait for the IPPool informer (with no pools read, nothing is reported).
  needs: (rcc) => (rcc.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION] ? ['IPPool'] : []),
  validate: validateRcc,
};
