/**
 * Core Kubernetes objects the rules look up: ConfigMaps (ECK's licensing
 * report, transport CA bundles) and Secrets (ECK licence Secrets).
 */
import { z } from 'zod';
import { OwnedObjectMeta, StringMap } from './meta.js';

/** ConfigMap (`v1`), `data` only. */
export const ConfigMap = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata: OwnedObjectMeta,
  data: StringMap.optional(),
});
export type ConfigMap = z.infer<typeof ConfigMap>;

/**
 * Secret (`v1`). Only licence Secrets in the operator namespace are kept in
 * the state; their `data` values are base64 as the API serves them, and
 * `stringData` is accepted for manifests that were never applied.
 */
export const Secret = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: OwnedObjectMeta,
  data: StringMap.optional(),
  stringData: StringMap.optional(),
});
export type Secret = z.infer<typeof Secret>;
