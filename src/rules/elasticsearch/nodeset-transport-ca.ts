/**
 * `es-nodeset-transport-ca`: each file a nodeSet's `config` lists in
 * `xpack.security.transport.ssl.certificate_authorities` (how the ECK guides
 * trust a CA of a cluster outside this ECK: a Secret mounted at
 * /usr/share/elasticsearch/config/other) must exist in the `elasticsearch`
 * container and hold valid CA certificates. Elasticsearch reads these files
 * only when a node starts, so a mistake shows only at the next restart, as
 * nodes that do not start.
 *
 * Validate, per path (resolution in ca-trust.ts):
 * - deny, the file cannot exist, so every node fails to start: the path is
 *   under the config directory, outside every mount, with the stock image;
 *   the volume's `items` do not project it; a Secret/ConfigMap volume without
 *   items has no sub-directories; the Secret or ConfigMap does not exist (the
 *   API server said so, or the manifests hold none) or lacks the key;
 * - deny, the file is not usable (ca-findings.ts): no certificate, a block
 *   that does not parse, a certificate that is not a CA, an expired one;
 * - warn, "cannot verify: <reason>", never a denial: a Secret that may not be
 *   read (Secret reads not enabled for its namespace, a failed read), `..` in
 *   the path, subPathExpr, a volume type other than Secret, ConfigMap or
 *   projected, a projected source of another kind, a custom image that may
 *   ship the file, a path in ECK's own mounts, a setting that is neither a
 *   string nor a list of strings, a podTemplate that is not one;
 * - warn: a CA expiring within 30 days or not valid yet; "cannot verify" a
 *   block that is not a certificate (a private key): whether Elasticsearch's
 *   PEM reader skips it is not checked here.
 * Files ECK provides itself (transport-certs/ca.crt, transport-remote-certs/ca.crt)
 * are accepted as they are.
 *
 * Sources: ECK docs "Remote clusters"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters,
 * https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters-to-external;
 * ECK 1.2 text with the `remote-certs` Secret:
 * https://www.elastic.co/guide/en/cloud-on-k8s/1.2/k8s-remote-clusters.html);
 * Elasticsearch `SslConfigurationLoader` (paths resolve against the config directory).
 */
import { deny, warn, type Finding } from '../../engine/finding.js';
import type { Rule } from '../../engine/rule.js';
import type { Elasticsearch } from '../../kube/elasticsearch.js';
import type { ClusterState } from '../../state/cluster-state.js';
import { caBundleFindings } from './ca-findings.js';
import { caSettingPaths, resolveCaPath } from '../../kube/eck-ca-files.js';
import { describeSource, readCandidates } from './ca-trust.js';

export const NODESET_TRANSPORT_CA_RULE = 'es-nodeset-transport-ca';

const NODES_FAIL = 'Elasticsearch nodes do not start without it';

function cannotVerify(field: string, what: string, reason: string): Finding {
  return warn(NODESET_TRANSPORT_CA_RULE, field, `cannot verify ${what}: ${reason}`);
}

function validate(es: Elasticsearch, namespace: string, state: ClusterState, now: Date): Finding[] {
  const out: Finding[] = [];
  (es.spec?.nodeSets ?? []).forEach((nodeSet, i) => {
    const setting = caSettingPaths(nodeSet, i);
    if (!setting) return;
    for (const p of setting.problems) out.push(cannotVerify(p.field, 'the trusted CA files', p.reason));
    for (const p of setting.paths) {
      const what = `CA file ${p.raw}`;
      const r = resolveCaPath(es, nodeSet, p.raw, namespace);
      if (r.status === 'eck') continue;
      if (r.status === 'unverifiable') {
        out.push(cannotVerify(p.field, what, r.reason));
        continue;
      }
      if (r.status === 'missing') {
        out.push(deny(NODESET_TRANSPORT_CA_RULE, p.field, `${what} will not exist: ${r.reason}; ${NODES_FAIL}`));
        continue;
      }
      const content = readCandidates(r.candidates, state);
      if (content.status === 'unknown') out.push(cannotVerify(p.field, what, content.reason));
      else if (content.status === 'missing')
        out.push(deny(NODESET_TRANSPORT_CA_RULE, p.field, `${what} will not exist: ${content.reason}; ${NODES_FAIL}`));
      else
        out.push(
          ...caBundleFindings(
            NODESET_TRANSPORT_CA_RULE,
            p.field,
            `${what} (${describeSource(content.candidate)})`,
            content.report,
            now,
            'unverified',
          ),
        );
    }
  });
  return out;
}

export const nodeSetTransportCaRule: Rule<'Elasticsearch'> = {
  id: NODESET_TRANSPORT_CA_RULE,
  kind: 'Elasticsearch',
  summary:
    'each xpack.security.transport.ssl.certificate_authorities file of a nodeSet config is mounted from an existing Secret or ConfigMap key holding valid CA certificates.',
  needs: ['ConfigMap'],
  validate({ object, namespace, ctx }) {
    return validate(object, namespace, ctx.state, ctx.now);
  },
};
