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
import { Engine, type Decision } from '../engine/engine.js';
import { findingLine } from '../admission/response.js';
import { formatKey, parseApiVersion } from '../kube/meta.js';
import { pointerToField } from '../common/field-path.js';
import { oneLine } from '../common/text.js';
import type { AnyRule } from '../engine/rule.js';
import { addToState, loadManifests, type ManifestDocument } from '../state/manifests.js';
import type { ClusterState } from '../state/cluster-state.js';
import { MemoryClusterState } from '../state/memory-state.js';
import type { LiveState } from '../state/live/live-state.js';
import type { AdmissionRequest } from '../admission/types.js';

export interface ValidateOptions {
  files: string[];
  state: string[];
  output: 'text' | 'json';
  namespace: string;
  operatorNamespace: string;
  rules: readonly AnyRule[];
  /** The live cluster's state (`--kubeconfig`): the manifests are added to its in-memory copy, never to the cluster. */
  live?: Pick<LiveState, 'state' | 'prepare'>;
  now?: () => Date;
}

/** A manifest object as the AdmissionRequest the kube-apiserver would send for its CREATE. */
function asRequest(d: ManifestDocument, defaultNamespace: string): AdmissionRequest {
  const o = (d.object ?? {}) as { apiVersion?: unknown; kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } };
  const { group, version } = parseApiVersion(typeof o.apiVersion === 'string' ? o.apiVersion : '');
  return {
    uid: `${d.file}:${d.line}`,
    kind: { group, version, kind: typeof o.kind === 'string' ? o.kind : '' },
    operation: 'CREATE',
    namespace: typeof o.metadata?.namespace === 'string' && o.metadata.namespace ? o.metadata.namespace : defaultNamespace,
    object: d.object,
  };
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
  /** Lines about input that could not be used (state objects with wrong types). */
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
    const o = d.object as { apiVersion?: unknown; kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } };
    if (typeof o !== 'object' || o === null || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') continue;
    const { group } = parseApiVersion(o.apiVersion);
    const namespace = typeof o.metadata?.namespace === 'string' && o.metadata.namespace ? o.metadata.namespace : defaultNamespace;
    const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '';
    const decision = engine.evaluate({ group, kind: o.kind, operation: 'CREATE', namespace, name, object: d.object }, 'both', state);
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
  const stateDocs = loadManifests(opts.state);
  const docs = loadManifests(opts.files);
  const { state, problems } = addToState([...stateDocs, ...docs], opts.live?.state ?? new MemoryClusterState(), opts.namespace);
  if (opts.live) {
    // Fetch what no watch delivers (named CA ConfigMaps) before the pure rules run.
    for (const d of docs) await opts.live.prepare(asRequest(d, opts.namespace));
  }
  const engine = new Engine(opts.rules, { operatorNamespace: opts.operatorNamespace, ...(opts.now ? { now: opts.now } : {}) });
  const results = validateDocuments(docs, state, engine, opts.namespace);
  return { results, problems, exitCode: results.some((r) => !r.decision.allowed) ? 1 : 0 };
}

/** `<file>:<line>: <kind> <namespace>/<name>: <rule>: <field>: <message>`, warnings and patches marked at the end. */
export function formatText(result: ValidateResult): string {
  const lines: string[] = [];
  for (const r of result.results) {
    const prefix = `${r.file ? `${r.file}:${r.line}: ` : ''}${r.kind} ${formatKey(r)}`;
    for (const f of r.decision.findings) {
      lines.push(`${prefix}: ${findingLine(f)}${f.action === 'warn' ? ' (warning)' : ''}`);
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
    findings: r.decision.findings.map(({ rule, action, field, message }) => ({ rule, action, field, message })),
    patch: r.decision.patch,
  }));
  return JSON.stringify({ allowed: result.exitCode === 0, objects, problems: result.problems }, null, 2) + '\n';
}
