/**
 * What the Calico federation rules look up: IPPools, RemoteClusterConfigurations
 * and an index of their CIDRs (pools and declared remote CIDRs), so that an
 * overlap query does not re-parse every pool per request.
 */
import type { IPPool, RemoteClusterConfiguration } from '../kube/calico.js';
import type { Cidr, IpFamily } from '../net/cidr/cidr.js';
import type { RemoteClusterRanges, RemoteRange } from './remote-cluster-ranges.js';

/**
 * Why a CIDR is in the index. The role of a pool is computed when the index is
 * queried, so it follows RemoteClusterConfigurations added after the pool.
 */
export type CidrRole =
  /** An IPPool Calico may allocate from: `disabled` is not true (whatever its labels). */
  | 'enabled-pool'
  /**
   * A disabled IPPool covering a remote cluster's range: labelled
   * `remote-cluster-guard.io/remote-cluster`, or within a remote CIDR declared
   * on a RemoteClusterConfiguration.
   */
  | 'federation-pool'
  /** Any other disabled IPPool. */
  | 'disabled-pool'
  /**
   * A remote cluster range (src/state/remote-cluster-ranges.ts): declared in a
   * RemoteClusterConfiguration's `remote-cluster-guard.io/remote-cidrs`
   * annotation, or discovered.
   */
  | 'remote-cidr';

export interface CidrEntry {
  /** The CIDR as written in the object (pool `spec.cidr` or one annotation entry). */
  cidr: string;
  /** The masked canonical form, `10.0.0.0/16` or `fd00::/48`. */
  canonical: string;
  /** IP family of the block. */
  family: 4 | 6;
  /** Prefix length in bits. */
  prefixLength: number;
  /** The parsed block. */
  block: Cidr;
  role: CidrRole;
  /** For a remote range, the RemoteClusterConfiguration of its remote cluster (whatever the source). */
  ownerKind: 'IPPool' | 'RemoteClusterConfiguration';
  ownerName: string;
  /** A pool whose `allowedUses` is exactly `[LoadBalancer]`: Felix leaves it out of the pools traffic to which is never NATed. */
  loadBalancerOnly?: boolean;
  /** A remote range: the range, with its source and origin. */
  remote?: RemoteRange;
}

export interface CalicoState extends RemoteClusterRanges {
  getIPPool(name: string): IPPool | undefined;
  getRemoteClusterConfiguration(name: string): RemoteClusterConfiguration | undefined;
  /** True when some IPPool has a `vxlanMode` other than `Never` (unset counts), as Calico's overlay default reads it. O(1). */
  anyIPPoolWithVXLAN(): boolean;
  /**
   * Index entries whose CIDR overlaps `cidr` (IPv4 or IPv6): its supernets,
   * equal blocks and subnets, pools and remote CIDRs alike; [] for an
   * unparseable CIDR. Entries of the object being admitted are included: the
   * caller drops them by owner kind and name.
   */
  overlappingCidrs(cidr: string): CidrEntry[];
  /** Names of the IPPools of `family` with `natOutgoing` on (legacy spelling included), disabled ones too. O(1). */
  natOutgoingPools(family: IpFamily): ReadonlySet<string>;
}
