/**
 * What discovery keeps of a remote cluster's objects: for each IPPool or Node,
 * its name, resource version and ranges, nothing else (a Node object weighs
 * kilobytes; what is kept weighs a few dozen bytes per range).
 *
 * The ranges, from the Calico Enterprise federation docs
 * (https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig:
 * local pools "should not overlap with any of the IP ranges used by the pods
 * and nodes of any other federated cluster"):
 * - IPPool (`crd.projectcalico.org/v1` or `projectcalico.org/v3`): its
 *   `spec.cidr` unless `spec.disabled` is true. A disabled remote pool hands
 *   out no address: it is most often the remote cluster's own federation
 *   pool covering the local cluster's range, which must not count as the
 *   remote cluster's.
 * - Node: each of `spec.podCIDRs` (or `spec.podCIDR`), and each InternalIP
 *   and ExternalIP of `status.addresses` as a host prefix (`nodeAddress`).
 * Values that do not parse are left out (the remote cluster's own API server
 * validated them; discovery never refuses a remote object).
 */
import { IPPool } from '../../kube/calico.js';
import { Node, NODE_IP_ADDRESS_TYPES } from '../../kube/core.js';
import { parseCidr } from '../../net/cidr/cidr.js';
import type { DiscoveredRange } from '../remote-cluster-ranges.js';

/** The kinds discovery watches in a remote cluster. */
export type RemoteKind = 'IPPool' | 'Node';

/** A remote object as kept: the shape client-node's list+watch bookkeeping needs, and its ranges. */
export interface RemoteObject {
  metadata: { name: string; resourceVersion?: string };
  ranges: DiscoveredRange[];
}

function parsed(text: string, nodeAddress: boolean): DiscoveredRange[] {
  const r = parseCidr(text, { allowBareAddress: true });
  if (!r.ok) return [];
  return [nodeAddress ? { cidr: r.cidr, nodeAddress: true } : { cidr: r.cidr }];
}

/** The ranges of a remote IPPool (an item of a list or a watch event, any API version); undefined when it is not an IPPool at all. */
export function poolRanges(raw: unknown, apiVersion: string): RemoteObject | undefined {
  const decoded = IPPool.safeParse({ ...(raw as object), apiVersion, kind: 'IPPool' });
  if (!decoded.success || !decoded.data.metadata.name) return undefined;
  const { metadata, spec } = decoded.data;
  const ranges = spec?.cidr && spec.disabled !== true ? parsed(spec.cidr, false) : [];
  return { metadata: { name: metadata.name!, ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}) }, ranges };
}

/** The ranges of a remote Node; undefined when it is not a Node at all. */
export function nodeRanges(raw: unknown): RemoteObject | undefined {
  const decoded = Node.safeParse(raw);
  if (!decoded.success || !decoded.data.metadata.name) return undefined;
  const { metadata, spec, status } = decoded.data;
  const podCidrs = spec?.podCIDRs?.length ? spec.podCIDRs : spec?.podCIDR ? [spec.podCIDR] : [];
  const ranges = [
    ...podCidrs.flatMap((c) => parsed(c, false)),
    ...(status?.addresses ?? []).filter((a) => NODE_IP_ADDRESS_TYPES.includes(a.type)).flatMap((a) => parsed(a.address, true)),
  ];
  return { metadata: { name: metadata.name!, ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}) }, ranges };
}
