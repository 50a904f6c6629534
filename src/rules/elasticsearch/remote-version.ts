/**
 * `es-remote-version`: local and remote clusters must run compatible
 * Elasticsearch versions, by Elastic's compatibility table (`major.minor`).
 *
 * Denies:
 * - an object with `remoteClusters` whose `spec.version` is missing or does
 *   not parse (`spec.version`);
 * - per entry `i` whose referenced Elasticsearch is in the state
 *   (`spec.remoteClusters[i]`): this object's `spec.version` cannot reach the
 *   remote's `spec.version`, or its `status.version` when that differs (an
 *   upgrade in progress);
 * - the other direction (`spec.version`): an Elasticsearch in the state that
 *   references this one could no longer reach this object's `spec.version`
 *   (checked against the referrer's `spec.version` and differing
 *   `status.version`). This is a denial on CREATE and when `spec.version`
 *   changes; on other updates it is a warning, so an unrelated change is not
 *   blocked by a problem that lives in the other object.
 *
 * Warns instead of denying for a pair the table does not cover (a side older
 * than 7.17, an 8.x after 8.19, a major beyond 9), and when a remote's version
 * does not parse.
 *
 * Source:
 * Elastic docs "Remote clusters on ECK"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters-landing#prerequisites)
 * (the version compatibility table, see `compat-table.ts`); ECK
 * pkg/apis/elasticsearch/v1/remote_cluster.go `SupportsRemoteClusterAPIKeys`
 * (ECK reads the running version from `status.version`). ECK itself checks no
 * version compatibility between clusters: its webhook's remote-cluster check
 * (pkg/controller/elasticsearch/validation/validations.go
 * `supportsRemoteClusterUsingAPIKey`) is the API-key minimum version only.
 */
import { deny, warn, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule } from '../../engine/rule.js';
import type { Elasticsearch } from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import { declaredVersions, describeDeclared, referrersOf, remoteEntries, sameKey, type DeclaredVersion } from './common.js';
import { compatibility, describeReach } from './compat-table.js';
import { formatMajorMinor, parseEsVersion, type EsVersion } from './version.js';

export const REMOTE_VERSION_RULE = 'es-remote-version';

const VERSION_FIELD = fieldPath(['spec', 'version']);

/** One side of a pair: how messages name it, and the version considered. */
interface Side {
  label: string;
  version: DeclaredVersion;
}

/** Findings for one local → remote pair; the local side's version is parsed. */
function checkPair(local: Side, localVersion: EsVersion, remote: Side, field: string, fix: string, onIncompatible: typeof deny): Finding[] {
  if (!remote.version.parsed) {
    return [
      warn(
        REMOTE_VERSION_RULE,
        field,
        `cannot check version compatibility because ${remote.label} has version "${remote.version.raw}", which does not parse; fix that version`,
      ),
    ];
  }
  const l = `${local.label} at ${describeDeclared(local.version)}`;
  const r = `${remote.label} at ${describeDeclared(remote.version)}`;
  switch (compatibility(localVersion, remote.version.parsed)) {
    case 'compatible':
      return [];
    case 'uncovered':
      return [
        warn(
          REMOTE_VERSION_RULE,
          field,
          `${l} and ${r} are outside Elastic's compatibility table (7.17 to 9.x), so the pair is not checked; confirm it is supported`,
        ),
      ];
    case 'incompatible':
      return [
        onIncompatible(
          REMOTE_VERSION_RULE,
          field,
          `${l} cannot connect to ${r}: a local ${formatMajorMinor(localVersion)} cluster reaches remote ${describeReach(localVersion)} only (Elastic compatibility table); ${fix}`,
        ),
      ];
  }
}

/** This object as the local side: each referenced remote in the state. */
function forward(
  object: Elasticsearch,
  self: ObjectKey,
  local: Side,
  localVersion: EsVersion,
  lookup: (k: ObjectKey) => Elasticsearch | undefined,
): Finding[] {
  const out: Finding[] = [];
  for (const e of remoteEntries(object, self.namespace)) {
    if (!e.target || sameKey(e.target, self)) continue;
    const remote = lookup(e.target);
    if (!remote) continue;
    const field = fieldPath(['spec', 'remoteClusters', e.index]);
    for (const v of declaredVersions(remote)) {
      const fix = 'change this version or the remote one to a compatible pair, or remove the entry';
      out.push(...checkPair(local, localVersion, { label: `remote ${formatKey(e.target)}`, version: v }, field, fix, deny));
    }
  }
  return out;
}

/** This object as the remote side: each Elasticsearch in the state that references it. */
function reverse(state: Parameters<typeof referrersOf>[0], self: ObjectKey, remote: Side, onIncompatible: typeof deny): Finding[] {
  const out: Finding[] = [];
  for (const referrer of referrersOf(state, self)) {
    const aliases = [...new Set(referrer.entries.map((e) => e.entry.name).filter(Boolean))].join(', ');
    const label = `Elasticsearch ${formatKey(referrer.key)}${aliases ? ` (remote cluster alias ${aliases})` : ''}`;
    for (const v of declaredVersions(referrer.es)) {
      if (!v.parsed) continue; // the referrer's own bad version is reported when it is applied
      const fix = `keep a version ${formatKey(referrer.key)} can reach, or upgrade ${formatKey(referrer.key)} first`;
      out.push(...checkPair({ label, version: v }, v.parsed, remote, VERSION_FIELD, fix, onIncompatible));
    }
  }
  return out;
}

export const remoteVersionRule: Rule<'Elasticsearch'> = {
  id: REMOTE_VERSION_RULE,
  kind: 'Elasticsearch',
  summary: "Local and remote Elasticsearch versions are compatible per Elastic's table, in both directions.",
  needs: ['Elasticsearch'],
  validate({ object, oldObject, operation, namespace, name, ctx }) {
    const hasRemotes = (object.spec?.remoteClusters ?? []).length > 0;
    const raw = object.spec?.version;
    const local = parseEsVersion(raw);
    if (!local) {
      if (!hasRemotes) return [];
      const found = raw === undefined ? 'is not set' : `is "${raw}", which is not a version`;
      return [
        deny(
          REMOTE_VERSION_RULE,
          VERSION_FIELD,
          `the Elasticsearch version ${found}, so compatibility with the remote clusters cannot be checked; set it to a version such as 8.16.1`,
        ),
      ];
    }
    const self = { namespace, name };
    const version: DeclaredVersion = { source: 'spec', raw: raw ?? '', parsed: local };
    const versionChanged = operation === 'CREATE' || oldObject?.spec?.version !== raw;
    return [
      ...forward(object, self, { label: 'this cluster', version }, local, (k) => ctx.state.getElasticsearch(k)),
      ...reverse(ctx.state, self, { label: 'this cluster', version }, versionChanged ? deny : warn),
    ];
  },
};
