/** The Calico federation rules, in the order the engine runs them. */
import type { AnyRule } from '../../engine/rule.js';

export const calicoRules: AnyRule[] = [];
