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
import { findingLine } from '../admission/response.js';
import { pointerToField } from '../common/field-path.js';
import type { Policy } from '../config/policy.js';
import { oneLine } from '../common/text.js';
import { reportedFindings, type Decision } from '../engine/decision.js';
import { Engine } from '../engine/engine.js';
import type { AnyRule } from '../engine/rule.js';
import { formatKey } from '../kube/meta.js';
import { objectRequest } from '../kube/object-request.js';
import type { ClusterState } from '../state/cluster-state.js';
import type { ClusterWatcher } from '../state/live/cluster-watcher.js';
import { addToState, loadManifests, type ManifestDocument } from '../state/manifests.js';
import { MemoryClusterState } from '../state/memory-state.js';

export interface ValidateOptions {
  files: string[];
  state: string[];
  output: 'text' | 'json';
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
  file: string;
  line: number;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  decision: Decision;
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

/** `<file>:<line>: <kind> <namespace>/<name>: <rule>: <field>: <message>`, warnings and patches marked at the end. */
export function formatText(result: ValidateResult): string {
  const lines: string[] = [];
  for (const r of result.results) {
    const prefix = `${r.file ? `${r.file}:${r.line}: ` : ''}${r.kind} ${formatKey(r)}`;
    for (const f of reportedFindings(r.decision)) {
      lines.push(`${prefix}: ${findingLine(f)}${f.action === 'deny' ? '' : f.action === 'warn' ? ' (warning)' : ' (audit)'}`);
    }
    for (const m of r.decision.mutations) {
      for (const op of m.patch) {
        const value = 'value' in op ? ` = ${JSON.stringify(op.value)}` : '';
        lines.push(`${prefix}: ${m.rule}: ${pointerToField(op.path)}: ${op.op}${value} (patch)`);
      }
    }
  }
  const denied = result.results.filter((r) => !r.decision.allowed).length;
  const patched = result.results.filter((r) => r.decision.patch.length > 0).length;
  lines.push(`${result.results.length} objects checked: ${denied} denied, ${result.results.length - denied} allowed, ${patched} patched`);
  // One line per finding whatever the file names, names and namespaces hold.
  return lines.map(oneLine).join('\n') + '\n';
}

export function formatJson(result: ValidateResult): string {
  const objects = result.results.map((r) => ({
    file: r.file,
    line: r.line,
    apiVersion: r.apiVersion,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    allowed: r.decision.allowed,
    findings: reportedFindings(r.decision).map(({ rule, action, field, message }) => ({ rule, action, field, message })),
    patch: r.decision.patch,
  }));
  return JSON.stringify({ allowed: result.exitCode === 0, objects, problems: result.problems }, null, 2) + '\n';
}
