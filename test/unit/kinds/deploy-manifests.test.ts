/**
 * deploy/base agrees with the kind list (src/kube/kinds.ts): a kind added to
 * the list but not to the webhook configurations is never admitted, and one
 * missing from the ClusterRole is never watched, with no compiler error.
 *
 * Expectations, each derived from the list and the rule registry:
 * - ValidatingWebhookConfiguration: exactly every (group, version, resource)
 *   of every admitted kind; every admitted kind is validated, if only against
 *   its schema.
 * - MutatingWebhookConfiguration: every (group, version, resource) of each
 *   kind that has a mutating rule in ALL_RULES, and nothing that is not an
 *   admitted kind. A kind without mutating rules may be registered or not
 *   (IPPool is: its /mutate call only repeats the schema check).
 * - Both: CREATE and UPDATE (the operations the engine runs rules on), the
 *   kind's scope, and `matchPolicy: Equivalent` (kinds.ts matches by group
 *   and kind, whatever version the kube-apiserver sends).
 * - ClusterRole: list and watch on every admitted kind's resource in each of
 *   its groups (the live state's watches); besides, only core ConfigMaps
 *   (the CA ConfigMaps sources.ts watches and by-name-fetcher.ts gets) and
 *   list + watch on CRDs (cluster-watcher.ts watches them to find a kind whose
 *   CRD is installed later, and probes the API server with a CRD list), and
 *   the policy reports' needs (report-writer.ts): create, get, list, patch
 *   and delete on the report kinds of both report APIs, get on the install's
 *   ValidatingWebhookConfiguration by name.
 * - Deployment: a startupProbe on /healthz (the port opens before the API
 *   server is asked anything).
 *
 * And the ports agree: the Deployment's `--port`, `--metrics-port` and
 * `--health-port` (in the base, and after the existing-secret component's
 * JSONPatch, which cert-manager's builds on) are its named container ports; the probes use the health port
 * over plain HTTP; the Service targets the webhook port; the NetworkPolicy
 * opens the webhook port, the metrics port only to the `monitoring`
 * namespace, and not the health port (kubelet probes come from the node).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fjp, { type Operation } from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { HANDLED_KINDS, KINDS, type HandledKind } from '../../../src/kube/kinds.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { REPORT_APIS } from '../../../src/reports/build.js';
import { DEFAULT_FEDERATION_SECRET_NAMESPACE } from '../../../src/state/federation/federation-discovery.js';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf-8');
const docs = (path: string) => parseAllDocuments(read(path)).map((d) => d.toJS() as { kind: string; metadata: { name: string } });

interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  scope?: string;
}
interface WebhookConfiguration {
  kind: string;
  webhooks: { name: string; matchPolicy?: string; rules: WebhookRule[] }[];
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** `group/version/resource` of every version of every group of `kinds`, sorted. */
function gvrsOf(kinds: readonly HandledKind[]): string[] {
  return kinds.flatMap((k) => KINDS[k].groups.flatMap((g) => g.versions.map((v) => `${g.group}/${v}/${KINDS[k].resource}`))).sort();
}

/** The kind whose resource is `resource` in `group`. */
function kindAt(group: string, resource: string): HandledKind | undefined {
  return HANDLED_KINDS.find((k) => KINDS[k].resource === resource && KINDS[k].groups.some((g) => g.group === group));
}

/** The JSONPatch of a component's Deployment patch. */
function componentPatch(component: string): Operation[] {
  const k = parseAllDocuments(read(`deploy/components/${component}/kustomization.yaml`))[0]!.toJS() as {
    patches: { target?: { kind?: string }; patch: string }[];
  };
  const patch = k.patches.find((p) => p.target?.kind === 'Deployment');
  assert.ok(patch, `a Deployment patch in deploy/components/${component}`);
  return parseAllDocuments(patch.patch)[0]!.toJS() as Operation[];
}

