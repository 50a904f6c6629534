/**
 * The parts of a Pod template the CA trust rules read: the containers' volume
 * mounts and the volumes (Secret, ConfigMap, projected). Decoded on demand
 * from an Elasticsearch nodeSet's free-form `podTemplate`, so a template that
 * does not match is reported by the rule, not rejected as a whole object.
 *
 * Source: Kubernetes core/v1 `PodSpec`, `VolumeMount`, `Volume`,
 * `SecretVolumeSource`, `ConfigMapVolumeSource`, `ProjectedVolumeSource`
 * (https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/volume/).
 */
import { z } from 'zod';

/** `items[]` of a Secret or ConfigMap volume: key `key` appears as file `path`. */
export const KeyToPath = z.object({ key: z.string(), path: z.string() });
export type KeyToPath = z.infer<typeof KeyToPath>;

export const VolumeMount = z.object({
  name: z.string(),
  mountPath: z.string(),
  subPath: z.string().optional(),
  subPathExpr: z.string().optional(),
});
export type VolumeMount = z.infer<typeof VolumeMount>;

export const SecretProjection = z.object({
  secretName: z.string().optional(),
  items: z.array(KeyToPath).optional(),
  optional: z.boolean().optional(),
});
export const ConfigMapProjection = z.object({
  name: z.string().optional(),
  items: z.array(KeyToPath).optional(),
  optional: z.boolean().optional(),
});

/** A projected volume's source; other source kinds (serviceAccountToken, downwardAPI, clusterTrustBundle) are kept as present/absent. */
export const ProjectionSource = z.object({
  secret: z.object({ name: z.string().optional(), items: z.array(KeyToPath).optional(), optional: z.boolean().optional() }).optional(),
  configMap: ConfigMapProjection.optional(),
});

export const Volume = z
  .object({
    name: z.string(),
    secret: SecretProjection.optional(),
    configMap: ConfigMapProjection.optional(),
    projected: z.object({ sources: z.array(ProjectionSource).optional() }).optional(),
  })
  .passthrough();
export type Volume = z.infer<typeof Volume>;

export const Container = z.object({
  name: z.string().optional(),
  image: z.string().optional(),
  volumeMounts: z.array(VolumeMount).optional(),
});

export const PodTemplate = z.object({
  spec: z
    .object({
      containers: z.array(Container).optional(),
      volumes: z.array(Volume).optional(),
    })
    .optional(),
});
export type PodTemplate = z.infer<typeof PodTemplate>;
