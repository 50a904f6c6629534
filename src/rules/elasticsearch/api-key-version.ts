/**
 * `es-api-key-version` (deny): the API-key security model needs
 * Elasticsearch 8.10.0 or later on both sides.
 *
 * Denies:
 * - `spec.remoteClusters[i].apiKey` when this object's `spec.version` is
 *   below 8.10.0 (one finding per entry using an API key);
 * - `spec.remoteClusterServer.enabled: true` when `spec.version` is below
 *   8.10.0, or does not parse and no `remoteClusters` are set (with
 *   `remoteClusters`, `es-remote-version` already reports a bad version);
 * - `spec.remoteClusters[i].apiKey` when the referenced Elasticsearch (in the
 *   state) has a `spec.version` or differing `status.version` below 8.10.0:
 *   its remote cluster server cannot run.
 *
 * Pre-release tags are ignored (`8.10.0-SNAPSHOT` passes).
 *
 * Source: ECK pkg/apis/elasticsearch/v1/remote_cluster.go
 * `RemoteClusterAPIKeysMinVersion` = 8.10.0 (8.9.x is rejected by ECK's own
 * webhook, pkg/controller/elasticsearch/validation/validations.go
 * `supportsRemoteClusterUsingAPIKey`);
 * ECK docs "Remote clusters", "Using the API key security model"
 * (https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html#k8s_using_the_api_key_security_model;
 * current: https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters).
 */
import { deny, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule } from '../../engine/rule.js';
import { formatKey } from '../../kube/meta.js';
import { declaredVersions, describeDeclared, remoteEntries, sameKey, usesApiKey } from './common.js';
import { API_KEY_MIN_VERSION, parseEsVersion, supportsApiKeys } from './version.js';

export const API_KEY_VERSION_RULE = 'es-api-key-version';

const MIN = API_KEY_MIN_VERSION.text;

export const apiKeyVersionRule: Rule<'Elasticsearch'> = {
  id: API_KEY_VERSION_RULE,
  kind: 'Elasticsearch',
  summary: `remoteClusters[].apiKey and remoteClusterServer need Elasticsearch ${MIN} or later, locally and on the remote.`,
  validate({ object, namespace, name, ctx }) {
    const out: Finding[] = [];
    const raw = object.spec?.version;
    const local = parseEsVersion(raw);
    const entries = remoteEntries(object, namespace);
    const tooOld = local !== undefined && !supportsApiKeys(local);

    if (object.spec?.remoteClusterServer?.enabled === true) {
      const field = fieldPath(['spec', 'remoteClusterServer', 'enabled']);
      if (tooOld) {
        out.push(
          deny(
            API_KEY_VERSION_RULE,
            field,
            `the remote cluster server needs Elasticsearch ${MIN} or later and this cluster is at ${raw}; upgrade it to ${MIN} or later, or leave the server disabled and let referrers use the certificate security model`,
          ),
        );
      } else if (!local && entries.length === 0) {
        const found = raw === undefined ? 'is not set' : `"${raw}" is not a version`;
        out.push(
          deny(
            API_KEY_VERSION_RULE,
            field,
            `the remote cluster server needs Elasticsearch ${MIN} or later and the version ${found}; set spec.version to ${MIN} or later`,
          ),
        );
      }
    }

    for (const e of entries) {
      if (!usesApiKey(e.entry)) continue;
      const field = fieldPath(['spec', 'remoteClusters', e.index, 'apiKey']);
      if (tooOld) {
        out.push(
          deny(
            API_KEY_VERSION_RULE,
            field,
            `API keys for remote clusters need Elasticsearch ${MIN} or later and this cluster is at ${raw}; upgrade it to ${MIN} or later, or remove apiKey to use the certificate security model`,
          ),
        );
      }
      if (!e.target || sameKey(e.target, { namespace, name })) continue;
      const remote = ctx.state.getElasticsearch(e.target);
      if (!remote) continue;
      const old = declaredVersions(remote).find((v) => v.parsed !== undefined && !supportsApiKeys(v.parsed));
      if (old) {
        out.push(
          deny(
            API_KEY_VERSION_RULE,
            field,
            `remote ${formatKey(e.target)} is at ${describeDeclared(old)} and cannot serve API-key connections before Elasticsearch ${MIN}; upgrade ${formatKey(e.target)} to ${MIN} or later first, or remove apiKey to use the certificate security model`,
          ),
        );
      }
    }
    return out;
  },
};
