/**
 * `--output junit`: a JUnit XML report (CI test tabs: GitLab, Jenkins,
 * Azure DevOps), built with junit-report-builder. One testsuite, one testcase
 * per object (classname its kind, name `<namespace>/<name> (<file>:<line>)`),
 * failed when the object is denied with its deny findings as the failure text;
 * warnings, audit findings and patches go to the testcase's system-out.
 */
import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import { findingLine } from '../../admission/response.js';
import { pointerToField } from '../../common/field-path.js';
import { reportedFindings } from '../../engine/decision.js';
import { formatKey } from '../../kube/meta.js';
import type { ValidateResult } from '../validate.js';
import { findingPosition } from './shared.js';

export const JUNIT_SUITE = 'remote-cluster-guard validate';

// A CommonJS module whose types declare an ES default export: required, so the types match what Node loads.
const junit = createRequire(import.meta.url)('junit-report-builder') as Builder;

export function formatJunit(result: ValidateResult): string {
  const builder = junit.newBuilder();
  const suite = builder.testSuite().name(JUNIT_SUITE);
  for (const r of result.results) {
    const place = r.file ? ` (${r.file}:${r.line})` : '';
    const test = suite
      .testCase()
      .className(r.kind)
      .name(`${formatKey(r)}${place}`);
    if (r.file) test.file(r.file);
    const line = (f: Parameters<typeof findingLine>[0] & { action: string }) => {
      const at = findingPosition(r, f.field);
      return `${at ? `${r.file}:${at.line}:${at.column}: ` : ''}${findingLine(f)}`;
    };
    const findings = reportedFindings(r.decision);
    const denials = findings.filter((f) => f.action === 'deny');
    if (denials.length > 0) {
      test.failure(`${r.kind} ${formatKey(r)} denied on ${r.operation}: ${denials.map(findingLine).join('; ')}`, 'denied');
      test.stacktrace(denials.map(line).join('\n'));
    }
    const out = [
      ...findings.filter((f) => f.action !== 'deny').map((f) => `${line(f)} (${f.action === 'warn' ? 'warning' : 'audit'})`),
      ...r.decision.mutations.flatMap((m) =>
        m.patch.map(
          (op) => `${m.rule}: ${pointerToField(op.path)}: ${op.op}${'value' in op ? ` = ${JSON.stringify(op.value)}` : ''} (patch)`,
        ),
      ),
    ];
    if (out.length > 0) test.standardOutput(out.join('\n'));
  }
  return builder.build() + '\n';
}
