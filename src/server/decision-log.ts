/**
 * The decision log: one JSON line per admission decision with findings (level
 * `warn` for a denial, `info` for warnings) and, at `debug`, per clean allowed
 * request. It records who asked for what and why it was refused, never the
 * object itself, so no secret-bearing field can reach it.
 *
 * Line shape: `{level, time, msg, uid, path, operation, kind, namespace, name,
 * user: {username, groups}, dryRun, allowed, findings: [{rule, action, field,
 * message}], findingsOmitted?, patchedBy: [rule ids]}`; `action` is deny,
 * warn, or audit for rules in audit mode.
 *
 * Every finding is logged (the AdmissionResponse shows 20 per rule), up to
 * `MAX_LOGGED_FINDINGS` per line: no real object comes near it, and a hostile
 * 4 MiB body that makes 140,000 findings must not write a 30 MB line that
 * blocks the event loop for seconds and breaks every log shipper's line limit.
 * Past it, `findingsOmitted` counts the findings left out.
 */
import type { AdmissionRequest } from '../admission/types.js';
import { reportedFindings, type Decision } from '../engine/decision.js';
import type { Logger } from '../log/logger.js';

/** Findings written in one decision line at most; `findingsOmitted` counts the rest. */
export const MAX_LOGGED_FINDINGS = 1_000;

export interface DecisionRecord {
  uid: string;
  /** `/validate` or `/mutate`. */
  path: string;
  request: AdmissionRequest;
  decision: Decision;
}

export function logDecision(log: Logger, { uid, path, request, decision }: DecisionRecord): void {
  const findings = reportedFindings(decision);
  const hasFindings = findings.length > 0;
  if (decision.allowed && !hasFindings && !log.isLevelEnabled('debug')) return;
  const entry = {
    uid,
    path,
    operation: request.operation,
    kind: request.kind.kind,
    group: request.kind.group,
    namespace: decision.namespace,
    name: decision.name,
    user: { username: request.userInfo?.username ?? '', groups: request.userInfo?.groups ?? [] },
    dryRun: request.dryRun === true,
    allowed: decision.allowed,
    // Every finding (no cap: the record is for auditors), rules in audit mode with action `audit`.
    findings: findings.slice(0, MAX_LOGGED_FINDINGS).map(({ rule, action, field, message }) => ({ rule, action, field, message })),
    ...(findings.length > MAX_LOGGED_FINDINGS ? { findingsOmitted: findings.length - MAX_LOGGED_FINDINGS } : {}),
    patchedBy: decision.mutations.map((m) => m.rule),
  };
  if (!decision.allowed) log.warn(entry, 'admission denied');
  else if (hasFindings) log.info(entry, 'admission allowed with warnings');
  else log.debug(entry, 'admission allowed');
}
