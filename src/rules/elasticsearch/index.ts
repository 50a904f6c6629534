/**
 * The Elasticsearch rules, in the order the engine runs them (mutations first
 * feed later ones): namespace defaulting first, so every later rule reads
 * resolved references; then the other mutating rules; then validations.
 */
import type { Rule } from '../../engine/rule.js';
import { apiKeyVersionRule } from './api-key-version.js';
import { caCopyStaleRule } from './ca-copy-stale.js';
import { caOwnerReferenceRule } from './ca-owner-reference.js';
import { defaultNamespaceRule } from './default-namespace.js';
import { enterpriseLicenseRule } from './enterprise-license.js';
import { nodeSetTransportCaRule } from './nodeset-transport-ca.js';
import { remoteClusterServerRule } from './remote-cluster-server.js';
import { remoteRefRule } from './remote-ref.js';
import { remoteVersionRule } from './remote-version.js';
import { transportCaRule } from './transport-ca.js';

export const elasticsearchRules: Rule<'Elasticsearch'>[] = [
  defaultNamespaceRule,
  remoteClusterServerRule,
  transportCaRule,
  nodeSetTransportCaRule,
  caOwnerReferenceRule,
  caCopyStaleRule,
  remoteRefRule,
  remoteVersionRule,
  apiKeyVersionRule,
  enterpriseLicenseRule,
];
