/**
 * `es-remote-ref`: each `spec.remoteClusters[]` entry must be one ECK will
 * actually act on.
 *
 * Denies, per entry `i` (field in brackets):
 * - no or empty `name` (`[i].name`); a name that is not a usable cluster
 *   alias: contains `:`, `*`, `,` or whitespace (`[i].name`), since
 *   Elasticsearch uses `alias:index` and comma-separated lists in requests;
 * - a name used again by a later entry (`[i].name` on every entry but the
 *   last): ECK silently keeps only the last entry of a duplicated name;
 * - `elasticsearchRef.namespace` or `serviceName` without `name`
 *   (`[i].elasticsearchRef.name`): ECK's rule for local refs,
 *   pkg/apis/common/v1/common.go `LocalObjectSelector.IsValid` (ECK 3.4 and
 *   later, used for Kibana's `packageRegistryRef`), which ECK does not apply to
 *   `remoteClusters`: it skips such an entry silently, as it skips one with no
 *   `elasticsearchRef.name` at all (also denied);
 * - a reference to the object itself, the ref namespace defaulting to the
 *   object's (`[i].elasticsearchRef`);
 * - `elasticsearchRef.apiKey` (`[i].elasticsearchRef.apiKey`): a mistake
 *   copied from docs; ECK ignores it, `apiKey` belongs beside `elasticsearchRef`;
 * - `apiKey` without `access` (`[i].apiKey`), and `access` with neither
 *   `search` nor `replication` (`[i].apiKey.access`; the cross-cluster API key
 *   API needs at least one).
 *
 * Warns when the referenced Elasticsearch is not in the cluster state (only
 * once the state has synced its Elasticsearch list): ECK would wait for it.
 *
 * Source: ECK pkg/apis/elasticsearch/v1/elasticsearch_types.go `RemoteCluster`
 * and pkg/controller/elasticsearch/remotecluster/elasticsearch.go
 * `getRemoteClustersInSpec` (an entry without `ElasticsearchRef.IsSet()` is
 * skipped; entries go into a map keyed by `Name`, so the last of a duplicated
 * name wins). ECK never checks self-reference, duplicate names or that the
 * referenced cluster exists.
 * ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters;
 * ECK 2.16 text: https://www.elastic.co/guide/en/cloud-on-k8s/2.16/k8s-remote-clusters.html).
 */
import { deny, warn, type Finding } from '../../engine/finding.js';
import { fieldPath, type PathSegment } from '../../common/field-path.js';
import type { Rule } from '../../engine/rule.js';
import { formatKey } from '../../kube/meta.js';
import { remoteEntries, sameKey, type RemoteEntry } from './common.js';

export const REMOTE_REF_RULE = 'es-remote-ref';

/** Characters Elasticsearch cannot have in a remote cluster alias (`alias:index`, `a,b`, `*` patterns). */
const BAD_ALIAS = /[:*,\s]/;

function at(i: number, ...rest: PathSegment[]): string {
  return fieldPath(['spec', 'remoteClusters', i, ...rest]);
}

function describeChar(c: string): string {
  if (/\s/.test(c)) return 'whitespace';
  return `"${c}"`;
}

function checkName(e: RemoteEntry, lastIndexByName: Map<string, number>): Finding[] {
  const name = e.entry.name;
  if (!name) {
    return [
      deny(
        REMOTE_REF_RULE,
        at(e.index, 'name'),
        'this remote cluster has no name; set it to the alias to use in cross-cluster requests, for example the remote Elasticsearch name',
      ),
    ];
  }
  const out: Finding[] = [];
  const bad = BAD_ALIAS.exec(name);
  if (bad) {
    out.push(
      deny(
        REMOTE_REF_RULE,
        at(e.index, 'name'),
        `alias "${name}" contains ${describeChar(bad[0])}, which cannot be used in a cluster alias (no ":", "*", "," or whitespace); rename it, for example to "${name.replace(/[:*,\s]+/g, '-')}"`,
      ),
    );
  }
  const last = lastIndexByName.get(name);
  if (last !== undefined && last !== e.index) {
    out.push(
      deny(
        REMOTE_REF_RULE,
        at(e.index, 'name'),
        `alias "${name}" is used again by entry ${last} and ECK silently keeps only the last entry with a name, so this one would be ignored; give each remote cluster a distinct name or remove the duplicate`,
      ),
    );
  }
  return out;
}

