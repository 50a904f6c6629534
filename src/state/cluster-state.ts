/**
 * The cluster state the rules read. One interface, two implementations: the
 * in-memory state fed from manifests (CLI, unit tests, `serve --state`) and the
 * live state fed by informers (`serve` in a cluster). Every lookup is answered
 * from memory: no API call on the admission path.
 */
import type { CalicoState } from './calico-state.js';
import type { EckState } from './eck-state.js';

/** The resources a state keeps, for sync status. */
export type StateResource = 'Elasticsearch' | 'IPPool' | 'RemoteClusterConfiguration' | 'ConfigMap' | 'Secret';

export interface ClusterState extends EckState, CalicoState {
  /** False while a live state has not finished the initial list of `resource`; always true for manifests. */
  isSynced(resource: StateResource): boolean;
}
