/**
 * Remote cluster ranges: the pod (and node) CIDRs of each remote cluster the
 * local cluster federates with, keyed by the remote cluster's name (the name
 * of its RemoteClusterConfiguration, as Calico names remote clusters).
 *
 * Calico keeps no such list locally: a RemoteClusterConfiguration says how to
 * reach a remote datastore, not what addresses the cluster uses. Today the
 * ranges are declared, by the `remote-cluster-guard.io/remote-cidrs`
 * annotation of the RemoteClusterConfiguration; a discovery component that
 * watches the remote clusters' IPPools and Nodes can feed the same list
 * (`RemoteClusterRangeSink`, source `discovered`) and every rule reading it
 * (overlaps, NAT coverage) follows without change.
 */
import type { Cidr } from '../net/cidr/cidr.js';

/** Where a range was learnt: the annotation of the RemoteClusterConfiguration, or the remote cluster itself. */
export type RemoteRangeSource = 'declared' | 'discovered';

/** The object a range was read from: the local RemoteClusterConfiguration (declared), or a remote IPPool or Node (discovered). */
export interface RemoteRangeOrigin {
  kind: string;
  name: string;
}

export interface RemoteRange {
  /** The remote cluster: the name of its RemoteClusterConfiguration. */
  cluster: string;
  cidr: Cidr;
  source: RemoteRangeSource;
  object: RemoteRangeOrigin;
}

/** The ranges of the remote clusters, as the rules read them. */
export interface RemoteClusterRanges {
  /** The ranges of one remote cluster, declared then discovered; [] for an unknown one. */
  remoteRangesOf(cluster: string): readonly RemoteRange[];
  /** Every range of every remote cluster, cluster by cluster in name order. */
  allRemoteRanges(): readonly RemoteRange[];
}

/** How ranges get in: each source replaces its own list of one cluster at a time. */
export interface RemoteClusterRangeSink {
  /** Replaces the ranges `source` knows for `cluster` ([] removes them); each block is kept once. */
  setRemoteRanges(cluster: string, source: RemoteRangeSource, ranges: readonly { cidr: Cidr; object: RemoteRangeOrigin }[]): void;
}
