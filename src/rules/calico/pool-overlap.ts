/**
 * `calico-pool-overlap` (deny, warn): IPPools do not overlap one another, as
 * Calico's own client refuses on create, and the pod ranges of federated
 * clusters do not overlap, locally or across clusters.
 *
 * Sources:
 * - projectcalico/calico libcalico-go/lib/clientv3/ippool.go
 *   `(ipPools).validateAndSetDefaults`, branch `old == nil && !skipCIDROverlap`:
 *   on create, an IPPool whose CIDR overlaps the CIDR of any other IPPool
 *   (another name; enabled or disabled alike; other pools whose CIDR does not
 *   parse skipped) is refused, "IPPool(new) CIDR overlaps with IPPool(other)
 *   CIDR c". `Update` passes the old pool, so an update is never checked, and
 *   nothing is checked through `crd.projectcalico.org/v1` (no Calico client
 *   on that path). The test table is Calico's own
 *   (libcalico-go/lib/clientv3/ippool_e2e_test.go, "should prevent the
 *   creation of a pool with an identical or overlapping CIDR").
 * - projectcalico/calico kube-controllers/pkg/controllers/ippool/pool_controller.go
 *   `(IPPoolController).reconcileConditions` (v3.32+): of two overlapping
 *   enabled pools the one active first keeps allocating and the other is
 *   marked `Allocatable=False`, reason `CIDROverlap`; disabled pools are left
 *   out. So enabling, on update, a pool that overlaps an enabled one does not
 *   make it allocate (and before v3.32 both allocate the same addresses).
 * - Calico Enterprise docs "Configuring remote clusters"
 *   (https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig,
 *   "Pod CIDRs between clusters must not overlap"): "The IP Pool CIDR used
 *   for pod IP allocation should not overlap with any of the IP ranges used
 *   by the pods and nodes of any other federated cluster". No Calico
 *   component rejects such overlaps; this rule does.
 *
 * Roles (src/state/calico-state.ts `CidrRole`): an enabled pool is any pool
 * whose `disabled` is not true; a federation pool is a disabled pool labelled
 * `remote-cluster-guard.io/remote-cluster` or within a remote range; remote
 * ranges are the remote cluster ranges (src/state/remote-cluster-ranges.ts).
 *
 * IPPool, against every other IPPool it overlaps:
 * - CREATE: deny, whatever the roles (Calico's client);
 * - UPDATE: deny when both are enabled (the controller above), or one is
 *   enabled and the other a federation pool (federation docs), or both are
 *   federation pools labelled for different remote clusters; any other
 *   overlap is a warning (Calico accepts the update).
 * IPPool, against remote ranges (CREATE and UPDATE, deny): an enabled pool
 * overlaps none; a federation pool overlaps none of another remote cluster.
 * RemoteClusterConfiguration (CREATE and UPDATE, deny): no declared range
 * overlaps an enabled pool, a range of another remote cluster, or a
 * federation pool labelled for another remote cluster: two remote clusters
 * whose ranges overlap cannot both be federated, and the second one is refused.
 *
 * IPv4 and IPv6 alike. The stored version of the object itself is never an
 * overlap (entries of the same kind and name are skipped). Queries go to the
 * state's CIDR index (one trie walk per CIDR), never a scan of every pool. At
 * most `MAX_OVERLAP_FINDINGS` overlaps are listed per object and action, then a count.
 */
import { deny, warn, type Action, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule, RuleInput } from '../../engine/rule.js';
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION, type IPPool, type RemoteClusterConfiguration } from '../../kube/calico.js';
import type { CalicoState, CidrEntry } from '../../state/calico-state.js';
import { parseCidrList } from '../../net/cidr/cidr.js';
import {
  capFindings,
  displayName,
  federationStatusFrom,
  poolCidr,
  REMOTE_CIDRS_FIELD,
  remoteOrigin,
  sortEntries,
  unsyncedRemotesOverlapping,
} from './common.js';

export const POOL_OVERLAP_RULE = 'calico-pool-overlap';

const CIDR_FIELD = fieldPath(['spec', 'cidr']);

