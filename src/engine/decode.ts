/**
 * Turns schema violations of untrusted input (a field of the wrong type, a
 * missing `metadata`) into one-line reasons and `object-shape` findings, so a
 * malformed object gets a clear denial instead of a crash in a rule.
 */
import type { z } from 'zod';
import { deny, oneLine, type Finding } from './finding.js';
import { fieldPath, type PathSegment } from './paths.js';

/** Rule id of the findings made for objects that do not have the expected shape. */
export const OBJECT_SHAPE_RULE = 'object-shape';

/** Only the first few issues are reported: a huge malformed array must not make a huge message. */
const MAX_ISSUES = 5;

function toSegments(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

/** Zod's message without its "Invalid input: " prefix, lower-cased for embedding. */
function issueText(issue: z.core.$ZodIssue): string {
  return issue.message.replace(/^Invalid input:\s*/, '');
}

/** One finding per issue (at most 5, the last one saying how many more there were). */
export function shapeFindings(issues: readonly z.core.$ZodIssue[]): Finding[] {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => {
    const field = fieldPath(toSegments(i.path));
    return deny(OBJECT_SHAPE_RULE, field, `${issueText(i)}; fix the field's type`);
  });
  if (issues.length > MAX_ISSUES) {
    shown.push(deny(OBJECT_SHAPE_RULE, '', `${issues.length - MAX_ISSUES} more fields have the wrong type`));
  }
  return shown;
}

/** `spec.version: expected string, received number; ...` on one line. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, MAX_ISSUES).map((i) => {
    const field = fieldPath(toSegments(i.path));
    return field ? `${field}: ${issueText(i)}` : issueText(i);
  });
  if (issues.length > MAX_ISSUES) parts.push(`and ${issues.length - MAX_ISSUES} more`);
  return oneLine(parts.join('; '));
}
