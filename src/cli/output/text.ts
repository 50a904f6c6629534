/** `--output text`, the default: one line per finding and per patch operation, then a count. */
import { findingLine } from '../../admission/response.js';
import { pointerToField } from '../../common/field-path.js';
import { oneLine } from '../../common/text.js';
import { reportedFindings } from '../../engine/decision.js';
import { formatKey } from '../../kube/meta.js';
import type { ValidateResult } from '../validate.js';

/** `<file>:<line>: <kind> <namespace>/<name>: <rule>: <field>: <message>`, warnings and patches marked at the end. */
export function formatText(result: ValidateResult): string {
  const lines: string[] = [];
  for (const r of result.results) {
    const prefix = `${r.file ? `${r.file}:${r.line}: ` : ''}${r.kind} ${formatKey(r)}${r.operation === 'UPDATE' ? ' (update)' : ''}`;
    for (const f of reportedFindings(r.decision)) {
      lines.push(`${prefix}: ${findingLine(f)}${f.action === 'deny' ? '' : f.action === 'warn' ? ' (warning)' : ' (audit)'}`);
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
  const updates = result.results.filter((r) => r.operation === 'UPDATE').length;
  lines.push(
    `${result.results.length} objects checked: ${denied} denied, ${result.results.length - denied} allowed, ${patched} patched` +
      (updates > 0 ? `, ${updates} checked as UPDATE of the stored object` : ''),
  );
  // One line per finding whatever the file names, names and namespaces hold.
  return lines.map(oneLine).join('\n') + '\n';
}
