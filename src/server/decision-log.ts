/**
 * The decision log: the audit record of admission. One JSON line per decision
 * that denies, warns, audits or patches (and, at `debug`, per clean allowed
 * request). It records who asked for what, what was found and what was
 * changed, never the object itself, so no secret-bearing field can reach it.
 *
 * Line shape, version `v1` (JSON Schema: `decision-log.schema.json` beside
 * this file, checked against real lines by the tests):
 *
 * `{level: "warn"|"info"|"debug", time: RFC 3339, app, pod, log: "decision",
 * schemaVersion: "v1", msg, uid, path, operation, dryRun, allowed,
 * userInfo: {username, uid?, groups}, kind: {group, version, kind},
 * resource?: {group, version, resource}, subResource?, requestKind?,
 * namespace, name, findings: [{rule, action, mode, field, message}],
 * findingsOmitted?, patch: [{rule, op, path, value?}], configGeneration}`
 *
 * - `action` is deny, warn, or audit (a rule in audit mode); `mode` is the
 *   rule's mode when the request was answered (enforce, warn, audit).
 * - `requestKind` only when it differs from `kind` (the API server converted
 *   the request, `matchPolicy: Equivalent`).
 * - `patch` holds the JSON Patch operations the webhook returned, each with the
 *   rule that made it; a value under a secret-bearing key is `[REDACTED]`
 *   (no rule patches one; this keeps it so).
 * - `configGeneration`: the first 12 hex digits of the SHA-256 of the
 *   configuration file in force, `default` without one: the same text gives
 *   the same generation on every replica.
 *
 * Levels: `warn` for a denial, `info` for warnings, audit findings or patches,
 * `debug` for the rest. Every finding is logged (the AdmissionResponse shows
 * 20 per rule), up to `MAX_LOGGED_FINDINGS` per line: no real object comes near
 * it, and a hostile 4 MiB body that makes 140,000 findings must not write a
 * 30 MB line that blocks the event loop for seconds and breaks every log
 * shipper's line limit. Past it, `findingsOmitted` counts the findings left out.
 */
import type { AdmissionRequest, GroupVersionKind } from '../admission/types.js';
import { findingMode, reportedFindings, type Decision } from '../engine/decision.js';
import type { PatchOperation } from '../engine/rule.js';
import { SECRET_KEYS, type Logger } from '../log/logger.js';

/** The `schemaVersion` of every line; a change that is not backwards compatible makes a new one. */
export const DECISION_SCHEMA_VERSION = 'v1';

/** The bindings every decision line carries, whichever stream it is written to. */
export const DECISION_BINDINGS = Object.freeze({ log: 'decision', schemaVersion: DECISION_SCHEMA_VERSION });

/** Findings written in one decision line at most; `findingsOmitted` counts the rest. */
export const MAX_LOGGED_FINDINGS = 1_000;

export interface DecisionRecord {
  uid: string;
  /** `/validate` or `/mutate`. */
  path: string;
  request: AdmissionRequest;
  decision: Decision;
}

/** A logger for decisions: `log` with the decision bindings (pino serialises them once). */
export function decisionLogger(log: Logger): Logger {
  return log.child(DECISION_BINDINGS);
}

/** Writes the decision to `log` (made by `decisionLogger`) at the level its outcome calls for. */
export function logDecision(log: Logger, { uid, path, request, decision }: DecisionRecord): void {
  const findings = reportedFindings(decision);
  const notable = findings.length > 0 || decision.patch.length > 0;
  if (decision.allowed && !notable && !log.isLevelEnabled('debug')) return;
  const entry = {
    uid,
    path,
    operation: request.operation,
    dryRun: request.dryRun === true,
    allowed: decision.allowed,
    userInfo: {
      username: request.userInfo?.username ?? '',
      ...(request.userInfo?.uid ? { uid: request.userInfo.uid } : {}),
      groups: request.userInfo?.groups ?? [],
    },
    kind: request.kind,
    ...(request.resource ? { resource: request.resource } : {}),
    ...(request.subResource ? { subResource: request.subResource } : {}),
    ...(request.requestKind && !sameKind(request.requestKind, request.kind) ? { requestKind: request.requestKind } : {}),
    namespace: decision.namespace,
    name: decision.name,
    findings: findings
      .slice(0, MAX_LOGGED_FINDINGS)
      .map((f) => ({ rule: f.rule, action: f.action, mode: findingMode(decision, f), field: f.field, message: f.message })),
    ...(findings.length > MAX_LOGGED_FINDINGS ? { findingsOmitted: findings.length - MAX_LOGGED_FINDINGS } : {}),
    patch: decision.mutations.flatMap(({ rule, patch }) => patch.map((op) => loggedOperation(rule, op))),
    configGeneration: decision.policy?.generation ?? 'default',
  };
  if (!decision.allowed) log.warn(entry, 'admission denied');
  else if (findings.length > 0) log.info(entry, 'admission allowed with findings');
  else if (decision.patch.length > 0) log.info(entry, 'admission allowed with changes');
  else log.debug(entry, 'admission allowed');
}

function sameKind(a: GroupVersionKind, b: GroupVersionKind): boolean {
  return a.group === b.group && a.version === b.version && a.kind === b.kind;
}

const SECRET_KEY_SET = new Set(SECRET_KEYS);

/** A patch operation as logged: the value kept unless the path ends in a secret-bearing key. */
function loggedOperation(rule: string, op: PatchOperation): { rule: string; op: string; path: string; value?: unknown } {
  const key = op.path.slice(op.path.lastIndexOf('/') + 1);
  if (!('value' in op)) return { rule, op: op.op, path: op.path };
  return { rule, op: op.op, path: op.path, value: SECRET_KEY_SET.has(key) ? '[REDACTED]' : op.value };
}
