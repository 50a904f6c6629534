/** Every rule the webhook runs, per product. */
import type { AnyRule } from '../engine/rule.js';
import { calicoRules } from './calico/index.js';
import { elasticsearchRules } from './elasticsearch/index.js';

export const ALL_RULES: readonly AnyRule[] = [...elasticsearchRules, ...calicoRules];
