/** The chart and `helm template` of it, for the chart tests (no cluster). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { generateCA } from '../../src/certs/generate.js';
import { ROOT, runHelmTool } from '../helpers/helm.js';

export { ROOT };
/** The chart, relative to ROOT (the tests run helm from ROOT). */
export const CHART = 'deploy/helm/remote-cluster-guard';
export const CHART_DIR = `${ROOT}${CHART}`;

export const helm = (args: string[]) => runHelmTool('helm', args);
export const helmDocs = (args: string[]) => runHelmTool('helm-docs', args);

/** A Kubernetes object as rendered; the fields the tests read. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The release and namespace every test renders with unless it says otherwise: the names deploy/ uses. */
export const RELEASE = 'remote-cluster-guard';
export const NAMESPACE = 'remote-cluster-guard';

/**
 * `helm template` of the chart with `args` (e.g. `--set`, `--api-versions`),
 * parsed; fails the test with Helm's message when it does not render.
 */
export async function render(args: string[] = [], release = RELEASE, namespace = NAMESPACE): Promise<K8sObject[]> {
  const r = await helm(['template', release, CHART, '--namespace', namespace, ...args]);
  if (r.code !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** The one object of `kind` named `name` (the fullname when omitted). */
export function find(objects: readonly K8sObject[], kind: string, name = RELEASE): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1)
    throw new Error(`${found.length} ${kind} named ${name} (rendered: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return found[0]!;
}

export type CertificateMode = 'selfManaged' | 'certManager' | 'secret';
export const CERTIFICATE_MODES: readonly CertificateMode[] = ['selfManaged', 'certManager', 'secret'];

let ca: { file: string; pem: string } | undefined;

/** A CA certificate (PEM) made once per test file, and the file holding it. */
export function testCa(): { file: string; pem: string } {
  if (ca) return ca;
  const pem = generateCA({ service: RELEASE, namespace: NAMESPACE, validityDays: 30 }).caCert;
  const file = join(mkdtempSync(join(tmpdir(), 'rcg-chart-')), 'ca.crt');
  writeFileSync(file, pem);
  return (ca = { file, pem });
}

/** The values a certificate mode needs to render: `secret` its Secret and caBundle, `certManager` the cert-manager API. */
export function modeValues(mode: CertificateMode): string[] {
  switch (mode) {
    case 'selfManaged':
      return [];
    case 'certManager':
      return ['--set', 'certificates.mode=certManager', '--api-versions', 'cert-manager.io/v1'];
    case 'secret':
      return [
        '--set',
        'certificates.mode=secret',
        '--set',
        'certificates.secret.name=webhook-tls',
        '--set-file',
        `certificates.secret.caBundle=${testCa().file}`,
      ];
  }
}
