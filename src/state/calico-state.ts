/**
 * What the Calico federation rules look up: IPPools, RemoteClusterConfigurations
 * and an index of their CIDRs (pools and declared remote CIDRs), so that an
 * overlap query does not re-parse every pool per request.
 */
import type { IPPool, RemoteClusterConfiguration } from '../kube/calico.js';

/** Why a CIDR is in the index. */
export type CidrRole =
  /** An IPPool used for allocation (not disabled, not a federation pool). */
  | 'enabled-pool'
  /** An IPPool that covers a remote cluster's range (label or declared remote CIDR). */
  | 'federation-pool'
  /** Any other disabled IPPool. */
  | 'disabled-pool'
  /** A remote CIDR declared on a RemoteClusterConfiguration annotation. */
  | 'remote-cidr';

export interface CidrEntry {
  /** The CIDR as written in the object, and in canonical form. */
  cidr: string;
  role: CidrRole;
  ownerKind: 'IPPool' | 'RemoteClusterConfiguration';
  ownerName: string;
}

export interface CalicoState {
  getIPPool(name: string): IPPool | undefined;
  getRemoteClusterConfiguration(name: string): RemoteClusterConfiguration | undefined;
  /** True when some IPPool has a `vxlanMode` other than `Never` (unset counts), as Calico's overlay default reads it. */
  anyIPPoolWithVXLAN(): boolean;
  /** Index entries whose CIDR overlaps `cidr` (IPv4 or IPv6); [] for an unparseable CIDR. */
  overlappingCidrs(cidr: string): CidrEntry[];
}
