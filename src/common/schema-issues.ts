/**
 * Zod issues of untrusted input (a field of the wrong type, a missing
 * `metadata`) as field paths and one-line reasons.
 */
import type { z } from 'zod';
import { fieldPath, type PathSegment } from './field-path.js';
import { oneLine } from './text.js';

/** Only the first few issues are reported: a huge malformed array must not make a huge message. */
export const MAX_ISSUES = 5;

/** The issue's path as field path segments. */
export function issueField(issue: z.core.$ZodIssue): string {
  return fieldPath(issue.path.map((p): PathSegment => (typeof p === 'number' ? p : String(p))));
}

/** Zod's message without its "Invalid input: " prefix, for embedding. */
export function issueText(issue: z.core.$ZodIssue): string {
  return issue.message.replace(/^Invalid input:\s*/, '');
}

/** `spec.version: expected string, received number; ...` on one line. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, MAX_ISSUES).map((i) => {
    const field = issueField(i);
    return field ? `${field}: ${issueText(i)}` : issueText(i);
  });
  if (issues.length > MAX_ISSUES) parts.push(`and ${issues.length - MAX_ISSUES} more`);
  return oneLine(parts.join('; '));
}
