/**
 * The chart (default values, release and namespace `remote-cluster-guard`)
 * and `deploy/` (rendered by the real `kubectl kustomize`) describe the same
 * install: the same objects by kind, namespace and name (the Namespace aside,
 * which Helm's `--create-namespace` makes), the same webhooks (rules, failure
 * policy, selectors, timeouts, Service) and the same RBAC (every rule's groups,
 * resources, names and verbs; every binding's role and subjects). One of the
 * two changed alone fails here, so they never drift.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureKubeBinaries } from '../e2e/harness/cluster.js';
import { render, ROOT, type K8sObject } from './support.js';

async function kustomize(): Promise<K8sObject[]> {
  const kubectl = join(await ensureKubeBinaries(), 'kubectl');
  const { stdout } = await promisify(execFile)(kubectl, ['kustomize', join(ROOT, 'deploy')], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** What an install means for the API server: the webhooks without annotations or labels (sync waves, chart labels). */
function webhooks(objects: K8sObject[]) {
  return objects
    .filter((o) => o.kind.endsWith('WebhookConfiguration'))
    .map((o) => ({ kind: o.kind, name: o.metadata.name, webhooks: o['webhooks'] }))
    .sort((a, b) => a.kind.localeCompare(b.kind));
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** Every RBAC object's rules (sorted, order carries no meaning) or binding. */
function rbac(objects: K8sObject[]) {
  const out: Record<string, unknown> = {};
  for (const o of objects) {
    if (o.kind === 'Role' || o.kind === 'ClusterRole') {
      const rules = (o['rules'] as PolicyRule[]).map((r) =>
        JSON.stringify({
          apiGroups: [...(r.apiGroups ?? [])].sort(),
          resources: [...(r.resources ?? [])].sort(),
          resourceNames: [...(r.resourceNames ?? [])].sort(),
          verbs: [...r.verbs].sort(),
        }),
      );
      out[key(o)] = rules.sort();
    } else if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
      out[key(o)] = { roleRef: o['roleRef'], subjects: o['subjects'] };
    }
  }
  return out;
}

describe('chart (default values) and deploy/ describe the same install', () => {
  it('the same objects by kind, namespace and name (the Namespace aside)', async () => {
    const [chart, kust] = await Promise.all([render(), kustomize()]);
    const chartKeys = chart.map(key).sort();
    const kustKeys = kust
      .filter((o) => o.kind !== 'Namespace')
      .map(key)
      .sort();
    assert.deepEqual(chartKeys, kustKeys);
    assert.ok(kustKeys.length >= 15, `a whole install (${kustKeys.length} objects)`);
  });

  it('the same webhooks: rules, failure policy, selectors, timeouts and Service', async () => {
    const [chart, kust] = await Promise.all([render(), kustomize()]);
    assert.deepEqual(webhooks(chart), webhooks(kust));
  });

  it('the same RBAC: every rule and binding', async () => {
    const [chart, kust] = await Promise.all([render(), kustomize()]);
    assert.deepEqual(rbac(chart), rbac(kust));
  });

  it('the same Service ports and the same container ports', async () => {
    const [chart, kust] = await Promise.all([render(), kustomize()]);
    const service = (objects: K8sObject[]) => (objects.find((o) => o.kind === 'Service')!['spec'] as { ports: unknown }).ports;
    const ports = (objects: K8sObject[]) =>
      (objects.find((o) => o.kind === 'Deployment')!['spec'] as { template: { spec: { containers: { ports: unknown }[] } } }).template.spec
        .containers[0]!.ports;
    assert.deepEqual(service(chart), service(kust));
    assert.deepEqual(ports(chart), ports(kust));
  });
});
