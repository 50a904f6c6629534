/**
 * The Calico federation rules, in the order the engine runs them. A rule id
 * that applies to both kinds (`calico-pool-overlap`,
 * `calico-federation-pool-disabled`, `calico-nat-coverage`) is registered once per kind, each object
 * bound to one kind as the engine requires; they share the id.
 */
import type { AnyRule } from '../../engine/rule.js';
import { declaredRangesRule } from './declared-ranges.js';
import { federationPoolDisabledRule, federationPoolDisabledRccRule } from './federation-pool-disabled.js';
import { natCoverageRccRule, natCoverageRule } from './nat-coverage.js';
import { poolOverlapRule, rccOverlapRule } from './pool-overlap.js';
import { poolSpecRule } from './pool-spec.js';
import { rccDatastoreRule } from './rcc-datastore.js';
import { rccOverlayDefaultRule } from './rcc-overlay-default.js';

export const calicoRules: AnyRule[] = [
  // RemoteClusterConfiguration: the mutation first, so validation sees the defaulted object.
  rccOverlayDefaultRule,
  rccDatastoreRule,
  federationPoolDisabledRccRule,
  rccOverlapRule,
  natCoverageRccRule,
  declaredRangesRule,
  // IPPool
  poolSpecRule,
  federationPoolDisabledRule,
  poolOverlapRule,
  natCoverageRule,
];
