/**
 * `es-remote-cluster-server`: the API-key security model needs
 * `spec.remoteClusterServer.enabled: true` on the *remote* cluster.
 *
 * Mutate: when an Elasticsearch in the state references this one with an
 * `apiKey` entry and this object does not have the server enabled, patch
 * `spec.remoteClusterServer.enabled: true` (adding `spec` and
 * `spec.remoteClusterServer` when missing; an explicit `false` is replaced:
 * the referrer's API-key connection cannot work without it), with a warning
 * that this restarts the cluster and naming the referrers. Idempotent: an
 * enabled object yields no patch and no finding. When this object's
 * `spec.version` is below 8.10.0 (or does not parse) nothing is patched
 * (`es-api-key-version` would deny the result): a warning says so instead.
 *
 * Validate (warn): an `apiKey` entry of this object whose remote is in the
 * state without the server enabled (`spec.remoteClusters[i].apiKey`).
 *
 * Source:
 * ECK docs "Remote clusters", "Using the API key security model"
 * (https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html#k8s_using_the_api_key_security_model;
 * current: https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters):
 * "To enable the API key security model you must first enable the remote
 * cluster server on the remote Elasticsearch cluster"; "Enabling the remote
 * cluster server triggers a restart". Minimum version 8.10.0: ECK
 * pkg/apis/elasticsearch/v1/remote_cluster.go `RemoteClusterAPIKeysMinVersion`.
 */
import { warn, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Mutation, Rule } from '../../engine/rule.js';
import type { Elasticsearch } from '../../kube/elasticsearch.js';
import { formatKey } from '../../kube/meta.js';
import { addWithParents, referrersOf, remoteEntries, sameKey, usesApiKey } from './common.js';
import { API_KEY_MIN_VERSION, parseEsVersion, supportsApiKeys } from './version.js';

export const REMOTE_CLUSTER_SERVER_RULE = 'es-remote-cluster-server';

const ENABLED_FIELD = fieldPath(['spec', 'remoteClusterServer', 'enabled']);

function mutate(object: Elasticsearch, namespace: string, name: string, state: Parameters<typeof referrersOf>[0]): Mutation {
  if (object.spec?.remoteClusterServer?.enabled === true) return { patch: [], findings: [] };
  const referrers = referrersOf(state, { namespace, name }).filter((r) => r.entries.some((e) => usesApiKey(e.entry)));
  if (referrers.length === 0) return { patch: [], findings: [] };
  const who = referrers.map((r) => formatKey(r.key)).join(', ');
  const raw = object.spec?.version;
  const version = parseEsVersion(raw);
  if (!version || !supportsApiKeys(version)) {
    const at = version ? `this cluster is at ${raw}` : 'this cluster has no valid version';
    return {
      patch: [],
      findings: [
        warn(
          REMOTE_CLUSTER_SERVER_RULE,
          ENABLED_FIELD,
          `not enabled for the API key of ${who}: the server needs ${API_KEY_MIN_VERSION.text} or later and ${at}; upgrade, then enable it`,
        ),
      ],
    };
  }
  const wasFalse = object.spec?.remoteClusterServer?.enabled === false ? ' (it was false)' : '';
  return {
    patch: [addWithParents(object, ['spec', 'remoteClusterServer', 'enabled'], true)],
    findings: [
      warn(
        REMOTE_CLUSTER_SERVER_RULE,
        ENABLED_FIELD,
        `set to true${wasFalse} because ${who} connects with an API key; this restarts every node of this cluster`,
      ),
    ],
  };
}

export const remoteClusterServerRule: Rule<'Elasticsearch'> = {
  id: REMOTE_CLUSTER_SERVER_RULE,
  kind: 'Elasticsearch',
  summary: 'Enables remoteClusterServer on clusters that others reach with an API key; warns when a remote lacks it.',
  needs: ['Elasticsearch'],
  mutate({ object, namespace, name, ctx }) {
    return mutate(object, namespace, name, ctx.state);
  },
  validate({ object, namespace, name, ctx }) {
    const out: Finding[] = [];
    for (const e of remoteEntries(object, namespace)) {
      if (!usesApiKey(e.entry) || !e.target || sameKey(e.target, { namespace, name })) continue;
      const remote = ctx.state.getElasticsearch(e.target);
      if (!remote || remote.spec?.remoteClusterServer?.enabled === true) continue;
      const r = formatKey(e.target);
      out.push(
        warn(
          REMOTE_CLUSTER_SERVER_RULE,
          fieldPath(['spec', 'remoteClusters', e.index, 'apiKey']),
          `remote ${r} lacks remoteClusterServer.enabled: true, which API keys need; the webhook sets it when ${r} is next applied (restarting it)`,
        ),
      );
    }
    return out;
  },
};
