/**
 * Remote cluster ranges: the pod (and node) CIDRs of each remote cluster the
 * local cluster federates with, keyed by the remote cluster's name (the name
 * of its RemoteClusterConfiguration, as Calico names remote clusters).
 *
 * Calico keeps no such list locally: a RemoteClusterConfiguration says how to
 * reach a remote datastore, not what addresses the cluster uses. Ranges are
 * declared, by the `remote-cluster-guard.io/remote-cidrs` annotation of the
 * RemoteClusterConfiguration, or discovered, by federation discovery
 * (src/state/federation/), which watches each remote cluster's IPPools and
 * Nodes and sets the ranges object by object. Every rule reading the list
 * (overlaps, NAT coverage) sees both.
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
  /**
   * A remote Node's own address (`status.addresses`, a host prefix), not a
   * pod range: local pools must not overlap it, but no pool has to cover it
   * for NAT (federated identity is about pods).
   */
  nodeAddress?: boolean;
}

/** One discovered range of a remote object, as discovery hands it over. */
export interface DiscoveredRange {
  cidr: Cidr;
  nodeAddress?: boolean;
}

/** The ranges of the remote clusters, as the rules read them. */
export interface RemoteClusterRanges {
  /** The ranges of one remote cluster, declared then discovered; [] for an unknown one. */
  remoteRangesOf(cluster: string): readonly RemoteRange[];
  /** Every range of every remote cluster, cluster by cluster in name order. */
  allRemoteRanges(): readonly RemoteRange[];
  /**
   * The remote clusters under discovery whose discovered ranges are not
   * current (not listed yet, or their API server lost), each with why, in
   * one line without any credential. Empty without discovery. O(1).
   */
  unsyncedRemotes(): ReadonlyMap<string, string>;
  /** The remote clusters under discovery, synced or not, with the time (ms since epoch) they last synced, if ever. */
  discoveredRemotes(): ReadonlyMap<string, number | undefined>;
}

/** How ranges get in: declared ones a whole cluster at a time, discovered ones object by object. */
export interface RemoteClusterRangeSink {
  /** Replaces the ranges `source` knows for `cluster` ([] removes them); each block is kept once (per object, when discovered). */
  setRemoteRanges(
    cluster: string,
    source: RemoteRangeSource,
    ranges: readonly { cidr: Cidr; object: RemoteRangeOrigin; nodeAddress?: boolean }[],
  ): void;
  /** Replaces the discovered ranges of one remote object ([] removes them). */
  setRemoteObjectRanges(cluster: string, object: RemoteRangeOrigin, ranges: readonly DiscoveredRange[]): void;
  /** The remote objects whose discovered ranges are held, for a relist to remove those gone. */
  remoteObjectsOf(cluster: string): RemoteRangeOrigin[];
  /**
   * Records whether `cluster` is under discovery and current: `synced`, or
   * the reason it is not; `undefined` ends its discovery (its discovered
   * ranges are removed with `setRemoteRanges(cluster, 'discovered', [])`).
   */
  setRemoteSync(cluster: string, status: { synced: true } | { synced: false; reason: string } | undefined): void;
}
