/**
 * The cluster state the rules read. One interface, two implementations: the
 * in-memory state fed from manifests (CLI, unit tests, `serve --state`) and the
 * live state fed by informers (`serve` in a cluster). Every lookup is answered
 * from memory: no API call on the admission path.
 */
import { HANDLED_KINDS } from '../kube/kinds.js';
import type { CalicoState } from './calico-state.js';
import type { EckState } from './eck-state.js';

/** Core (`v1`) kinds the state keeps beside the admitted ones: the ConfigMaps and licence Secrets the rules look up. */
export const CORE_STATE_KINDS = ['ConfigMap', 'Secret'] as const;
export type CoreStateKind = (typeof CORE_STATE_KINDS)[number];

/** The resources a state keeps, for sync status, counts and metrics: every admitted kind in the list's order, then the core kinds. */
export const STATE_RESOURCES = [...HANDLED_KINDS, ...CORE_STATE_KINDS] as const;
export type StateResource = (typeof STATE_RESOURCES)[number];

export interface ClusterState extends EckState, CalicoState {
  /** False while a live state has not finished the initial list of `resource`; always true for manifests. */
  isSynced(resource: StateResource): boolean;
}
