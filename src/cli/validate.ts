/**
 * `remote-cluster-guard validate`: runs the rules (mutation, then validation of
 * the mutated object, as the kube-apiserver would) on the objects in manifest
 * files. An object whose identity is already in the state (`--state`, or the
 * live cluster) is checked as an UPDATE of the stored object, as
 * `kubectl apply --dry-run=server` would send it (ratcheting included); the
 * others as a CREATE. The state then holds the stored objects and the
 * validated ones (replacing any of the same identity), so a directory of
 * GitOps manifests is checked as a whole.
 *
 * Exit status: 0 nothing denied, 1 something denied, 2 unreadable input or
 * two inputs of one identity (the caller maps bad flags to 2 as well).
 */
import type { Policy } from '../config/policy.js';
import type { Decision } from '../engine/decision.js';
import { Engine } from '../engine/engine.js';
import type { AnyRule } from '../engine/rule.js';
import { CALICO_API_GROUP, CALICO_CRD_GROUP } from '../kube/calico.js';
import { handledKind, type HandledKind, type HandledObjects, type KindInfo } from '../kube/kinds.js';
import { formatKey, parseApiVersion, type ObjectKey } from '../kube/meta.js';
import { objectRequest, type ObjectRequest } from '../kube/object-request.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { ClusterWatcher } from '../state/live/cluster-watcher.js';
import { addToState, fieldPosition, loadManifests, ManifestError, type ManifestDocument, type Position } from '../state/manifests.js';
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

/** The admission operation an input object is checked as. */
export type CheckedOperation = 'CREATE' | 'UPDATE';

/** Two input objects of one identity: `kubectl apply` would apply one over the other, so the result would depend on file order. */
export class DuplicateIdentityError extends ManifestError {
  override name = 'DuplicateIdentityError';
}

/**
 * The identity of a manifest object, as the API server keys it: group, kind,
 * effective namespace ("" for the cluster-scoped kinds handled here; `-n` for
 * an object without one) and name. The two Calico groups are one identity:
 * the Calico API server serves the objects stored as crd.projectcalico.org/v1
 * as projectcalico.org/v3, so an IPPool applied in one group updates the one
 * stored in the other (the state merges them by name as well). Undefined for
 * an object without apiVersion, kind or name (generateName: always a CREATE).
 */
export function identityOf(
  object: unknown,
  defaultNamespace: string,
): { key: string; kind: string; namespace: string; name: string; info: KindInfo | undefined } | undefined {
  if (typeof object !== 'object' || object === null) return undefined;
  const o = object as { apiVersion?: unknown; kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } | null };
  const name = typeof o.metadata === 'object' && o.metadata !== null ? o.metadata.name : undefined;
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof name !== 'string' || name === '') return undefined;
  const group = parseApiVersion(o.apiVersion).group;
  const info = handledKind(group, o.kind);
  const own = o.metadata?.namespace;
  const namespace = info?.clusterScoped ? '' : typeof own === 'string' && own !== '' ? own : defaultNamespace;
  const groupKey = group === CALICO_API_GROUP ? CALICO_CRD_GROUP : group;
  return { key: JSON.stringify([groupKey, o.kind, namespace, name]), kind: o.kind, namespace, name, info };
}

/** The stored object of each handled kind by key, typed by the kind list so a new kind does not compile without its lookup. */
const STORED: { readonly [K in HandledKind]: (state: ClusterState, key: ObjectKey) => HandledObjects[K] | undefined } = {
  Elasticsearch: (state, key) => state.getElasticsearch(key),
  IPPool: (state, key) => state.getIPPool(key.name),
  RemoteClusterConfiguration: (state, key) => state.getRemoteClusterConfiguration(key.name),
};

/**
 * The object `state` holds under the identity of `object`, for the UPDATE the
 * API server would be sent; undefined for a kind not handled or not stored.
 * (The state keeps decoded objects: the fields the rules read, all ratcheting needs.)
 */
export function storedObject(object: unknown, state: ClusterState, defaultNamespace: string): unknown {
  const id = identityOf(object, defaultNamespace);
  if (!id?.info) return undefined;
  return STORED[id.info.kind](state, { namespace: id.namespace, name: id.name });
}

