/**
 * Test helpers for the Elasticsearch rules: object builders, fixture loading,
 * licence objects and JSON Patch application.
 */
import { readFileSync } from 'node:fs';
import fjp from 'fast-json-patch';
import type { Decision } from '../../../../src/engine/decision.js';
import type { Finding } from '../../../../src/engine/finding.js';
import type { PatchOperation } from '../../../../src/engine/rule.js';
import { yamlDocs } from '../../../helpers/engine.js';

export const ES_API_VERSION = 'elasticsearch.k8s.elastic.co/v1';

export type Json = Record<string, unknown>;

/** A raw Elasticsearch object as a manifest would hold it. */
export function es(namespace: string | undefined, name: string, spec: Json | undefined, status?: Json): Json {
  const metadata: Json = { name };
  if (namespace !== undefined) metadata['namespace'] = namespace;
  const o: Json = { apiVersion: ES_API_VERSION, kind: 'Elasticsearch', metadata };
  if (spec !== undefined) o['spec'] = spec;
  if (status !== undefined) o['status'] = status;
  return o;
}

/** A `remoteClusters` entry referencing `namespace/name` (namespace omitted when undefined). */
export function ref(alias: string, name: string, namespace?: string, extra: Json = {}): Json {
  const elasticsearchRef: Json = { name };
  if (namespace !== undefined) elasticsearchRef['namespace'] = namespace;
  return { name: alias, elasticsearchRef, ...extra };
}

export const API_KEY = { apiKey: { access: { search: { names: ['logs-*'] } } } };

/** A ConfigMap. */
export function configMap(
  namespace: string,
  name: string,
  data: Record<string, string> | undefined,
  labels?: Record<string, string>,
): Json {
  const metadata: Json = { name, namespace };
  if (labels) metadata['labels'] = labels;
  const o: Json = { apiVersion: 'v1', kind: 'ConfigMap', metadata };
  if (data) o['data'] = data;
  return o;
}

/** ECK's `elastic-licensing` report. */
export function licensing(level: string, expiry?: string, namespace = 'elastic-system'): Json {
  const data: Record<string, string> = { timestamp: '2026-05-31T23:58:00Z', eck_license_level: level };
  if (expiry) data['eck_license_expiry_date'] = expiry;
  return configMap(namespace, 'elastic-licensing', data);
}

/** The documents of `test/fixtures/eck/<file>`. */
export function fixture(file: string): Json[] {
  const text = readFileSync(new URL(`../../../fixtures/eck/${file}`, import.meta.url), 'utf8');
  return yamlDocs(text) as Json[];
}

/** The document of `file` with `kind` and `metadata.name`. */
export function fixtureObject(file: string, kind: string, name: string): Json {
  const found = fixture(file).find((d) => d['kind'] === kind && (d['metadata'] as Json | undefined)?.['name'] === name);
  if (!found) throw new Error(`${file} has no ${kind} ${name}`);
  return found;
}

/** `object` with `patch` applied (a copy). */
export function applied(object: unknown, patch: PatchOperation[]): Json {
  return fjp.applyPatch(structuredClone(object), patch, true, false).newDocument as Json;
}

/** The findings of `rule` in a decision. */
export function of(d: Decision, rule: string): Finding[] {
  return d.findings.filter((f) => f.rule === rule);
}

/** A deep copy with `mutate` applied. */
export function edit<T>(object: T, mutate: (copy: T) => void): T {
  const copy = structuredClone(object);
  mutate(copy);
  return copy;
}
