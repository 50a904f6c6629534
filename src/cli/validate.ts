/**
 * `remote-cluster-guard validate`: runs the rules (mutation, then validation of
 * the mutated object, as the kube-apiserver would) on the objects in manifest
 * files, each as a CREATE request. The state holds the `--state` manifests and
 * the validated objects themselves (replacing any of the same kind, namespace
 * and name), so a directory of GitOps manifests is checked as a whole.
 *
 * Exit status: 0 nothing denied, 1 something denied, 2 unreadable input (the
 * caller maps bad flags to 2 as well).
 */
import type { Policy } from '../config/policy.js';
import type { Decision } from '../engine/decision.js';
import { Engine } from '../engine/engine.js';
import type { AnyRule } from '../engine/rule.js';
import { objectRequest } from '../kube/object-request.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { ClusterWatcher } from '../state/live/cluster-watcher.js';
import { addToState, fieldPosition, loadManifests, type ManifestDocument, type Position } from '../state/manifests.js';
import { MemoryClusterState } from '../state/memory-state.js';

export interface ValidateOptions {
  files: string[];
  state: string[];
  namespace: string;
  operatorNamespace: string;
  rules: readonly AnyRule[];
  /** Rule modes and excluded namespaces (`--config`, the file `serve` reads); default: every rule enforced. */
  policy?: Policy;
  /** The live cluster's state (`--kubeconfig`): the manifests are added to its in-memory copy, never to the cluster. */
  live?: Pick<ClusterWatcher, 'state' | 'prepare'>;
  now?: () => Date;
}

/** A manifest object as the engine request of the CREATE the kube-apiserver would be sent. */
function createRequest(d: ManifestDocument, defaultNamespace: string) {
  return objectRequest(d.object, { operation: 'CREATE', namespace: defaultNamespace });
}

export interface ObjectResult {
  /** "" for objects not read from a file (audit of a live cluster or of `--state`). */
  file: string;
  line: number;
  /** The admission operation the object was checked as; CREATE when absent. */
  operation?: 'CREATE' | 'UPDATE';
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  decision: Decision;
  /** Where a field of the object (a finding's `field`) is written in `file`; absent when there is no file. */
  locate?: (field: string) => Position;
}

export interface ValidateResult {
  results: ObjectResult[];
  /** Lines about input that could not be used: skipped paths and documents, state objects with wrong types. */
  problems: string[];
  exitCode: 0 | 1;
}

/** Evaluates every handled object in `docs` against `state`. */
export function validateDocuments(
  docs: readonly ManifestDocument[],
  state: ClusterState,
  engine: Engine,
  defaultNamespace: string,
): ObjectResult[] {
  const results: ObjectResult[] = [];
  for (const d of docs) {
    const o = d.object as { apiVersion?: unknown; kind?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') continue;
    const decision = engine.evaluate(createRequest(d, defaultNamespace), 'both', state);
    if (!decision.handled) continue;
    results.push({
      file: d.file,
      line: d.line,
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: decision.namespace,
      name: decision.name,
      decision,
      locate: (field) => fieldPosition(d, field),
    });
  }
  return results;
}

export async function runValidate(opts: ValidateOptions): Promise<ValidateResult> {
  // What the reading skipped (symlink loops, documents that are no Kubernetes objects) goes first in the problems.
  const notes: string[] = [];
  const stateDocs = loadManifests(opts.state, notes);
  const docs = loadManifests(opts.files, notes);
  const added = addToState([...stateDocs, ...docs], opts.live?.state ?? new MemoryClusterState(), opts.namespace);
  const { state } = added;
  const problems = [...notes, ...added.problems];
  if (opts.live) {
    // Fetch what no watch delivers (named CA ConfigMaps) before the pure rules run.
    for (const d of docs) await opts.live.prepare(createRequest(d, opts.namespace));
  }
  const engine = new Engine(opts.rules, {
    operatorNamespace: opts.operatorNamespace,
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const results = validateDocuments(docs, state, engine, opts.namespace);
  return { results, problems, exitCode: results.some((r) => !r.decision.allowed) ? 1 : 0 };
}
