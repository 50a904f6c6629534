/**
 * The rule engine: decodes the object of a request, runs the rules of its kind
 * and returns a decision. It knows nothing of HTTP or files; the admission
 * endpoints, the CLI and the audit feed it requests.
 *
 * Phases mirror the kube-apiserver: `mutate` runs mutating rules in order,
 * each on the object as patched by the ones before it (their patches are
 * concatenated); `validate` runs validating rules; `both` (the CLI) mutates
 * first and validates the mutated object, as the API server would.
 */
import fjp from 'fast-json-patch';
import { handledKind, type HandledKind, type HandledObjects, type KindInfo } from '../kube/kinds.js';
import type { ClusterState, StateResource } from '../state/cluster-state.js';
import { describeIssues } from '../common/schema-issues.js';
import { OBJECT_SHAPE_RULE, shapeFindings } from './object-shape.js';
import { deny, oneLineFinding, warn, type Finding } from './finding.js';
import { DEFAULT_POLICY, modeOf, type Policy, type RuleMode } from '../config/policy.js';
import type { AdmissionOperation, AnyRule, Mutation, PatchOperation, RuleContext, RuleInput } from './rule.js';

type AnyObject = HandledObjects[HandledKind];

export type Phase = 'mutate' | 'validate' | 'both';

/** An admission request reduced to what the rules need. */
export interface EngineRequest {
  /** API group and kind of the object (`request.kind` in an AdmissionReview). */
  group: string;
  kind: string;
  /** CREATE, UPDATE, DELETE or CONNECT; only CREATE and UPDATE are checked. */
  operation: string;
  /** `request.namespace`; "" for cluster-scoped objects. */
  namespace: string;
  /** `request.name`; may be "" on CREATE with generateName. */
  name: string;
  object: unknown;
  oldObject?: unknown;
}

