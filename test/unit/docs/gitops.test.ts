/**
 * The README's GitOps snippets ("Install into a cluster", "### GitOps") against
 * deploy/: each parses as YAML with the kind and apiVersion its tool reads
 * (Argo CD Application; Flux GitRepository, Kustomization, HelmRelease); the
 * Argo CD ignoreDifferences pointers address the caBundle of every webhook of
 * every webhook configuration deploy/ renders, and nothing else; the sync waves
 * put the webhook configurations after the Deployment and Service; the paths
 * exist in the repository and the revisions name the current version.
 *
 * deploy/ is read from its YAML files, following the `resources:` of
 * deploy/kustomization.yaml and the base's (the e2e tests render it with kubectl).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf-8');
const VERSION = (JSON.parse(read('package.json')) as { version: string }).version;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  webhooks?: { name: string }[];
}

/** The objects of the kustomization in `dir` (relative to the repository), following `resources:` into directories. */
function kustomizationObjects(dir: string): Manifest[] {
  const k = parse(read(join(dir, 'kustomization.yaml'))) as { resources?: string[] };
  return (k.resources ?? []).flatMap((r) => {
    const path = join(dir, r);
    return existsSync(join(ROOT, path, 'kustomization.yaml'))
      ? kustomizationObjects(path)
      : parseAllDocuments(read(path)).map((d) => d.toJS() as Manifest);
  });
}
const DEPLOY = kustomizationObjects('deploy');

/** The ```yaml blocks of the README's GitOps subsection, parsed (every document of each). */
function gitopsSnippets(): Manifest[] {
  const readme = read('README.md');
  const start = readme.indexOf('\n### GitOps\n');
  assert.ok(start >= 0, 'the README has a "### GitOps" subsection');
  const end = readme.slice(start + 1).search(/\n##+ /);
  const section = readme.slice(start, end < 0 ? undefined : start + 1 + end);
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0, 'the GitOps subsection has yaml code blocks');
  return blocks.flatMap((b) => parseAllDocuments(b).map((d) => d.toJS() as Manifest));
}
const SNIPPETS = gitopsSnippets();
function one(apiVersion: string, kind: string): Manifest & { spec: Record<string, unknown> } {
  const found = SNIPPETS.filter((s) => s.kind === kind);
  assert.equal(found.length, 1, `one ${kind} snippet`);
  assert.equal(found[0]!.apiVersion, apiVersion, `${kind} apiVersion`);
  return found[0] as Manifest & { spec: Record<string, unknown> };
}

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
const wave = (m: Manifest) => Number(m.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0');
const webhookConfigurations = DEPLOY.filter((m) => m.kind.endsWith('WebhookConfiguration'));
/** A path in a snippet (`./deploy`, `deploy/x`) as a repository path. */
const repoPath = (p: string) => normalize(p).replace(/\/$/, '');

describe('README GitOps: Argo CD', () => {
  const app = one('argoproj.io/v1alpha1', 'Application');
  const spec = app.spec as {
    source: { path: string; targetRevision: string };
    syncPolicy: { syncOptions: string[] };
    ignoreDifferences: { group: string; kind: string; name: string; jsonPointers: string[] }[];
  };

  it('points at deploy/ at the current version', () => {
    assert.ok(existsSync(join(ROOT, repoPath(spec.source.path), 'kustomization.yaml')), `${spec.source.path} is a kustomization`);
    assert.equal(spec.source.targetRevision, `v${VERSION}`);
  });

  it('ignoreDifferences covers the caBundle of every webhook deploy/ renders, and only those', () => {
    assert.equal(webhookConfigurations.length, 2, 'deploy/ has a Mutating and a ValidatingWebhookConfiguration');
    const expected = webhookConfigurations.flatMap((c) =>
      c.webhooks!.map((_, i) => `${group(c.apiVersion)} ${c.kind} ${c.metadata.name} /webhooks/${i}/clientConfig/caBundle`),
    );
    const actual = spec.ignoreDifferences.flatMap((d) => d.jsonPointers.map((p) => `${d.group} ${d.kind} ${d.name} ${p}`));
    assert.deepEqual(actual.sort(), expected.sort());
    assert.ok(spec.syncPolicy.syncOptions.includes('RespectIgnoreDifferences=true'), 'a sync leaves the ignored caBundle alone');
  });

  it('sync waves: the webhook configurations come after the Deployment and Service they call', () => {
    const before = DEPLOY.filter((m) => !m.kind.endsWith('WebhookConfiguration'));
    assert.ok(
      before.some((m) => m.kind === 'Deployment') && before.some((m) => m.kind === 'Service'),
      'deploy/ has a Deployment and a Service',
    );
    const last = Math.max(...before.map(wave));
    for (const c of webhookConfigurations) assert.ok(wave(c) > last, `${c.kind} wave ${wave(c)} after wave ${last}`);
  });
});

describe('README GitOps: Flux', () => {
  const repo = one('source.toolkit.fluxcd.io/v1', 'GitRepository');
  const kustomization = one('kustomize.toolkit.fluxcd.io/v1', 'Kustomization');
  const release = one('helm.toolkit.fluxcd.io/v2', 'HelmRelease');
  const refersToRepo = (ref: { kind: string; name: string; namespace?: string }, owner: Manifest) => {
    assert.equal(ref.kind, 'GitRepository');
    assert.equal(ref.name, repo.metadata.name);
    assert.equal(ref.namespace ?? owner.metadata.namespace, repo.metadata.namespace);
  };

  it('the GitRepository names the current version', () => {
    assert.deepEqual(repo.spec['ref'], { tag: `v${VERSION}` });
  });

  it('the Kustomization applies deploy/ from that GitRepository, pruning and waiting', () => {
    const spec = kustomization.spec as { sourceRef: { kind: string; name: string }; path: string; prune: boolean; wait: boolean };
    refersToRepo(spec.sourceRef, kustomization);
    assert.equal(repoPath(spec.path), 'deploy');
    assert.ok(existsSync(join(ROOT, 'deploy/kustomization.yaml')));
    assert.equal(spec.prune, true);
    assert.equal(spec.wait, true);
  });

  it('the HelmRelease installs the chart at deploy/helm/remote-cluster-guard with its certificate mode and replicas', () => {
    const spec = release.spec as {
      releaseName: string;
      chart: { spec: { chart: string; sourceRef: { kind: string; name: string } } };
      values: { replicas: number; certificates: { mode: string } };
    };
    refersToRepo(spec.chart.spec.sourceRef, release);
    const chart = repoPath(spec.chart.spec.chart);
    assert.equal(chart, 'deploy/helm/remote-cluster-guard');
    // The names deploy/ uses, which the README's commands and RBAC mention.
    assert.equal(spec.releaseName, 'remote-cluster-guard');
    assert.ok(['selfManaged', 'certManager', 'secret'].includes(spec.values.certificates.mode), spec.values.certificates.mode);
    assert.ok(Number.isInteger(spec.values.replicas) && spec.values.replicas >= 1);
    const values = parse(read(join(chart, 'values.yaml'))) as { replicas?: unknown; certificates?: { mode?: unknown } };
    assert.equal(typeof values.replicas, 'number', 'the chart has `replicas`');
    assert.equal(typeof values.certificates?.mode, 'string', 'the chart has `certificates.mode`');
  });
});
