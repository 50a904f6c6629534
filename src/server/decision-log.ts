/**
 * The decision log: one JSON line per admission decision with findings (level
 * `warn` for a denial, `info` for warnings) and, at `debug`, per clean allowed
 * request. It records who asked for what and why it was refused, never the
 * object itself, so no secret-bearing field can reach it.
 *
 * Line shape: `{level, time, msg, uid, path, operation, kind, namespace, name,
 * user: {username, groups}, dryRun, allowed, findings: [{rule, action, field,
 * message}], patchedBy: [rule ids]}`; `action` is deny, warn, or audit for
 * rules in audit mode.
 */
import type { AdmissionRequest } from '../admission/types.js';
import type { Decision } from '../engine/engine.js';
import type { Logger } from '../log/logger.js';

export interface DecisionRecord {
  uid: string;
  /** `/validate` or `/mutate`. */
  path: string;
  request: AdmissionRequest;
  decision: Decision;
}

export function logDecision(log: Logger, { uid, path, request, decision }: DecisionRecord): void {
  const hasFindings = decision.findings.length > 0 || decision.audited.length > 0;
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
    findings: [
      ...decision.findings.map(({ rule, action, field, message }) => ({ rule, action, field, message })),
      // Rules in audit mode: recorded here and in metrics only.
      ...decision.audited.map(({ rule, field, message }) => ({ rule, action: 'audit', field, message })),
    ],
    patchedBy: decision.mutations.map((m) => m.rule),
  };
  if (!decision.allowed) log.warn(entry, 'admission denied');
  else if (hasFindings) log.info(entry, 'admission allowed with warnings');
  else log.debug(entry, 'admission allowed');
}
