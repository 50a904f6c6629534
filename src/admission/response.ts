/**
 * Builds the AdmissionResponse for an engine decision.
 *
 * kubectl prints only `status.message` of a denial, so the message lists every
 * deny finding with its rule and field path; `status.details.causes` carries
 * the same findings for programmatic clients. Warnings are returned on allowed
 * and denied responses alike (kubectl prints them as `Warning: ...`).
 */
import type { Decision } from '../engine/engine.js';
import { formatFinding, type Finding } from '../engine/finding.js';
import type { AdmissionResponse } from './types.js';

/** `<rule>: <field>: <message>`, the one-line form used in messages, warnings and the CLI. */
export function findingLine(f: Finding): string {
  return `${f.rule}: ${formatFinding(f)}`;
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
export function auditAnnotations(findings: readonly { rule: string; action: string; field: string }[]): Record<string, string> | undefined {
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
  const warnings = decision.findings.filter((f) => f.action === 'warn').map(findingLine);
  if (warnings.length > 0) response.warnings = warnings;
  const annotations = auditAnnotations([...decision.findings, ...decision.audited.map((f) => ({ ...f, action: 'audit' }))]);
  if (annotations) response.auditAnnotations = annotations;
  if (!decision.allowed) {
    const denials = decision.findings.filter((f) => f.action === 'deny');
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
