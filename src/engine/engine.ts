/**
 * The rule engine: decodes the object of an engine request, runs the rules of
 * its kind and returns a decision. It knows nothing of HTTP or files; the
 * admission endpoints, the CLI and the audit feed it requests made by
 * `objectRequest` (src/kube/object-request.ts).
 *
 * The two steps read as the two halves of the kube-apiserver's admission
 * chain: `mutate` runs the mutating rules in order, each on the object as
 * patched by the ones before it (their patches are concatenated); `validate`
 * runs the validating rules on the object as it would be stored. `evaluate`
 * with phase `both` (the CLI) does one and then the other, as the API server
 * would.
 */
import fjp from 'fast-json-patch';
import { describeIssues } from '../common/schema-issues.js';
import { DEFAULT_POLICY, modeOf, type Policy, type RuleMode } from '../config/policy.js';
import { handledKind, type HandledKind, type HandledObjects, type KindInfo } from '../kube/kinds.js';
import type { ObjectRequest } from '../kube/object-request.js';
import type { ClusterState, StateResource } from '../state/cluster-state.js';
import { unhandled, type Decision } from './decision.js';
import { deny, oneLineFinding, warn, type Finding } from './finding.js';
import { OBJECT_SHAPE_RULE, shapeFindings } from './object-shape.js';
import type { AdmissionOperation, AnyRule, Mutation, PatchOperation, RuleContext, RuleInput } from './rule.js';

type AnyObject = HandledObjects[HandledKind];

export type Phase = 'mutate' | 'validate' | 'both';

export interface EngineOptions {
  operatorNamespace: string;
  /** Rule modes, excluded namespaces, ratcheting; replaceable at run time with `setPolicy`. */
  policy?: Policy;
  /** Clock for expiry checks; defaults to the system clock. */
  now?: () => Date;
}

/** Rule id of the finding made when a rule throws: a bug, reported rather than crashing the request. */
export const INTERNAL_ERROR_RULE = 'internal-error';

/** Appended to a deny finding turned into a warning by ratcheting. */
export const RATCHET_NOTE = ' (this predates this change, so the update is allowed; fix it when you can)';

/** A rule that runs under the current policy, with the mode it runs in. */
interface PlannedRule {
  rule: AnyRule;
  mode: Exclude<RuleMode, 'off'>;
}

/** The rules of one kind that run under a policy, in registry order: worked out once per policy, not per request. */
interface KindPlan {
  mutating: PlannedRule[];
  validating: PlannedRule[];
}

/** A policy and the plans it gives, swapped together so a request sees one or the other. */
interface Planned {
  policy: Policy;
  plans: ReadonlyMap<HandledKind, KindPlan>;
}

/** One request being evaluated: its rule input, the plan and policy it started with, and what the steps found so far. */
interface Evaluation {
  info: KindInfo;
  request: ObjectRequest;
  input: RuleInput<AnyObject>;
  state: ClusterState;
  policy: Policy;
  plan: KindPlan;
  findings: Finding[];
  audited: Finding[];
  patch: PatchOperation[];
  mutations: Decision['mutations'];
}

const NO_RULES: KindPlan = { mutating: [], validating: [] };

export class Engine {
  private readonly byKind = new Map<HandledKind, AnyRule[]>();
  private current: Planned;

  constructor(
    readonly rules: readonly AnyRule[],
    private readonly options: EngineOptions,
  ) {
    for (const rule of rules) {
      const list = this.byKind.get(rule.kind) ?? [];
      list.push(rule);
      this.byKind.set(rule.kind, list);
    }
    this.current = this.plan(options.policy ?? DEFAULT_POLICY);
  }

  /** Replaces the policy (a configuration reload); a request already being evaluated keeps the one it started with. */
  setPolicy(policy: Policy): void {
    this.current = this.plan(policy);
  }

  private plan(policy: Policy): Planned {
    const plans = new Map<HandledKind, KindPlan>();
    for (const [kind, rules] of this.byKind) {
      const planned = rules.flatMap((rule): PlannedRule[] => {
        const mode = modeOf(policy, rule.id);
        return mode === 'off' ? [] : [{ rule, mode }];
      });
      plans.set(kind, { mutating: planned.filter((p) => p.rule.mutate), validating: planned.filter((p) => p.rule.validate) });
    }
    return { policy, plans };
  }

  /** The mutating half of admission: defaults, as `/mutate` answers. */
  mutate(request: ObjectRequest, state: ClusterState): Decision {
    return this.evaluate(request, 'mutate', state);
  }

  /** The validating half of admission: findings on the object as it would be stored, as `/validate` answers. */
  validate(request: ObjectRequest, state: ClusterState): Decision {
    return this.evaluate(request, 'validate', state);
  }

  /** Runs the steps of `phase` on one request; `both` validates the mutated object. */
  evaluate(request: ObjectRequest, phase: Phase, state: ClusterState): Decision {
    const started = this.start(request, state);
    if (!('input' in started)) return started;
    if (phase !== 'validate') this.runMutating(started);
    if (phase !== 'mutate') this.runValidating(started);
    return finish(started);
  }