export interface Decision {
  /** False when no rule applies (kind not handled, DELETE...): always allowed then. */
  handled: boolean;
  /** The kind when the webhook handles its group and kind, even where no rule runs (DELETE, an excluded namespace). */
  kind?: HandledKind;
  /** Effective namespace and name of the object. */
  namespace: string;
  name: string;
  allowed: boolean;
  findings: Finding[];
  /** JSON Patch against the request's object; empty when nothing is defaulted. */
  patch: PatchOperation[];
  /** The same operations grouped by the rule that made them, in order. */
  mutations: { rule: string; patch: PatchOperation[] }[];
  /** Findings of rules in `audit` mode: logged and counted, never shown to the user. */
  audited: Finding[];
}

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

  /** Replaces the policy (a configuration reload); requests already running keep the old one. */
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

  evaluate(req: EngineRequest, phase: Phase, state: ClusterState): Decision {
    const info = handledKind(req.group, req.kind);
    const { policy, plans } = this.current;
    if (!info || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) {
      return unhandled(req.namespace, req.name, info?.kind);
    }
    const decoded = info.schema.safeParse(req.object);
    if (!decoded.success) {
      const findings = shapeFindings(decoded.error.issues).map(oneLineFinding);
      return {
        namespace: req.namespace,
        name: req.name,
        handled: true,
        kind: info.kind,
        allowed: false,
        findings,
        patch: [],
        mutations: [],
        audited: [],
      };
    }
    const ctx: RuleContext = { state, now: this.options.now?.() ?? new Date(), operatorNamespace: this.options.operatorNamespace };
    const oldDecoded = req.operation === 'UPDATE' ? info.schema.safeParse(req.oldObject) : undefined;
    const input = this.input(info, req, decoded.data, oldDecoded?.success ? oldDecoded.data : undefined, ctx);
    if (!info.clusterScoped && policy.excludedNamespaces.includes(input.namespace)) {
      return unhandled(input.namespace, input.name, info.kind);
    }
    const plan = plans.get(info.kind) ?? NO_RULES;
    const findings: Finding[] = [];
    const audited: Finding[] = [];
    const patch: PatchOperation[] = [];
    const mutations: Decision['mutations'] = [];

    if (phase !== 'validate') {
      let working: unknown;
      for (const { rule, mode } of plan.mutating) {
        const missing = unsyncedNeeds(rule, state, input.object);
        if (missing) {
          findings.push(
            warn(rule.id, '', `not defaulted: the webhook is still reading ${missing} from the cluster; apply again in a few seconds`),
          );
          continue;
        }
        let m: Mutation;
        try {
          m = callMutate(rule, input);
        } catch (err) {
          findings.push(ruleFailed(rule, err));
          continue;
        }
        collect(rule, mode, m.findings, findings, audited);
        if (m.patch.length === 0) continue;
        working ??= cloneJson(req.object);
        fjp.applyPatch(working, m.patch, false, true);
        for (const op of m.patch) patch.push(op);
        mutations.push({ rule: rule.id, patch: m.patch });
        // Later rules see the patched object, as chained mutating webhooks would.
        const again = info.schema.safeParse(working);
        if (!again.success) {
          findings.push(
            deny(
              INTERNAL_ERROR_RULE,
              '',
              `rule ${rule.id} produced an invalid object (${describeIssues(again.error.issues)}); this is a bug in remote-cluster-guard`,
            ),
          );
          break;
        }
        input.object = this.withNamespace(info, again.data, input.namespace);
      }
    }
    if (phase !== 'mutate') {
      for (const { rule, mode } of plan.validating) {
        const missing = unsyncedNeeds(rule, state, input.object);
        if (missing) {
          const say = policy.unsynced === 'warn' ? warn : deny;
          collect(
            rule,
            mode,
            [say(rule.id, '', `cannot verify yet: the webhook is still reading ${missing} from the cluster; retry in a few seconds`)],
            findings,
            audited,
          );
          continue;
        }
        let found: Finding[];
        try {
          found = callValidate(rule, input);
        } catch (err) {
          findings.push(ruleFailed(rule, err));
          continue;
        }
        collect(rule, mode, policy.ratcheting ? ratchet(rule, input, found) : found, findings, audited);
      }
    }
    const allowed = !findings.some((f) => f.action === 'deny');
    // Messages quote user strings (names, versions, keys): on one line wherever they are printed.
    return {
      handled: true,
      kind: info.kind,
      namespace: input.namespace,
      name: input.name,
      allowed,
      findings: oneLineAll(findings),
      patch,
      mutations,
      audited: oneLineAll(audited),
    };
  }

  private input(
    info: KindInfo,
    req: EngineRequest,
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

/** The decision for a request no rule looks at: allowed, nothing found. */
function unhandled(namespace: string, name: string, kind: HandledKind | undefined): Decision {
  return { handled: false, kind, namespace, name, allowed: true, findings: [], patch: [], mutations: [], audited: [] };
}

/** `oneLineFinding` over a list, the list itself when empty (the usual case, no copy). */
function oneLineAll(findings: Finding[]): Finding[] {
  return findings.length === 0 ? findings : findings.map(oneLineFinding);
}

/** Sorts a rule's findings by its mode: enforced as they are, deny turned to warn, or kept for audit only. */
function collect(rule: AnyRule, mode: PlannedRule['mode'], all: Finding[], findings: Finding[], audited: Finding[]): void {
  if (all.length === 0) return;
  const from = capFindings(rule.id, all);
  if (mode === 'audit') audited.push(...from);
  else if (mode === 'warn') findings.push(...from.map((f) => (f.action === 'deny' ? { ...f, action: 'warn' as const } : f)));
  else findings.push(...from);
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

/** The finding made when a rule throws: a bug, reported (fail closed) rather than crashing the request. */
function ruleFailed(rule: AnyRule, err: unknown): Finding {
  const reason = err instanceof Error ? err.message : String(err);
  return deny(INTERNAL_ERROR_RULE, '', `rule ${rule.id} failed (${reason}); this is a bug in remote-cluster-guard`);
}

/** At most this many findings per rule and request: a huge array of bad entries must not make a huge answer. */
export const MAX_FINDINGS_PER_RULE = 20;

/** The first findings of a rule, and one more counting the rest (a deny when any of them denies, so the decision stands). */
function capFindings(rule: string, findings: Finding[]): Finding[] {
  if (findings.length <= MAX_FINDINGS_PER_RULE) return findings;
  const rest = findings.slice(MAX_FINDINGS_PER_RULE);
  const say = rest.some((f) => f.action === 'deny') ? deny : warn;
  return [
    ...findings.slice(0, MAX_FINDINGS_PER_RULE),
    say(rule, '', `and ${rest.length} more findings like these, not listed; fix those first`),
  ];
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
