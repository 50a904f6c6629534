/**
 * `--output json`: one document with every object, its findings and its patch.
 * `schemaVersion` counts incompatible changes of this layout (fields are only
 * ever added within a version).
 */
import { reportedFindings } from '../../engine/decision.js';
import type { ValidateResult } from '../validate.js';
import { findingPosition, summarize } from './shared.js';
import { TOOL } from '../package-info.js';

export const JSON_SCHEMA_VERSION = 1;

export function formatJson(result: ValidateResult): string {
  const objects = result.results.map((r) => ({
    file: r.file,
    line: r.line,
    operation: r.operation,
    apiVersion: r.apiVersion,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    allowed: r.decision.allowed,
    findings: reportedFindings(r.decision).map(({ rule, action, field, message }) => {
      const at = findingPosition(r, field);
      return { rule, action, field, message, ...(at ? { line: at.line, column: at.column } : {}) };
    }),
    patch: r.decision.patch,
  }));
  return (
    JSON.stringify(
      {
        schemaVersion: JSON_SCHEMA_VERSION,
        tool: { name: TOOL.name, version: TOOL.version },
        allowed: result.exitCode === 0,
        summary: summarize(result),
        objects,
        problems: result.problems,
      },
      null,
      2,
    ) + '\n'
  );
}
