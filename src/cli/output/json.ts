/** `--output json`: one document with every object, its findings and its patch. */
import { reportedFindings } from '../../engine/decision.js';
import type { ValidateResult } from '../validate.js';

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