  /** Decodes the object and picks the rules: an evaluation to run, or the decision when nothing is to run. */
  private start(request: ObjectRequest, state: ClusterState): Evaluation | Decision {
    const info = handledKind(request.group, request.kind);
    if (!info || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) {
      return unhandled(request.namespace, request.name, info?.kind);
    }
    const { policy, plans } = this.current;
    const decoded = info.schema.safeParse(request.object);
    if (!decoded.success) {
      const findings = shapeFindings(decoded.error.issues).map(oneLineFinding);
      return { ...unhandled(request.namespace, request.name, info.kind), handled: true, allowed: false, findings };
    }
    const ctx: RuleContext = { state, now: this.options.now?.() ?? new Date(), operatorNamespace: this.options.operatorNamespace };
    const oldDecoded = request.operation === 'UPDATE' ? info.schema.safeParse(request.oldObject) : undefined;
    const input = this.input(info, request, decoded.data, oldDecoded?.success ? oldDecoded.data : undefined, ctx);
    if (!info.clusterScoped && policy.excludedNamespaces.includes(input.namespace)) {
      return unhandled(input.namespace, input.name, info.kind);
    }
    const plan = plans.get(info.kind) ?? NO_RULES;
    return { info, request, input, state, policy, plan, findings: [], audited: [], patch: [], mutations: [] };
  }

  /** Mutating rules in order, each seeing the object as patched by the ones before it, as chained mutating webhooks would. */
  private runMutating(e: Evaluation): void {
    let working: unknown;
    for (const { rule, mode } of e.plan.mutating) {
      const missing = unsyncedNeeds(rule, e.state, e.input.object);
      if (missing) {
        e.findings.push(
          warn(rule.id, '', `not defaulted: the webhook is still reading ${missing} from the cluster; apply again in a few seconds`),
        );
        continue;
      }
      let m: Mutation;
      try {
        m = callMutate(rule, e.input);
      } catch (err) {
        e.findings.push(ruleFailed(rule, err));
        continue;
      }
      collect(mode, m.findings, e);
      if (m.patch.length === 0) continue;
      working ??= cloneJson(e.request.object);
      fjp.applyPatch(working, m.patch, false, true);
      for (const op of m.patch) e.patch.push(op);
      e.mutations.push({ rule: rule.id, patch: m.patch });
      const again = e.info.schema.safeParse(working);
      if (!again.success) {
        e.findings.push(
          deny(
            INTERNAL_ERROR_RULE,
            '',
            `rule ${rule.id} produced an invalid object (${describeIssues(again.error.issues)}); this is a bug in remote-cluster-guard`,
          ),
        );
        return;
      }
      e.input.object = this.withNamespace(e.info, again.data, e.input.namespace);
    }
  }

  /** Validating rules on the object as it would be stored; rules whose state is not synced answer the policy's `unsynced`. */
  private runValidating(e: Evaluation): void {
    for (const { rule, mode } of e.plan.validating) {
      const missing = unsyncedNeeds(rule, e.state, e.input.object);
      if (missing) {
        const say = e.policy.unsynced === 'warn' ? warn : deny;
        collect(
          mode,
          [say(rule.id, '', `cannot verify yet: the webhook is still reading ${missing} from the cluster; retry in a few seconds`)],
          e,
        );
        continue;
      }
      const remotes = unsyncedRemotesOf(rule, e.input, e.state);
      if (remotes) {
        const say = e.policy.unsynced === 'warn' ? warn : deny;
        collect(mode, [say(rule.id, '', remotes)], e);
        continue;
      }
      let found: Finding[];
      try {
        found = callValidate(rule, e.input);
      } catch (err) {
        e.findings.push(ruleFailed(rule, err));
        continue;
      }
      collect(mode, e.policy.ratcheting ? ratchet(rule, e.input, found) : found, e);
    }
  }

  private input(
    info: KindInfo,
    req: ObjectRequest,
    object: AnyObject,
    oldObject: AnyObject | undefined,
    ctx: RuleContext,
  ): RuleInput<AnyObject> {
    const namespace = info.clusterScoped ? '' : object.metadata.namespace || req.namespace;
    const name = object.metadata.name || req.name;
    return {
      object: this.withNamespace(info, object, namespace),
      oldObject: oldObject && this.withNamespace(info, oldObject, namespace),
      operation: req.operation as AdmissionOperation,
      namespace,
      name,
      ctx,
    };
  }

  /** On CREATE the API server may send an object without `metadata.namespace`; rules always see it filled. */
  private withNamespace(info: KindInfo, object: AnyObject, namespace: string): AnyObject {
    if (!info.clusterScoped && !object.metadata.namespace) object.metadata.namespace = namespace;
    return object;
  }
}

/** The decision of a finished evaluation. Messages quote user strings (names, versions, keys): on one line wherever they are printed. */
function finish(e: Evaluation): Decision {
  const allowed = !e.findings.some((f) => f.action === 'deny');
  return {
    handled: true,
    kind: e.info.kind,
    namespace: e.input.namespace,
    name: e.input.name,
    allowed,
    findings: oneLineAll(e.findings),
    patch: e.patch,
    mutations: e.mutations,
    audited: oneLineAll(e.audited),
    policy: e.policy,
  };
}

