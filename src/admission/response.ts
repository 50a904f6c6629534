/**
 * Builds the AdmissionResponse for an engine decision.
 *
 * kubectl prints only `status.message` of a denial, so the message lists every
 * deny finding with its rule and field path; `status.details.causes` carries
 * the same findings for programmatic clients. Warnings are returned on allowed
 * and denied responses alike (kubectl prints them as `Warning: ...`).
 *
 * The response is the one output that must stay small (the API server keeps
 * warnings and annotations in memory and in its audit log): each rule shows at
 * most `MAX_FINDINGS_PER_RULE` findings there, then a line counting the rest.
 * The decision itself, the decision log, the metrics and the CLI keep all.
 */
import { reportedFindings, type Decision, type ReportedFinding } from '../engine/decision.js';
import { formatFinding, type Finding } from '../engine/finding.js';
import type { AdmissionResponse } from './types.js';

/** At most this many findings of one rule in a response: a huge array of bad entries must not make a huge answer. */
export const MAX_FINDINGS_PER_RULE = 20;

/** `<rule>: <field>: <message>`, the one-line form used in messages, warnings and the CLI. */
export function findingLine(f: Pick<Finding, 'rule' | 'field' | 'message'>): string {
  return `${f.rule}: ${formatFinding(f)}`;
}

/**
 * The first `MAX_FINDINGS_PER_RULE` findings of each rule, in order, then for
 * each rule that had more, one finding saying how many were left out (with the
 * strongest action among them, so a denial still reads as one). `findings`
 * itself when no rule has more.
 */
export function capPerRule<F extends ReportedFinding>(findings: readonly F[]): readonly F[] {
  if (findings.length <= MAX_FINDINGS_PER_RULE) return findings;
  const shown: F[] = [];
  const perRule = new Map<string, { n: number; left: F[] }>();
  for (const f of findings) {
    const r = perRule.get(f.rule) ?? { n: 0, left: [] };
    perRule.set(f.rule, r);
    if (++r.n <= MAX_FINDINGS_PER_RULE) shown.push(f);
    else r.left.push(f);
  }
  if (shown.length === findings.length) return findings;
  for (const { left } of perRule.values()) {
    if (left.length === 0) continue;
    const action = left.some((l) => l.action === 'deny') ? 'deny' : left[0]!.action;
    shown.push({ ...left[0]!, action, field: '', message: `and ${left.length} more findings like these, not listed; fix those first` });
  }
  return shown;
}

/** The `status.message` of a denial: every deny finding, `; `-separated. */
export function denialMessage(findings: readonly Finding[]): string {
  return findings
    .filter((f) => f.action === 'deny')
    .map(findingLine)
    .join('; ');
}

/**
 * Audit annotations: one key per rule with findings (rule ids are qualified
 * names), the value listing actions and fields, e.g. `deny spec.version`.
 */
export function auditAnnotations(
  findings: readonly Pick<ReportedFinding, 'rule' | 'action' | 'field'>[],
): Record<string, string> | undefined {
  if (findings.length === 0) return undefined;
  const byRule = new Map<string, string[]>();
  for (const f of findings) {
    const list = byRule.get(f.rule) ?? [];
    list.push(f.field ? `${f.action} ${f.field}` : f.action);
    byRule.set(f.rule, list);
  }
  return Object.fromEntries([...byRule].map(([rule, items]) => [rule, items.join(', ')]));
}

export function admissionResponse(uid: string, decision: Decision): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: decision.allowed };
  const findings = capPerRule(decision.findings);
  const warnings = findings.filter((f) => f.action === 'warn').map(findingLine);
  if (warnings.length > 0) response.warnings = warnings;
  const annotations = auditAnnotations(capPerRule(reportedFindings(decision)));
  if (annotations) response.auditAnnotations = annotations;
  if (!decision.allowed) {
    const denials = findings.filter((f) => f.action === 'deny');
    // 403 Forbidden, as ECK's, Gatekeeper's and Kyverno's webhooks answer: kubectl then prints
    // `admission webhook "<name>" denied the request: <message>` with the file it was applying.
    // (422 Invalid with causes makes kubectl print the causes alone, without webhook or file.)
    response.status = {
      code: 403,
      reason: 'Forbidden',
      message: denialMessage(denials),
      details: { causes: denials.map((f) => ({ reason: 'FieldValueInvalid', message: `${f.rule}: ${f.message}`, field: f.field })) },
    };
  } else if (decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  return response;
}

/** A denial for a request the webhook could not process (a bug or an exhausted resource), fail closed. */
export function errorResponse(uid: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code: 500, reason: 'InternalError', message } };
}