function checkRef(
  e: RemoteEntry,
  self: { namespace: string; name: string },
  stateChecks: boolean,
  exists: (e: RemoteEntry) => boolean,
): Finding[] {
  const ref = e.entry.elasticsearchRef;
  const out: Finding[] = [];
  if (ref?.apiKey !== undefined) {
    out.push(
      deny(
        REMOTE_REF_RULE,
        at(e.index, 'elasticsearchRef', 'apiKey'),
        'apiKey is not a field of elasticsearchRef and ECK ignores it here, so the connection would not use an API key; move apiKey up one level, beside elasticsearchRef',
      ),
    );
  }
  if (!e.target) {
    const given = [ref?.namespace ? 'namespace' : '', ref?.serviceName ? 'serviceName' : ''].filter(Boolean).join(' and ');
    out.push(
      given
        ? deny(
            REMOTE_REF_RULE,
            at(e.index, 'elasticsearchRef', 'name'),
            `elasticsearchRef sets ${given} but no name, which ECK rejects as an invalid reference; add the name of the Elasticsearch to connect to`,
          )
        : deny(
            REMOTE_REF_RULE,
            at(e.index, 'elasticsearchRef', 'name'),
            'no Elasticsearch is referenced, so ECK would silently skip this remote cluster; set elasticsearchRef.name (and namespace when it lives elsewhere)',
          ),
    );
    return out;
  }
  if (sameKey(e.target, self)) {
    out.push(
      deny(
        REMOTE_REF_RULE,
        at(e.index, 'elasticsearchRef'),
        `this entry references ${formatKey(self)} itself, and a cluster cannot be its own remote cluster; reference another Elasticsearch or remove the entry`,
      ),
    );
  } else if (stateChecks && !exists(e)) {
    out.push(
      warn(
        REMOTE_REF_RULE,
        at(e.index, 'elasticsearchRef'),
        `Elasticsearch ${formatKey(e.target)} was not found, so ECK waits until it exists; create it or fix the name and namespace`,
      ),
    );
  }
  return out;
}

function checkApiKey(e: RemoteEntry): Finding[] {
  const apiKey = e.entry.apiKey;
  if (apiKey === undefined) return [];
  const access = apiKey.access;
  if (access === undefined) {
    return [
      deny(
        REMOTE_REF_RULE,
        at(e.index, 'apiKey'),
        'apiKey has no access, which ECK requires to create the cross-cluster API key; add access.search and/or access.replication with the index names',
      ),
    ];
  }
  if (access.search === undefined && access.replication === undefined) {
    return [
      deny(
        REMOTE_REF_RULE,
        at(e.index, 'apiKey', 'access'),
        'access grants neither search nor replication, and a cross-cluster API key needs at least one; add search.names and/or replication.names',
      ),
    ];
  }
  return [];
}

export const remoteRefRule: Rule<'Elasticsearch'> = {
  id: REMOTE_REF_RULE,
  kind: 'Elasticsearch',
  summary: 'remoteClusters entries have a unique valid alias, a reference to another existing Elasticsearch, and a well-placed apiKey.',
  validate({ object, namespace, name, ctx }) {
    const entries = remoteEntries(object, namespace);
    const lastIndexByName = new Map<string, number>();
    for (const e of entries) if (e.entry.name) lastIndexByName.set(e.entry.name, e.index);
    const stateChecks = ctx.state.isSynced('Elasticsearch');
    const exists = (e: RemoteEntry) => e.target !== undefined && ctx.state.getElasticsearch(e.target) !== undefined;
    return entries.flatMap((e) => [
      ...checkName(e, lastIndexByName),
      ...checkRef(e, { namespace, name }, stateChecks, exists),
      ...checkApiKey(e),
    ]);
  },
};
