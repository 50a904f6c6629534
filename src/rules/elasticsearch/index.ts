/** The Elasticsearch rules, in the order the engine runs them (mutations first feed later ones). */
import type { Rule } from '../../engine/rule.js';

export const elasticsearchRules: Rule<'Elasticsearch'>[] = [];