/** `oneLineFinding` over a list, the list itself when empty (the usual case, no copy). */
function oneLineAll(findings: Finding[]): Finding[] {
  return findings.length === 0 ? findings : findings.map(oneLineFinding);
}

/** Sorts a rule's findings by its mode: enforced as they are, deny turned to warn, or kept for audit only. */
function collect(mode: PlannedRule['mode'], all: Finding[], e: Pick<Evaluation, 'findings' | 'audited'>): void {
  if (all.length === 0) return;
  if (mode === 'audit') for (const f of all) e.audited.push(f);
  else if (mode === 'warn') for (const f of all) e.findings.push(f.action === 'deny' ? { ...f, action: 'warn' } : f);
  else for (const f of all) e.findings.push(f);
}

/**
 * Ratcheting: on UPDATE, a deny finding that the stored object already had
 * (same rule, same field) becomes a warning, so an unrelated edit (scaling a
 * nodeSet) of an object that predates the webhook is not blocked.
 */
function ratchet(rule: AnyRule, input: RuleInput<AnyObject>, found: Finding[]): Finding[] {
  if (input.operation !== 'UPDATE' || !input.oldObject || !found.some((f) => f.action === 'deny')) return found;
  let old: Finding[];
  try {
    old = callValidate(rule, { ...input, object: input.oldObject, oldObject: input.oldObject });
  } catch {
    return found;
  }
  const before = new Set(old.filter((f) => f.action === 'deny').map((f) => f.field));
  return found.map((f) =>
    f.action === 'deny' && before.has(f.field) ? { ...f, action: 'warn' as const, message: f.message + RATCHET_NOTE } : f,
  );
}

/** The resources a rule needs that the state has not synced, as text; undefined when all are synced. */
function unsyncedNeeds(rule: AnyRule, state: ClusterState, object: AnyObject): string | undefined {
  const needs = typeof rule.needs === 'function' ? (rule.needs as (o: AnyObject) => readonly StateResource[])(object) : rule.needs;
  if (!needs || needs.every((r) => state.isSynced(r))) return undefined;
  return needs
    .filter((r) => !state.isSynced(r))
    .map((r) => `${r}s`)
    .join(' and ');
}

/**
 * The "cannot verify yet" message for the remote clusters a rule reads that
 * are not current, naming each with why; undefined when there are none
 * (at once when no remote is unsynced, the usual case).
 */
function unsyncedRemotesOf(rule: AnyRule, input: RuleInput<AnyObject>, state: ClusterState): string | undefined {
  const unsynced = state.unsyncedRemotes();
  if (unsynced.size === 0 || !rule.remotes) return undefined;
  const names = (rule.remotes as (i: RuleInput<AnyObject>, u: ReadonlyMap<string, string>) => readonly string[])(input, unsynced);
  if (names.length === 0) return undefined;
  const which = names.map((n) => `remote cluster ${n} (${unsynced.get(n) ?? 'not synced'})`).join('; ');
  return `cannot verify yet: the discovered ranges of ${which} are not current; retry once it is reachable`;
}

/** The finding made when a rule throws: a bug, reported (fail closed) rather than crashing the request. */
function ruleFailed(rule: AnyRule, err: unknown): Finding {
  const reason = err instanceof Error ? err.message : String(err);
  return deny(INTERNAL_ERROR_RULE, '', `rule ${rule.id} failed (${reason}); this is a bug in remote-cluster-guard`);
}

/**
 * A copy of a JSON value (objects and arrays copied, anything else shared)
 * without recursion: a 100k-deep field nobody reads must not exhaust the stack
 * as structuredClone or a JSON round trip would. Keys stay own data
 * properties (`__proto__` included: object spread defines, never sets).
 */
function cloneJson(value: unknown): unknown {
  const isContainer = (v: unknown): v is Record<string, unknown> => {
    if (typeof v !== 'object' || v === null) return false;
    const proto: unknown = Object.getPrototypeOf(v);
    return Array.isArray(v) || proto === Object.prototype || proto === null;
  };
  const copy = (v: Record<string, unknown>): Record<string, unknown> =>
    Array.isArray(v) ? (v.slice() as unknown as Record<string, unknown>) : { ...v };
  if (!isContainer(value)) return value;
  const root = copy(value);
  const pending = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    for (const key of Object.keys(node)) {
      const child = node[key];
      if (!isContainer(child)) continue;
      const c = copy(child);
      node[key] = c; // an own property already: assigning never reaches a prototype setter
      pending.push(c);
    }
  }
  return root;
}

// The registry holds rules of every kind; the engine only calls a rule with an object of its own kind.
function callMutate(rule: AnyRule, input: RuleInput<AnyObject>): Mutation {
  return (rule.mutate as (i: RuleInput<AnyObject>) => Mutation)(input);
}
function callValidate(rule: AnyRule, input: RuleInput<AnyObject>): Finding[] {
  return (rule.validate as (i: RuleInput<AnyObject>) => Finding[])(input);
}

export { OBJECT_SHAPE_RULE };
