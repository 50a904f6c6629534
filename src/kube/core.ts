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

/**
 * Node (`v1`), the fields federation discovery reads of a remote cluster's
 * Nodes: the pod ranges the node IPAM controller gave it (`spec.podCIDRs`,
 * `spec.podCIDR` before dual-stack) and its own addresses (`status.addresses`).
 * https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/
 */
export const Node = z.object({
  metadata: z.object({ name: z.string().optional(), resourceVersion: z.string().optional() }),
  spec: z.object({ podCIDR: z.string().optional(), podCIDRs: z.array(z.string()).optional() }).optional(),
  status: z.object({ addresses: z.array(z.object({ type: z.string(), address: z.string() })).optional() }).optional(),
});
export type Node = z.infer<typeof Node>;

/** The `status.addresses` types that are IP addresses of the node (not `Hostname`, `InternalDNS`, `ExternalDNS`). */
export const NODE_IP_ADDRESS_TYPES: readonly string[] = ['InternalIP', 'ExternalIP'];
