/**
 * What `helm template` renders, parsed: the objects of deploy/ named after
 * the release (`remote-cluster-guard` for the release of that name), each
 * certificate mode's args, volumes, annotations and RBAC, the namespaces both
 * webhooks skip, the configuration file the webhook accepts (mounted as a
 * directory, so a change reaches running Pods), the ServiceMonitor only when
 * the cluster serves monitoring.coreos.com/v1, and the webhook configurations
 * last in Helm's install order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/config-file.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { DEFAULT_MAX_REMOTE_OBJECTS } from '../../src/state/federation/remote-cluster-watcher.js';
import { DEFAULT_FEDERATION_SECRET_NAMESPACE } from '../../src/state/federation/federation-discovery.js';
import { find, modeValues, RELEASE, render, testCa, type K8sObject } from './support.js';

interface Container {
  args: string[];
  volumeMounts: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  securityContext: Record<string, unknown>;
  image: string;
}
interface PodSpec {
  containers: Container[];
  volumes: { name: string; secret?: { secretName: string }; emptyDir?: unknown; configMap?: { name: string } }[];
  securityContext: Record<string, unknown>;
  topologySpreadConstraints?: unknown[];
}
interface Deployment {
  spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } };
}
interface Webhook {
  name: string;
  failurePolicy: string;
  timeoutSeconds: number;
  clientConfig: { caBundle?: string; service: { name: string; namespace: string; path: string; port: number } };
  namespaceSelector: { matchLabels?: Record<string, string>; matchExpressions: { key: string; operator: string; values: string[] }[] };
  objectSelector?: unknown;
  rules: unknown[];
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

const deployment = (objects: K8sObject[], name = RELEASE) => find(objects, 'Deployment', name) as unknown as Deployment;
const container = (objects: K8sObject[], name = RELEASE) => deployment(objects, name).spec.template.spec.containers[0]!;
const webhooks = (objects: K8sObject[], name = RELEASE) =>
  ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].map((kind) => {
    const config = find(objects, kind, name) as unknown as { metadata: K8sObject['metadata']; webhooks: Webhook[] };
    assert.equal(config.webhooks.length, 1, kind);
    return { kind, annotations: config.metadata.annotations, webhook: config.webhooks[0]! };
  });
const names = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
const rulesOf = (objects: K8sObject[], kind: string, name: string) =>
  (find(objects, kind, name) as unknown as { rules: PolicyRule[] }).rules;

describe('helm template with the default values (certificates.mode selfManaged)', () => {
  it("renders deploy/'s objects, named after the release, in the release namespace (the licence reader in the ECK operator namespace)", async () => {
    const objects = await render();
    assert.deepEqual(names(objects), [
      'ClusterRole//remote-cluster-guard',
      'ClusterRole//remote-cluster-guard-certs',
      'ClusterRoleBinding//remote-cluster-guard',
      'ClusterRoleBinding//remote-cluster-guard-certs',
      'ConfigMap/remote-cluster-guard/remote-cluster-guard-config',
      'Deployment/remote-cluster-guard/remote-cluster-guard',
      'MutatingWebhookConfiguration//remote-cluster-guard',
      'NetworkPolicy/remote-cluster-guard/remote-cluster-guard',
      'PodDisruptionBudget/remote-cluster-guard/remote-cluster-guard',
      'Role/elastic-system/remote-cluster-guard-licence-reader',
      'Role/remote-cluster-guard/remote-cluster-guard-certs',
      'RoleBinding/elastic-system/remote-cluster-guard-licence-reader',
      'RoleBinding/remote-cluster-guard/remote-cluster-guard-certs',
      'Service/remote-cluster-guard/remote-cluster-guard',
      'ServiceAccount/remote-cluster-guard/remote-cluster-guard',
      'ValidatingWebhookConfiguration//remote-cluster-guard',
    ]);
  });

  it('runs serve --manage-certs for its own Service, Secret and webhook configurations, from an in-memory emptyDir', async () => {
    const objects = await render();
    const c = container(objects);
    assert.deepEqual(c.args, [
      'serve',
      '--port=8443',
      '--metrics-port=8080',
      '--health-port=8081',
      '--manage-certs',
      '--cert-dir=/var/run/remote-cluster-guard/certs',
      '--cert-namespace=remote-cluster-guard',
      '--cert-secret=remote-cluster-guard-certs',
      '--cert-service=remote-cluster-guard',
      '--cert-validity-days=365',
      '--cert-renew-before-days=30',
      '--cert-check-interval=60',
      '--webhook-configuration=remote-cluster-guard',
      '--config=/etc/remote-cluster-guard/config/config.yaml',
      '--audit-interval=300',
      '--reports=auto',
      '--decision-log=-',
    ]);
    const volumes = deployment(objects).spec.template.spec.volumes;
    assert.deepEqual(volumes.find((v) => v.name === 'tls')?.emptyDir, { medium: 'Memory', sizeLimit: '1Mi' });
    assert.equal(c.volumeMounts.find((m) => m.name === 'tls')?.mountPath, '/var/run/remote-cluster-guard/certs');
  });

  it('grants --manage-certs create on Secrets, get/update on its one Secret and on its two webhook configurations only', async () => {
    const objects = await render();
    assert.deepEqual(rulesOf(objects, 'Role', 'remote-cluster-guard-certs'), [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['remote-cluster-guard-certs'], verbs: ['get', 'update'] },
    ]);
    assert.deepEqual(rulesOf(objects, 'ClusterRole', 'remote-cluster-guard-certs'), [
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'],
        resourceNames: ['remote-cluster-guard'],
        verbs: ['get', 'update'],
      },
    ]);
    for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
      const binding = find(objects, kind, 'remote-cluster-guard-certs') as unknown as { subjects: unknown[] };
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'remote-cluster-guard', namespace: 'remote-cluster-guard' }]);
    }
  });

  it('leaves caBundle out of both webhooks (the webhook writes it, and helm upgrade keeps it) and calls the Service on 443', async () => {
    for (const { kind, annotations, webhook } of webhooks(await render())) {
      assert.equal(webhook.clientConfig.caBundle, undefined, kind);
      assert.equal(annotations, undefined, kind);
      assert.deepEqual(webhook.clientConfig.service, {
        name: 'remote-cluster-guard',
        namespace: 'remote-cluster-guard',
        path: kind.startsWith('Mutating') ? '/mutate' : '/validate',
        port: 443,
      });
      assert.equal(webhook.failurePolicy, 'Fail');
      assert.equal(webhook.timeoutSeconds, 5);
    }
  });

  it('meets the restricted Pod Security Standard and spreads the replicas across nodes', async () => {
    const objects = await render();
    const pod = deployment(objects).spec.template.spec;
    assert.equal(deployment(objects).spec.replicas, 2);
    assert.equal(pod.securityContext['runAsNonRoot'], true);
    assert.deepEqual(pod.securityContext['seccompProfile'], { type: 'RuntimeDefault' });
    assert.deepEqual(pod.containers[0]!.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    assert.deepEqual(pod.topologySpreadConstraints, [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'remote-cluster-guard', 'app.kubernetes.io/instance': 'remote-cluster-guard' },
        },
      },
    ]);
    assert.equal(pod.containers[0]!.image, 'remote-cluster-guard:0.1.0');
  });

  it('creates the webhook configurations last: the order of `helm template` is the order `helm install` creates in', async () => {
    const kinds = (await render()).map((o) => o.kind);
    assert.deepEqual(kinds.slice(-2), ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    assert.ok(kinds.indexOf('Deployment') < kinds.indexOf('MutatingWebhookConfiguration'));
  });
});

describe('certificates.mode certManager', () => {
  it('issues the serving certificate from a self-signed CA of the release into <fullname>-tls, and both configurations inject its CA', async () => {
    const objects = await render(modeValues('certManager'));
    const serving = find(objects, 'Certificate', 'remote-cluster-guard') as unknown as { spec: Record<string, unknown> };
    assert.equal(serving.spec['secretName'], 'remote-cluster-guard-tls');
    assert.deepEqual(serving.spec['dnsNames'], [
      'remote-cluster-guard.remote-cluster-guard.svc',
      'remote-cluster-guard.remote-cluster-guard.svc.cluster.local',
    ]);
    assert.deepEqual(serving.spec['issuerRef'], { name: 'remote-cluster-guard-ca', kind: 'Issuer', group: 'cert-manager.io' });
    const ca = find(objects, 'Certificate', 'remote-cluster-guard-ca') as unknown as { spec: Record<string, unknown> };
    assert.equal(ca.spec['isCA'], true);
    assert.deepEqual(ca.spec['issuerRef'], { name: 'remote-cluster-guard-selfsigned', kind: 'Issuer', group: 'cert-manager.io' });
    assert.deepEqual((find(objects, 'Issuer', 'remote-cluster-guard-selfsigned') as unknown as { spec: unknown }).spec, { selfSigned: {} });
    assert.deepEqual((find(objects, 'Issuer', 'remote-cluster-guard-ca') as unknown as { spec: unknown }).spec, {
      ca: { secretName: 'remote-cluster-guard-ca' },
    });
    for (const { kind, annotations, webhook } of webhooks(objects)) {
      assert.deepEqual(annotations, { 'cert-manager.io/inject-ca-from': 'remote-cluster-guard/remote-cluster-guard' }, kind);
      assert.equal(webhook.clientConfig.caBundle, undefined, kind);
    }
  });

  it('serves from the Secret with --tls-cert/--tls-key, and has no --manage-certs RBAC', async () => {
    const objects = await render(modeValues('certManager'));
    const c = container(objects);
    assert.ok(c.args.includes('--tls-cert=/etc/remote-cluster-guard/tls/tls.crt'));
    assert.ok(c.args.includes('--tls-key=/etc/remote-cluster-guard/tls/tls.key'));
    assert.ok(!c.args.some((a) => a.startsWith('--manage-certs') || a.startsWith('--cert-')));
    const volumes = deployment(objects).spec.template.spec.volumes;
    assert.deepEqual(volumes.find((v) => v.name === 'tls')?.secret, { secretName: 'remote-cluster-guard-tls' });
    assert.ok(!names(objects).some((n) => n.endsWith('remote-cluster-guard-certs')), names(objects).join('\n'));
  });

  it('with an issuerRef, issues from it and makes no Issuer or CA of its own', async () => {
    const objects = await render([
      ...modeValues('certManager'),
      '--set',
      'certificates.certManager.issuerRef.name=corp-ca',
      '--set',
      'certificates.certManager.issuerRef.kind=ClusterIssuer',
    ]);
    assert.deepEqual(
      objects.filter((o) => o.apiVersion === 'cert-manager.io/v1').map((o) => `${o.kind}/${o.metadata.name}`),
      ['Certificate/remote-cluster-guard'],
    );
    const serving = find(objects, 'Certificate') as unknown as { spec: Record<string, unknown> };
    assert.deepEqual(serving.spec['issuerRef'], { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  });
});

describe('certificates.mode secret', () => {
  it('serves from the given Secret and puts the given CA (PEM or base64) into both webhooks', async () => {
    const pemObjects = await render(modeValues('secret'));
    const expected = Buffer.from(testCa().pem.trim()).toString('base64');
    for (const { kind, annotations, webhook } of webhooks(pemObjects)) {
      assert.equal(webhook.clientConfig.caBundle, expected, kind);
      assert.equal(annotations, undefined, kind);
    }
    const volumes = deployment(pemObjects).spec.template.spec.volumes;
    assert.deepEqual(volumes.find((v) => v.name === 'tls')?.secret, { secretName: 'webhook-tls' });
    assert.ok(container(pemObjects).args.includes('--tls-cert=/etc/remote-cluster-guard/tls/tls.crt'));
    assert.ok(!names(pemObjects).some((n) => n.includes('Certificate') || n.endsWith('-certs')), names(pemObjects).join('\n'));

    const b64Objects = await render([
      '--set',
      'certificates.mode=secret',
      '--set',
      'certificates.secret.name=webhook-tls',
      '--set',
      `certificates.secret.caBundle=${expected}`,
    ]);
    for (const { kind, webhook } of webhooks(b64Objects)) assert.equal(webhook.clientConfig.caBundle, expected, kind);
  });
});

describe('webhook values', () => {
  it('always skips kube-system and the release namespace, plus webhook.excludedNamespaces, once each', async () => {
    const objects = await render(['--set', 'webhook.excludedNamespaces={sandbox,kube-system}'], RELEASE, 'guard');
    for (const { kind, webhook } of webhooks(objects)) {
      assert.deepEqual(
        webhook.namespaceSelector.matchExpressions,
        [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'guard', 'sandbox'] }],
        kind,
      );
    }
  });

  it('adds namespaceSelector labels and expressions, an objectSelector, failurePolicy and timeoutSeconds to both webhooks', async () => {
    const expression = { key: 'team', operator: 'In', values: ['search'] };
    const objects = await render([
      '--set-json',
      `webhook.namespaceSelector.matchExpressions=${JSON.stringify([expression])}`,
      '--set-string',
      'webhook.namespaceSelector.matchLabels.guarded=true',
      '--set-json',
      'webhook.objectSelector={"matchLabels":{"checked":"yes"}}',
      '--set',
      'webhook.failurePolicy=Ignore',
      '--set',
      'webhook.timeoutSeconds=10',
    ]);
    for (const { kind, webhook } of webhooks(objects)) {
      assert.deepEqual(webhook.namespaceSelector.matchLabels, { guarded: 'true' }, kind);
      assert.deepEqual(webhook.namespaceSelector.matchExpressions.slice(1), [expression], kind);
      assert.equal(webhook.namespaceSelector.matchExpressions[0]!.values.length, 2, kind);
      assert.deepEqual(webhook.objectSelector, { matchLabels: { checked: 'yes' } }, kind);
      assert.equal(webhook.failurePolicy, 'Ignore', kind);
      assert.equal(webhook.timeoutSeconds, 10, kind);
    }
  });

  it('both configurations register the same rules', async () => {
    const [mutating, validating] = webhooks(await render());
    assert.ok(mutating!.webhook.rules.length > 0);
    assert.deepEqual(mutating!.webhook.rules, validating!.webhook.rules);
  });
});

describe('decisionLog and events', () => {
  it('by default: decisions alone on stdout (--decision-log=-), the pod name and namespace from the downward API, no Events and no right to write them', async () => {
    const objects = await render();
    const c = container(objects);
    assert.ok(c.args.includes('--decision-log=-'));
    assert.ok(!c.args.some((a) => a.startsWith('--emit-events')));
    assert.deepEqual(
      (c as unknown as { env: { name: string; valueFrom: { fieldRef: { fieldPath: string } } }[] }).env.map((e) => [
        e.name,
        e.valueFrom.fieldRef.fieldPath,
      ]),
      [
        ['POD_NAME', 'metadata.name'],
        ['POD_NAMESPACE', 'metadata.namespace'],
      ],
    );
    assert.ok(!objects.some((o) => o.metadata.name.endsWith('-events')));
  });

  it('reports: the flag, and with off no right to write reports or read the webhook configuration', async () => {
    const reportGroups = (objects: K8sObject[]) =>
      rulesOf(objects, 'ClusterRole', 'remote-cluster-guard')
        .flatMap((r) => r.apiGroups)
        .filter((g) => ['openreports.io', 'wgpolicyk8s.io', 'admissionregistration.k8s.io'].includes(g))
        .sort();
    assert.deepEqual(reportGroups(await render()), ['admissionregistration.k8s.io', 'openreports.io', 'wgpolicyk8s.io']);
    const off = await render(['--set', 'reports=off']);
    assert.ok(container(off).args.includes('--reports=off'));
    assert.deepEqual(reportGroups(off), []);
  });

  it('readCaSecrets: get on Secrets bound in each listed namespace (else cluster-wide), and --read-ca-secrets with the same list; off by default', async () => {
    const reader = 'remote-cluster-guard-ca-secret-reader';
    const none = await render();
    assert.ok(!none.some((o) => o.metadata.name === reader));
    assert.ok(!container(none).args.some((a) => a.startsWith('--read-ca-secrets')));

    const listed = await render(['--set', 'readCaSecrets.enabled=true', '--set', 'readCaSecrets.namespaces={ns-one,ns-two}']);
    assert.deepEqual(rulesOf(listed, 'ClusterRole', reader), [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    assert.deepEqual(
      listed.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === reader).map((o) => o.metadata.namespace),
      ['ns-one', 'ns-two'],
    );
    assert.ok(!listed.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === reader));
    assert.ok(container(listed).args.includes('--read-ca-secrets=ns-one,ns-two'));

    const everywhere = await render(['--set', 'readCaSecrets.enabled=true']);
    assert.equal(find(everywhere, 'ClusterRoleBinding', reader).kind, 'ClusterRoleBinding');
    assert.ok(container(everywhere).args.includes('--read-ca-secrets'));
  });

  it('federationDiscovery: --federation-discovery with its Secret namespace, and get on Secrets there only, as deploy/components/federation-discovery; off by default', async () => {
    const reader = 'remote-cluster-guard-federation-secret-reader';
    const none = await render();
    assert.ok(!none.some((o) => o.metadata.name === reader));
    assert.ok(!container(none).args.some((a) => a.startsWith('--federation')));

    for (const [values, namespace, max] of [
      [['--set', 'federationDiscovery.enabled=true'], DEFAULT_FEDERATION_SECRET_NAMESPACE, DEFAULT_MAX_REMOTE_OBJECTS],
      [
        [
          '--set',
          'federationDiscovery.enabled=true',
          '--set',
          'federationDiscovery.secretNamespace=tigera-federation',
          '--set',
          'federationDiscovery.maxRemoteObjects=50000',
        ],
        'tigera-federation',
        50000,
      ],
    ] as const) {
      const objects = await render([...values]);
      assert.deepEqual(
        container(objects).args.filter((a) => a.startsWith('--federation')),
        ['--federation-discovery', `--federation-secret-namespace=${namespace}`, `--federation-max-remote-objects=${max}`],
      );
      const role = find(objects, 'Role', reader);
      assert.equal(role.metadata.namespace, namespace);
      assert.deepEqual(rulesOf(objects, 'Role', reader), [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
      const binding = find(objects, 'RoleBinding', reader) as unknown as K8sObject & { roleRef: unknown; subjects: unknown };
      assert.equal(binding.metadata.namespace, namespace);
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: reader });
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'remote-cluster-guard', namespace: 'remote-cluster-guard' }]);
      // The Secret reader is the only RBAC the value adds.
      assert.deepEqual(
        names(objects).filter((n) => !names(none).includes(n)),
        [`Role/${namespace}/${reader}`, `RoleBinding/${namespace}/${reader}`],
      );
    }
  });

  it('decisionLog processLog leaves the decisions on the process log', async () => {
    assert.ok(!container(await render(['--set', 'decisionLog=processLog'])).args.some((a) => a.startsWith('--decision-log')));
  });

  it('events: --emit-events and a ClusterRole to create and patch Events, as deploy/components/events', async () => {
    const objects = await render(['--set', 'events={admission,audit}']);
    assert.ok(container(objects).args.includes('--emit-events=admission,audit'));
    assert.deepEqual(rulesOf(objects, 'ClusterRole', 'remote-cluster-guard-events'), [
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    const binding = find(objects, 'ClusterRoleBinding', 'remote-cluster-guard-events') as unknown as { subjects: unknown };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'remote-cluster-guard', namespace: 'remote-cluster-guard' }]);
  });
});

describe('clientAuth', () => {
  it('asks callers for a certificate of the CA in the given ConfigMap, with the given CNs, as deploy/components/client-auth', async () => {
    const objects = await render([
      '--set',
      'clientAuth.caConfigMap=apiserver-client-ca',
      '--set',
      'clientAuth.commonNames={kube-apiserver,apiserver-b}',
    ]);
    const c = container(objects);
    assert.deepEqual(
      c.args.filter((a) => a.startsWith('--client-')),
      ['--client-ca=/etc/remote-cluster-guard/client-ca/ca.crt', '--client-cn=kube-apiserver', '--client-cn=apiserver-b'],
    );
    assert.deepEqual(
      c.volumeMounts.find((m) => m.name === 'client-ca'),
      { name: 'client-ca', mountPath: '/etc/remote-cluster-guard/client-ca', readOnly: true },
    );
    assert.deepEqual(deployment(objects).spec.template.spec.volumes.find((v) => v.name === 'client-ca')?.configMap, {
      name: 'apiserver-client-ca',
    });
  });

  it('asks for no client certificate by default', async () => {
    const objects = await render();
    assert.ok(!container(objects).args.some((a) => a.startsWith('--client-')));
    assert.ok(!deployment(objects).spec.template.spec.volumes.some((v) => v.name === 'client-ca'));
  });
});

describe('config', () => {
  it('renders a configuration file the webhook accepts, mounted as a directory with no checksum that would restart the Pods', async () => {
    const objects = await render([
      '--set',
      'config.rules.es-enterprise-license=warn',
      '--set',
      'config.excludedNamespaces={sandbox}',
      '--set',
      'config.unsynced=warn',
      '--set',
      'config.ratcheting=false',
      '--set',
      'config.operatorNamespace=eck',
    ]);
    const configMap = find(objects, 'ConfigMap', 'remote-cluster-guard-config') as unknown as { data: Record<string, string> };
    const config = parseConfig(
      configMap.data['config.yaml']!,
      'config.yaml',
      ALL_RULES.map((r) => r.id),
    );
    const { generation: _, ...policy } = config.policy;
    assert.deepEqual(
      { ...config, policy },
      {
        policy: { modes: { 'es-enterprise-license': 'warn' }, excludedNamespaces: ['sandbox'], unsynced: 'warn', ratcheting: false },
        operatorNamespace: 'eck',
      },
    );
    const c = container(objects);
    const mount = c.volumeMounts.find((m) => m.name === 'config')!;
    assert.equal(mount.subPath, undefined, 'a subPath mount is never updated in a running Pod');
    assert.ok(c.args.includes(`--config=${mount.mountPath}/config.yaml`));
    assert.deepEqual(deployment(objects).spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap, {
      name: 'remote-cluster-guard-config',
    });
    assert.equal(deployment(objects).spec.template.metadata.annotations, undefined);
    // The licence reader follows the operator namespace.
    for (const kind of ['Role', 'RoleBinding'])
      assert.equal(find(objects, kind, 'remote-cluster-guard-licence-reader').metadata.namespace, 'eck');
  });

  it('the default configuration file is accepted as it is', async () => {
    const configMap = find(await render(), 'ConfigMap', 'remote-cluster-guard-config') as unknown as { data: Record<string, string> };
    const ids = ALL_RULES.map((r) => r.id);
    const { generation: _, ...policy } = parseConfig(configMap.data['config.yaml']!, 'config.yaml', ids).policy;
    assert.deepEqual(policy, {
      modes: {},
      excludedNamespaces: [],
      unsynced: 'deny',
      ratcheting: true,
    });
  });
});

describe('metrics', () => {
  it('no ServiceMonitor unless enabled and the cluster serves monitoring.coreos.com/v1', async () => {
    const kinds = async (args: string[]) => (await render(args)).map((o) => o.kind);
    assert.ok(!(await kinds(['--api-versions', 'monitoring.coreos.com/v1'])).includes('ServiceMonitor'), 'not enabled');
    assert.ok(!(await kinds(['--set', 'metrics.serviceMonitor.enabled=true'])).includes('ServiceMonitor'), 'not served');
    const objects = await render([
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.serviceMonitor.labels.release=prom',
      '--api-versions',
      'monitoring.coreos.com/v1',
    ]);
    const monitor = find(objects, 'ServiceMonitor') as unknown as {
      metadata: K8sObject['metadata'];
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    assert.equal(monitor.metadata.labels?.['release'], 'prom');
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => e.port),
      ['metrics'],
    );
    // It selects the metrics Service, whose port targets the container's metrics port.
    const service = find(objects, 'Service', 'remote-cluster-guard-metrics') as unknown as {
      metadata: K8sObject['metadata'];
      spec: { ports: { name: string; targetPort: string }[] };
    };
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels?.[k], v, k);
    assert.deepEqual(
      service.spec.ports.map((p) => [p.name, p.targetPort]),
      [['metrics', 'metrics']],
    );
  });

  it('the NetworkPolicy opens the metrics port to networkPolicy.metricsNamespace only', async () => {
    const objects = await render(['--set', 'networkPolicy.metricsNamespace=prometheus', '--set', 'metrics.port=9090']);
    const policy = find(objects, 'NetworkPolicy') as unknown as { spec: { ingress: { from?: unknown[]; ports: { port: number }[] }[] } };
    assert.deepEqual(policy.spec.ingress, [
      { ports: [{ port: 8443, protocol: 'TCP' }] },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'prometheus' } } }],
        ports: [{ port: 9090, protocol: 'TCP' }],
      },
    ]);
    assert.ok(container(objects).args.includes('--metrics-port=9090'));
  });
});

describe('release names and image', () => {
  it('another release name prefixes every object, the Service the certificate is issued for and the webhooks call', async () => {
    const objects = await render([], 'blue', 'guard');
    const fullname = 'blue-remote-cluster-guard';
    for (const o of objects) assert.ok(o.metadata.name.startsWith(fullname), `${o.kind}/${o.metadata.name}`);
    const args = container(objects, fullname).args;
    for (const flag of [
      `--cert-service=${fullname}`,
      '--cert-namespace=guard',
      `--cert-secret=${fullname}-certs`,
      `--webhook-configuration=${fullname}`,
    ])
      assert.ok(args.includes(flag), flag);
    for (const { webhook } of webhooks(objects, fullname))
      assert.deepEqual([webhook.clientConfig.service.name, webhook.clientConfig.service.namespace], [fullname, 'guard']);
  });

  it('image: the tag defaults to appVersion, a digest wins over the tag', async () => {
    assert.equal(
      container(await render(['--set', 'image.repository=registry.example.com/rcg', '--set', 'image.tag=0.2.0'])).image,
      'registry.example.com/rcg:0.2.0',
    );
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(
      container(await render(['--set', 'image.tag=0.2.0', '--set', `image.digest=${digest}`])).image,
      `remote-cluster-guard@${digest}`,
    );
  });
});