/** Turns (up to the cap) messages of one action into findings, the last one counting the rest. */
function capped(action: Action, field: string, messages: string[], subject: string): Finding[] {
  const make = action === 'deny' ? deny : warn;
  return capFindings(
    messages.map((m) => make(POOL_OVERLAP_RULE, field, m)),
    (more) =>
      make(
        POOL_OVERLAP_RULE,
        field,
        `${subject} also overlaps ${more} more CIDRs not listed here; choose a range that overlaps none of them`,
      ),
  );
}

/** The `remote-cluster-guard.io/remote-cluster` label of a stored pool; undefined when absent or empty. */
function labelOf(state: CalicoState, poolName: string): string | undefined {
  return state.getIPPool(poolName)?.metadata.labels?.[FEDERATION_POOL_LABEL] || undefined;
}

const TWO_REMOTES =
  'and two remote clusters whose ranges overlap cannot both be federated (Calico Enterprise: pod CIDRs between clusters must not overlap); correct the range or the label, or federate only one of them';

function validatePool({ object: pool, name, operation, ctx }: RuleInput<IPPool>): Finding[] {
  const cidr = poolCidr(pool);
  if (!cidr) return []; // calico-pool-spec reports a missing or invalid CIDR
  const enabled = pool.spec?.disabled !== true;
  const overlapping = ctx.state.overlappingCidrs(cidr.canonical).filter((e) => !(e.ownerKind === 'IPPool' && e.ownerName === name));
  if (overlapping.length === 0) return [];
  const status = federationStatusFrom(pool, cidr, overlapping);
  // The remote cluster(s) a federation pool covers: its label when labelled, else those whose ranges contain it.
  const clusters = new Set(status.labelledFor ? [status.labelledFor] : status.withinRemote.map((e) => e.ownerName));
  const self = `${enabled ? 'IPPool' : status.federation ? 'federation IPPool' : 'disabled IPPool'} ${displayName(name)} (${cidr.canonical})`;
  const denies: string[] = [];
  const warns: string[] = [];

  for (const e of sortEntries(overlapping)) {
    if (e.role === 'remote-cidr') {
      if (enabled) denies.push(remoteMessage(self, e, e.prefixLength <= cidr.prefixLength));
      else if (status.federation && !clusters.has(e.ownerName)) {
        denies.push(
          `${self}, which covers remote cluster ${listClusters(clusters)}, overlaps remote CIDR ${e.canonical} ${remoteOrigin(e)}, ${TWO_REMOTES}`,
        );
      }
      continue;
    }
    const other = e.role === 'enabled-pool' ? 'enabled' : e.role === 'federation-pool' ? 'federation' : 'disabled';
    const otherLabel = e.role === 'federation-pool' ? labelOf(ctx.state, e.ownerName) : undefined;
    const remotesClash =
      status.federation && otherLabel !== undefined && status.labelledFor !== undefined && otherLabel !== status.labelledFor;
    const message = `${self} overlaps ${other} IPPool ${e.ownerName} (${e.canonical}), ${pairReason(enabled, status.federation, e, remotesClash)}`;
    const federationPair = (enabled && e.role !== 'disabled-pool') || (status.federation && e.role === 'enabled-pool') || remotesClash;
    if (operation === 'CREATE' || federationPair) denies.push(message);
    else warns.push(`${message} (Calico checks IPPool overlaps on create only, so this update is allowed)`);
  }
  return [...capped('deny', CIDR_FIELD, denies, self), ...capped('warn', CIDR_FIELD, warns, self)];
}

/** Why two overlapping pools are a problem, by their roles. */
function pairReason(enabled: boolean, federation: boolean, e: CidrEntry, remotesClash: boolean): string {
  if (remotesClash) return `a federation pool for another remote cluster, ${TWO_REMOTES}`;
  if (enabled && e.role === 'enabled-pool') {
    return 'so Calico could assign the same addresses from both; change one of the CIDRs or disable one of the pools';
  }
  if (enabled && e.role === 'federation-pool') {
    return "which covers a remote cluster's range; choose a CIDR outside the remote clusters' ranges";
  }
  if (federation && e.role === 'enabled-pool') {
    return "so local pods get addresses in a remote cluster's range; move or narrow the local pool, or correct this one";
  }
  return (
    'and Calico refuses to create an IPPool that overlaps another one, enabled or disabled (libcalico-go ipPools.validateAndSetDefaults); ' +
    'choose a CIDR outside it, or delete the other pool first'
  );
}

