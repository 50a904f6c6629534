/**
 * `--output github`: GitHub Actions workflow commands, one line per finding,
 * which the runner turns into annotations on the file and line:
 * `::error file=<path>,line=<n>,col=<c>,title=<rule>::<message>` for a deny
 * (the file relative to the working directory, the checkout in a job),
 * `::warning` for a warn, `::notice` for a rule in audit mode; then the
 * summary line of the text format (printed as is). Values are escaped as the
 * runner's toolkit does (`%`, CR, LF; in properties also `:` and `,`).
 */
import { formatFinding } from '../../engine/finding.js';
import type { ReportedAction } from '../../engine/decision.js';
import { formatKey } from '../../kube/meta.js';
import type { ValidateResult } from '../validate.js';
import { eachFinding, findingPosition, relativePath, summarize } from './shared.js';

const COMMAND: Record<ReportedAction, string> = { deny: 'error', warn: 'warning', audit: 'notice' };

/** A message (the data after `::`): `%`, CR and LF escaped. */
export const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** A property value: as data, plus `:` and `,`. */
export const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function formatGithub(result: ValidateResult): string {
  const lines: string[] = [];
  for (const [r, f] of eachFinding(result)) {
    const at = findingPosition(r, f.field);
    const props = [
      ...(at ? [`file=${escapeProperty(relativePath(r.file))}`, `line=${at.line}`, `col=${at.column}`] : []),
      `title=${escapeProperty(f.rule)}`,
    ];
    lines.push(`::${COMMAND[f.action]} ${props.join(',')}::${escapeData(`${r.kind} ${formatKey(r)}: ${formatFinding(f)}`)}`);
  }
  const s = summarize(result);
  lines.push(`${s.objects} objects checked: ${s.denied} denied, ${s.objects - s.denied} allowed, ${s.patched} patched`);
  return lines.join('\n') + '\n';
}
