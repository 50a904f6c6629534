/** What several output formats share: positions, file URIs, summary counts (the tool's name and version: ../package-info.ts). */
import { relative, sep } from 'node:path';
import { reportedFindings, type ReportedFinding } from '../../engine/decision.js';
import type { Position } from '../../state/manifests.js';
import type { ObjectResult, ValidateResult } from '../validate.js';

/** Where `field` of `r`'s object is written; undefined for objects without a file (audit). */
export function findingPosition(r: ObjectResult, field: string): Position | undefined {
  if (!r.file) return undefined;
  return r.locate?.(field) ?? { line: r.line, column: 1 };
}

/** Objects checked, denied, with a warning, patched (an object with warnings and a denial counts in both). */
export function summarize(result: ValidateResult) {
  let denied = 0;
  let warned = 0;
  let patched = 0;
  for (const r of result.results) {
    if (!r.decision.allowed) denied++;
    if (r.decision.findings.some((f) => f.action === 'warn')) warned++;
    if (r.decision.patch.length > 0) patched++;
  }
  return { objects: result.results.length, denied, warned, patched };
}

/** `file` relative to the working directory (a CI job's checkout), with forward slashes. */
export function relativePath(file: string): string {
  const rel = file === 'stdin' ? file : relative(process.cwd(), file) || file;
  return rel.split(sep).join('/');
}

/** relativePath with each segment URI-encoded: a relative URI reference, as SARIF's artifactLocation.uri wants. */
export const fileUri = (file: string) => relativePath(file).split('/').map(encodeURIComponent).join('/');

/** Every reported finding of every object, with the object. */
export function* eachFinding(result: ValidateResult): Generator<[ObjectResult, ReportedFinding]> {
  for (const r of result.results) for (const f of reportedFindings(r.decision)) yield [r, f];
}