/** Throws DuplicateIdentityError naming both places when two of `docs` have one identity. */
export function checkDuplicates(docs: readonly ManifestDocument[], defaultNamespace: string): void {
  const seen = new Map<string, ManifestDocument>();
  for (const d of docs) {
    const id = identityOf(d.object, defaultNamespace);
    if (!id) continue;
    const first = seen.get(id.key);
    if (first) {
      throw new DuplicateIdentityError(`${id.kind} ${formatKey(id)} is defined twice: ${first.file}:${first.line} and ${d.file}:${d.line}`);
    }
    seen.set(id.key, d);
  }
}

/** A manifest document and the operation it is checked as (`oldObject`: the stored object, on UPDATE). */
export interface CheckedDocument {
  /** The document as read (the key of its field positions, so kept as is, never copied). */
  doc: ManifestDocument;
  operation: CheckedOperation;
  oldObject?: unknown;
}

/** The engine request the kube-apiserver would be sent for a checked document. */
function requestOf(d: CheckedDocument, defaultNamespace: string): ObjectRequest {
  return objectRequest(d.doc.object, {
    operation: d.operation,
    namespace: defaultNamespace,
    ...(d.oldObject !== undefined ? { oldObject: d.oldObject } : {}),
  });
}

export interface ObjectResult {
  /** "" for objects not read from a file (audit of a live cluster or of `--state`). */
  file: string;
  line: number;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** `metadata.uid`, when the object has one (an audited object of a live cluster). */
  uid?: string;
  /** UPDATE when the object's identity was in the state before the inputs were added, else CREATE (audit: always CREATE). */
  operation: CheckedOperation;
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
  docs: readonly CheckedDocument[],
  state: ClusterState,
  engine: Engine,
  defaultNamespace: string,
): ObjectResult[] {
  const results: ObjectResult[] = [];
  for (const d of docs) {
    const { doc } = d;
    const o = doc.object as { apiVersion?: unknown; kind?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') continue;
    const decision = engine.evaluate(requestOf(d, defaultNamespace), 'both', state);
    if (!decision.handled) continue;
    results.push({
      file: doc.file,
      line: doc.line,
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: decision.namespace,
      name: decision.name,
      operation: d.operation,
      decision,
      locate: (field) => fieldPosition(doc, field),
    });
  }
  return results;
}

export async function runValidate(opts: ValidateOptions): Promise<ValidateResult> {
  // What the reading skipped (symlink loops, documents that are no Kubernetes objects) goes first in the problems.
  const notes: string[] = [];
  const stateDocs = loadManifests(opts.state, notes);
  const inputs = loadManifests(opts.files, notes);
  checkDuplicates(inputs, opts.namespace);
  const stored = addToState(stateDocs, opts.live?.state ?? new MemoryClusterState(), opts.namespace);
  // The stored version of each input is looked up before the inputs replace it in the state.
  const docs = inputs.map((d): CheckedDocument => {
    const oldObject = storedObject(d.object, stored.state, opts.namespace);
    return oldObject === undefined ? { doc: d, operation: 'CREATE' } : { doc: d, operation: 'UPDATE', oldObject };
  });
  const added = addToState(inputs, stored.state, opts.namespace);
  const state = added.state;
  const problems = [...notes, ...stored.problems, ...added.problems];
  if (opts.live) {
    // Fetch what no watch delivers (named CA ConfigMaps) before the pure rules run.
    for (const d of docs) await opts.live.prepare(requestOf(d, opts.namespace));
  }
  const engine = new Engine(opts.rules, {
    operatorNamespace: opts.operatorNamespace,
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const results = validateDocuments(docs, state, engine, opts.namespace);
  return { results, problems, exitCode: results.some((r) => !r.decision.allowed) ? 1 : 0 };
}

/** What fails a run: a denial (the default), or also a warning (`--fail-on warn`; findings of rules in audit mode never do). */
export type FailOn = 'deny' | 'warn';

/**
 * The exit status of a run under `--fail-on`: 1 when an object is denied, or
 * with `warn` has a warning finding; else 0. (`exitCode` of the result is the
 * `deny` answer, which JSON output reports as `allowed`.)
 */
export function exitStatus(result: ValidateResult, failOn: FailOn): 0 | 1 {
  if (result.exitCode === 1) return 1;
  if (failOn === 'warn' && result.results.some((r) => r.decision.findings.some((f) => f.action === 'warn'))) return 1;
  return 0;
}
