/**
 * Shared pieces of the operations suites that do not need a server:
 * fixtures, Prometheus text parsing, polling instead of sleeps, a log sink
 * and object builders. (./server.ts has the server and HTTPS client; it
 * loads the Kubernetes client, so suites that do not need it import this file only.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
/** The ECK licensing report of an Enterprise licence, so that es-enterprise-license stays quiet. */
export const LICENSE = join(FIXTURES, 'eck/license-enterprise.yaml');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rcg-ops-${prefix}-`));
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = parseMetrics(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

/** Polls `fn` every 10 ms until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { logSink } from '../../helpers/logs.js';

// Objects ------------------------------------------------------------------

export const ES_API_VERSION = 'elasticsearch.k8s.elastic.co/v1';

type Json = Record<string, unknown>;

/** An Elasticsearch `ns-one/cluster-one` (8.16.1, one nodeSet of `count`) with the given remote clusters. */
export function cluster(remoteClusters: Json[] = [], count = 1, name = 'cluster-one', namespace = 'ns-one'): Json {
  return {
    apiVersion: ES_API_VERSION,
    kind: 'Elasticsearch',
    metadata: { name, namespace },
    spec: { version: '8.16.1', nodeSets: [{ name: 'default', count }], ...(remoteClusters.length ? { remoteClusters } : {}) },
  };
}

/** A remote cluster entry that references `cluster-one` itself (namespace defaulted): es-remote-ref denies it. */
export const SELF_REF: Json = { name: 'me', elasticsearchRef: { name: 'cluster-one' } };
/** The field of that finding when it is the first entry. */
export const SELF_REF_FIELD = 'spec.remoteClusters[0].elasticsearchRef';