const webhookConfigurations = docs('deploy/base/webhooks.yaml') as unknown as WebhookConfiguration[];

function configuration(kind: string): WebhookConfiguration {
  const found = webhookConfigurations.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in deploy/base/webhooks.yaml`);
  return found[0]!;
}

/** Every `group/version/resource` the configuration's webhooks register (the union of their rules' cross products), sorted, once each. */
function registered(config: WebhookConfiguration): string[] {
  const gvrs = config.webhooks.flatMap((w) =>
    w.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.apiVersions.flatMap((v) => r.resources.map((res) => `${g}/${v}/${res}`)))),
  );
  return [...new Set(gvrs)].sort();
}

/** Each rule registers its resources for CREATE and UPDATE, in the scope of their kinds, and every webhook matches equivalent versions. */
function assertRulesFitKinds(config: WebhookConfiguration): void {
  for (const w of config.webhooks) {
    assert.equal(w.matchPolicy, 'Equivalent', `${config.kind} ${w.name}: matchPolicy`);
    for (const r of w.rules) {
      for (const op of ['CREATE', 'UPDATE'])
        assert.ok(r.operations.includes(op), `${config.kind} ${w.name}: ${op} in ${JSON.stringify(r)}`);
      for (const g of r.apiGroups) {
        for (const res of r.resources) {
          const kind = kindAt(g, res);
          assert.ok(kind, `${config.kind} ${w.name} registers ${g}/${res}, which is no admitted kind in src/kube/kinds.ts`);
          assert.equal(r.scope, KINDS[kind].clusterScoped ? 'Cluster' : 'Namespaced', `${config.kind} ${w.name}: scope of ${g}/${res}`);
        }
      }
    }
  }
}

describe('deploy/base agrees with the kind list', () => {
  it('the ValidatingWebhookConfiguration registers exactly every admitted kind in every group and version', () => {
    const config = configuration('ValidatingWebhookConfiguration');
    assert.deepEqual(registered(config), gvrsOf(HANDLED_KINDS));
    assertRulesFitKinds(config);
  });

  it('the MutatingWebhookConfiguration registers every kind with a mutating rule, and only admitted kinds', () => {
    const config = configuration('MutatingWebhookConfiguration');
    const mutated = HANDLED_KINDS.filter((k) => ALL_RULES.some((r) => r.kind === k && r.mutate));
    const gvrs = registered(config);
    for (const gvr of gvrsOf(mutated))
      assert.ok(gvrs.includes(gvr), `${gvr} has mutating rules but is not in the MutatingWebhookConfiguration`);
    const admitted = gvrsOf(HANDLED_KINDS);
    for (const gvr of gvrs)
      assert.ok(admitted.includes(gvr), `the MutatingWebhookConfiguration registers ${gvr}, which no admitted kind is`);
    assertRulesFitKinds(config);
  });

  it('the ClusterRole grants list and watch on every admitted kind in each of its groups, and otherwise only core ConfigMaps, CRD list/watch and the policy reports', () => {
    const roles = docs('deploy/base/rbac.yaml').filter((d) => d.kind === 'ClusterRole') as unknown as { rules: PolicyRule[] }[];
    assert.equal(roles.length, 1, 'one ClusterRole in deploy/base/rbac.yaml');
    const rules = roles[0]!.rules;
    const grants = (group: string, resource: string) =>
      rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs);
    for (const kind of HANDLED_KINDS) {
      for (const { group } of KINDS[kind].groups) {
        const verbs = grants(group, KINDS[kind].resource);
        for (const verb of ['list', 'watch']) assert.ok(verbs.includes(verb), `ClusterRole: ${verb} on ${group}/${KINDS[kind].resource}`);
      }
    }
    // Events are off in the base, and so is the right to write them (deploy/components/events).
    assert.deepEqual(grants('events.k8s.io', 'events'), [], 'the base ClusterRole cannot write Events');
    const reportKinds = Object.values(REPORT_APIS).flatMap((a) =>
      [a.namespaced, a.cluster].map((k) => ({ group: a.group, resource: k.plural })),
    );
    for (const { group, resource } of reportKinds)
      for (const verb of ['create', 'get', 'list', 'patch', 'delete'])
        assert.ok(grants(group, resource).includes(verb), `ClusterRole: ${verb} on ${group}/${resource}`);
    const isReport = (group: string, resource: string, r: PolicyRule) =>
      reportKinds.some((k) => k.group === group && k.resource === resource) &&
      r.verbs.every((v) => ['create', 'get', 'list', 'patch', 'delete'].includes(v));
    const crdVerbs = grants('apiextensions.k8s.io', 'customresourcedefinitions');
    for (const verb of ['list', 'watch']) assert.ok(crdVerbs.includes(verb), `ClusterRole: ${verb} on customresourcedefinitions`);
    for (const r of rules) {
      for (const group of r.apiGroups) {
        for (const resource of r.resources) {
          const expected =
            group === ''
              ? resource === 'configmaps'
              : group === 'apiextensions.k8s.io'
                ? resource === 'customresourcedefinitions' && r.verbs.every((v) => v === 'list' || v === 'watch')
                : group === 'admissionregistration.k8s.io'
                  ? resource === 'validatingwebhookconfigurations' &&
                    r.verbs.join() === 'get' &&
                    r.resourceNames?.join() === 'remote-cluster-guard'
                  : kindAt(group, resource) !== undefined || isReport(group, resource, r);
          assert.ok(expected, `ClusterRole grants ${r.verbs.join(',')} on ${group || 'core'}/${resource}, which no admitted kind needs`);
        }
      }
    }
  });
});

interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string; scheme: string } };
  livenessProbe: { httpGet: { path: string; port: string; scheme: string } };
  startupProbe: { httpGet: { path: string; port: string; scheme: string } };
}

/** The value of `--<flag>=N` in `args`, as a number. */
function portFlag(args: readonly string[], flag: string): number {
  const found = args.filter((a) => a.startsWith(`--${flag}=`));
  assert.equal(found.length, 1, `one --${flag}= in ${JSON.stringify(args)}`);
  return Number(found[0]!.slice(flag.length + 3));
}

describe('deploy/components/events', () => {
  it('turns on --emit-events for denials and audit violations, and grants create and patch on Events and nothing else', () => {
    const deployment = docs('deploy/base/deployment.yaml')[0] as unknown as { spec: { template: { spec: { containers: Container[] } } } };
    const patched = fjp.applyPatch(structuredClone(deployment), componentPatch('events'), true).newDocument;
    assert.ok(patched.spec.template.spec.containers[0]!.args.includes('--emit-events=admission,audit'));
    const roles = docs('deploy/components/events/rbac.yaml').filter((d) => d.kind === 'ClusterRole') as unknown as {
      rules: PolicyRule[];
    }[];
    assert.deepEqual(
      roles.flatMap((r) => r.rules),
      [{ apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] }],
    );
  });
});

describe('deploy/components/federation-discovery', () => {
  it('turns on --federation-discovery, and grants get on Secrets in calico-system (the default --federation-secret-namespace) to the webhook and nothing else', () => {
    const deployment = docs('deploy/base/deployment.yaml')[0] as unknown as { spec: { template: { spec: { containers: Container[] } } } };
    const patched = fjp.applyPatch(structuredClone(deployment), componentPatch('federation-discovery'), true).newDocument;
    const args = patched.spec.template.spec.containers[0]!.args;
    assert.ok(args.includes('--federation-discovery'), args.join(' '));
    assert.ok(!args.some((a) => a.startsWith('--federation-secret-namespace')), 'the default namespace, calico-system');
    const rbac = docs('deploy/components/federation-discovery/rbac.yaml') as unknown as {
      kind: string;
      metadata: { name: string; namespace?: string };
      rules?: PolicyRule[];
      roleRef?: { kind: string; name: string };
      subjects?: unknown[];
    }[];
    assert.deepEqual(
      rbac.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
      ['Role', 'RoleBinding'].map((k) => `${k} ${DEFAULT_FEDERATION_SECRET_NAMESPACE}/remote-cluster-guard-federation-secret-reader`),
    );
    assert.deepEqual(rbac[0]!.rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    assert.deepEqual(rbac[1]!.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'remote-cluster-guard-federation-secret-reader',
    });
    assert.deepEqual(rbac[1]!.subjects, [{ kind: 'ServiceAccount', name: 'remote-cluster-guard', namespace: 'remote-cluster-guard' }]);
  });
});

describe('deploy/ ports: webhook, metrics and probes apart', () => {
  const deployment = docs('deploy/base/deployment.yaml')[0] as unknown as { spec: { template: { spec: { containers: Container[] } } } };
  const container = deployment.spec.template.spec.containers[0]!;
  const named = (name: string) => container.ports.find((p) => p.name === name)?.containerPort;
  const flags = (args: readonly string[]) => ({
    https: portFlag(args, 'port'),
    metrics: portFlag(args, 'metrics-port'),
    health: portFlag(args, 'health-port'),
  });

  it("the Deployment's port flags are its named container ports, also with the existing-secret component", () => {
    const ports = flags(container.args);
    assert.deepEqual(ports, { https: named('https'), metrics: named('metrics'), health: named('health') });
    assert.equal(new Set(Object.values(ports)).size, 3, 'three different ports');
    // The component's `test` operations fail here, as in kustomize, if the base's arguments moved.
    const patched = fjp.applyPatch(structuredClone(deployment), componentPatch('existing-secret'), true).newDocument;
    const args = patched.spec.template.spec.containers[0]!.args;
    assert.deepEqual(flags(args), ports);
    assert.ok(args.includes('--tls-cert=/etc/remote-cluster-guard/tls/tls.crt'), args.join(' '));
    assert.ok(!args.some((a) => a.startsWith('--manage-certs') || a.startsWith('--cert-')), args.join(' '));
  });

  it('the probes use the health port over plain HTTP', () => {
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'health', scheme: 'HTTP' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'health', scheme: 'HTTP' });
    assert.deepEqual(container.startupProbe.httpGet, { path: '/healthz', port: 'health', scheme: 'HTTP' });
  });

  it('the Service targets the webhook port', () => {
    const service = docs('deploy/base/service.yaml')[0] as unknown as { spec: { ports: { targetPort: string }[] } };
    assert.deepEqual(
      service.spec.ports.map((p) => p.targetPort),
      ['https'],
    );
  });

  it('the NetworkPolicy opens the webhook port, the metrics port to the monitoring namespace only, and not the health port', () => {
    const policy = docs('deploy/base/networkpolicy.yaml')[0] as unknown as {
      spec: { ingress: { from?: unknown[]; ports: { port: number }[] }[] };
    };
    const opened = (port: number | undefined) => policy.spec.ingress.filter((r) => r.ports.some((p) => p.port === port));
    const webhook = opened(named('https'));
    assert.equal(webhook.length, 1);
    assert.equal(webhook[0]!.from, undefined, 'the webhook port from anywhere: the kube-apiserver');
    assert.deepEqual(
      opened(named('metrics')).map((r) => r.from),
      [[{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]],
    );
    assert.deepEqual(opened(named('health')), []);
  });
});

describe('deploy/base/deployment.yaml', () => {
  it('has a startupProbe on /healthz, so a slow start is not killed by the liveness probe', () => {
    const deployment = docs('deploy/base/deployment.yaml').find((d) => d.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { startupProbe?: { httpGet?: { path?: string } } }[] } } };
    };
    const probe = deployment.spec.template.spec.containers[0]!.startupProbe;
    assert.equal(probe?.httpGet?.path, '/healthz');
  });
});
