/** Builders for AdmissionReview bodies in tests. */
import { parseApiVersion } from '../../src/kube/meta.js';

export interface ReviewOptions {
  uid?: string;
  operation?: 'CREATE' | 'UPDATE' | 'DELETE';
  oldObject?: unknown;
  dryRun?: boolean;
  namespace?: string;
}

/** An `admission.k8s.io/v1` AdmissionReview for `object`, kind taken from its apiVersion/kind. */
export function reviewOf(object: unknown, opts: ReviewOptions = {}) {
  const o = object as { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } };
  const { group, version } = parseApiVersion(o.apiVersion);
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? 'c0ffee00-0000-4000-8000-000000000001',
      kind: { group, version, kind: o.kind },
      resource: { group, version, resource: `${o.kind.toLowerCase()}s` },
      operation: opts.operation ?? (opts.oldObject ? 'UPDATE' : 'CREATE'),
      namespace: opts.namespace ?? o.metadata?.namespace ?? '',
      name: o.metadata?.name ?? '',
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      object,
      ...(opts.oldObject ? { oldObject: opts.oldObject } : {}),
      dryRun: opts.dryRun ?? false,
    },
  };
}

/** Decodes a response's base64 JSON Patch. */
export function decodePatch(patch: string | undefined): unknown {
  return patch === undefined ? undefined : JSON.parse(Buffer.from(patch, 'base64').toString('utf-8'));
}
