/**
 * The parts of Kubernetes object metadata the rules read, as zod schemas so
 * that the same definition gives the TypeScript type and the runtime check of
 * untrusted input (an AdmissionReview body or a manifest file).
 *
 * Unknown keys are dropped when an object is decoded: rules only see the
 * fields declared here, and objects kept in the cluster state stay small.
 */
import { z } from 'zod';

/** A string-to-string map such as labels, annotations or ConfigMap data. */
export const StringMap = z.record(z.string(), z.string());

/**
 * `metadata.ownerReferences[]`. An owner reference names no namespace: the
 * owner of a namespaced object is looked up in the object's own namespace, so
 * a reference copied from another namespace makes the garbage collector
 * delete the object (https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/).
 */
export const OwnerReference = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  controller: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof OwnerReference>;

/** `metadata` (ObjectMeta), the fields the rules and the state use. */
export const ObjectMeta = z.object({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

/**
 * ObjectMeta with `ownerReferences`, for the objects whose owners a rule
 * checks (CA copies: ConfigMaps, Secrets). Not in ObjectMeta itself: an array
 * of objects there made zod's decoding of every admitted object about 2 µs
 * slower (IPPool: 1.2 to 3.2 µs), a hot-path cost no admitted kind needs.
 */
export const OwnedObjectMeta = ObjectMeta.extend({ ownerReferences: z.array(OwnerReference).optional() });
export type OwnedObjectMeta = z.infer<typeof OwnedObjectMeta>;

/** `apiVersion` split into group and version; the core group is "". */
export interface GroupVersion {
  group: string;
  version: string;
}

/** Splits `elasticsearch.k8s.elastic.co/v1` into group and version (`v1` → core group). */
export function parseApiVersion(apiVersion: string): GroupVersion {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The identity of a namespaced or cluster-scoped object: `namespace` is "" when cluster-scoped. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

/** `namespace/name`, or `name` alone for cluster-scoped objects. */
export function formatKey(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}