/** `contains`: the remote range contains (or equals) this pool's block. */
function remoteMessage(self: string, e: CidrEntry, contains: boolean): string {
  if (e.remote?.nodeAddress) {
    const address = e.canonical.replace(/\/\d+$/, '');
    return `${self} contains ${address}, a node address ${remoteOrigin(e)}, so local pods could get a remote node's address; choose a CIDR outside the remote clusters' node and pod ranges`;
  }
  if (contains) {
    return (
      `${self} lies within remote CIDR ${e.canonical} ${remoteOrigin(e)}, so local pods would get that cluster's addresses; ` +
      `if the pool only covers the remote range set disabled: true, otherwise choose a CIDR outside it`
    );
  }
  return `${self} overlaps remote CIDR ${e.canonical} ${remoteOrigin(e)}, and federated clusters' pod ranges must not overlap; choose a CIDR outside it`;
}

function listClusters(clusters: ReadonlySet<string>): string {
  return [...clusters]
    .sort()
    .map((c) => JSON.stringify(c))
    .join(' and ');
}

/**
 * The unsynced remote clusters a pool's check reads: those whose last known
 * ranges it overlaps, and for an enabled pool (which no remote range may
 * overlap) also those whose ranges are not known yet.
 */
function poolRemotes({ object: pool, ctx }: RuleInput<IPPool>, unsynced: ReadonlyMap<string, string>): string[] {
  const cidr = poolCidr(pool);
  return cidr ? unsyncedRemotesOverlapping(ctx.state, [cidr], unsynced, pool.spec?.disabled !== true) : [];
}

function validateRcc({ object, name, ctx }: RuleInput<RemoteClusterConfiguration>): Finding[] {
  const text = object.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION];
  if (text === undefined) return [];
  const messages: string[] = [];
  const seen = new Set<string>();
  const self = `remote CIDR %s of RemoteClusterConfiguration ${displayName(name)}`;
  for (const { cidr } of parseCidrList(text).cidrs) {
    // Each block once: a repeated block would repeat the query (and its findings) for nothing.
    if (seen.has(cidr.canonical)) continue;
    seen.add(cidr.canonical);
    const subject = self.replace('%s', cidr.canonical);
    for (const e of sortEntries(ctx.state.overlappingCidrs(cidr.canonical))) {
      if (e.role === 'enabled-pool') {
        messages.push(
          `${subject} overlaps enabled IPPool ${e.ownerName} (${e.canonical}), ` +
            `and federated clusters' pod ranges must not overlap; correct the remote CIDR or move the local pool`,
        );
      } else if (e.role === 'remote-cidr' && e.ownerName !== name) {
        messages.push(`${subject} overlaps remote CIDR ${e.canonical} ${remoteOrigin(e)}, ${TWO_REMOTES}`);
      } else if (e.role === 'federation-pool') {
        const label = labelOf(ctx.state, e.ownerName);
        if (label !== undefined && label !== name) {
          messages.push(
            `${subject} overlaps federation IPPool ${e.ownerName} (${e.canonical}), labelled for remote cluster ${JSON.stringify(label)}, ${TWO_REMOTES}`,
          );
        }
      }
    }
  }
  return capped('deny', REMOTE_CIDRS_FIELD, messages, `the remote CIDRs of RemoteClusterConfiguration ${displayName(name)}`);
}

export const poolOverlapRule: Rule<'IPPool'> = {
  id: POOL_OVERLAP_RULE,
  kind: 'IPPool',
  summary:
    'An IPPool overlaps no other IPPool on create (as Calico refuses), an enabled pool no remote range, a federation pool no enabled pool nor another remote cluster',
  needs: ['IPPool', 'RemoteClusterConfiguration'],
  remotes: poolRemotes,
  validate: validatePool,
};

export const rccOverlapRule: Rule<'RemoteClusterConfiguration'> = {
  id: POOL_OVERLAP_RULE,
  kind: 'RemoteClusterConfiguration',
  summary: 'The remote CIDRs a RemoteClusterConfiguration declares overlap no enabled IPPool and no range of another remote cluster',
  // Only an RCC that declares remote CIDRs reads the pools and the other remote clusters.
  needs: (rcc) => (rcc.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION] ? ['IPPool', 'RemoteClusterConfiguration'] : []),
  validate: validateRcc,
};
