/**
 * Turns schema violations of untrusted input (a field of the wrong type, a
 * missing `metadata`) into `object-shape` findings, so a malformed object gets
 * a clear denial instead of a crash in a rule.
 */
import type { z } from 'zod';
import { issueField, issueText, MAX_ISSUES } from '../common/schema-issues.js';
import { deny, type Finding } from './finding.js';

/** Rule id of the findings made for objects that do not have the expected shape. */
export const OBJECT_SHAPE_RULE = 'object-shape';

/** One finding per issue (at most 5, the last one saying how many more there were). */
export function shapeFindings(issues: readonly z.core.$ZodIssue[]): Finding[] {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => deny(OBJECT_SHAPE_RULE, issueField(i), `${issueText(i)}; fix the field's type`));
  if (issues.length > MAX_ISSUES) {
    shown.push(deny(OBJECT_SHAPE_RULE, '', `${issues.length - MAX_ISSUES} more fields have the wrong type`));
  }
  return shown;
}
