/**
 * `--output sarif`: a SARIF 2.1.0 log (GitHub code scanning, IDE viewers).
 * The driver lists every rule id as a reportingDescriptor; each finding is a
 * result (error for deny, warning for warn, note for a rule in audit mode)
 * located at the finding's field in the file. Objects without a file (`audit`)
 * get a logical location, kind and name, instead: SARIF allows results
 * without an artifact.
 */
import type { Location, Log, ReportingDescriptor, Result } from 'sarif';
import { formatFinding } from '../../engine/finding.js';
import { INTERNAL_ERROR_RULE, OBJECT_SHAPE_RULE } from '../../engine/engine.js';
import type { ReportedAction } from '../../engine/decision.js';
import { formatKey } from '../../kube/meta.js';
import { ALL_RULES } from '../../rules/index.js';
import type { ValidateResult } from '../validate.js';
import { eachFinding, fileUri, findingPosition } from './shared.js';
import { TOOL } from '../package-info.js';

const LEVEL: Record<ReportedAction, Result.level> = { deny: 'error', warn: 'warning', audit: 'note' };

const HELP =
  "Each result's message says what is wrong with the field and how to fix it. `remote-cluster-guard rules` lists the rules; the README's Rules section explains each one with an example.";

/** One descriptor per rule id (a rule may cover several kinds), then the engine's own ids. */
function ruleDescriptors(): ReportingDescriptor[] {
  const byId = new Map<string, { kinds: string[]; summaries: string[] }>();
  for (const r of ALL_RULES) {
    const e = byId.get(r.id) ?? { kinds: [], summaries: [] };
    e.kinds.push(r.kind);
    if (!e.summaries.includes(r.summary)) e.summaries.push(r.summary);
    byId.set(r.id, e);
  }
  const descriptors: ReportingDescriptor[] = [...byId].map(([id, e]) => {
    const summaries = e.summaries.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`));
    return {
      id,
      shortDescription: { text: summaries[0]! },
      fullDescription: { text: `${summaries.join(' ')} Checks ${e.kinds.join(' and ')} objects.` },
      help: { text: HELP },
      properties: { kinds: e.kinds },
    };
  });
  descriptors.push(
    {
      id: OBJECT_SHAPE_RULE,
      shortDescription: { text: 'A field a rule reads has the wrong type.' },
      fullDescription: {
        text: 'The object does not have the shape the rules read (a field of the wrong type, e.g. spec.version: 8), so it is denied instead of being checked.',
      },
      help: { text: "Give the field the type the message names (for example quote a version: spec.version: '8.16.1')." },
    },
    {
      id: INTERNAL_ERROR_RULE,
      shortDescription: { text: 'A rule failed; the request is denied (fail closed).' },
      fullDescription: {
        text: 'A rule threw an error while checking the object. This is a bug in remote-cluster-guard, not in the manifest.',
      },
      help: { text: 'Report it with the message; the object is denied until the rule is fixed or put in audit mode with --config.' },
    },
  );
  return descriptors;
}

export function formatSarif(result: ValidateResult): string {
  const rules = ruleDescriptors();
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results: Result[] = [];
  for (const [r, f] of eachFinding(result)) {
    const at = findingPosition(r, f.field);
    const location: Location = at
      ? {
          physicalLocation: {
            artifactLocation: { uri: fileUri(r.file) },
            region: { startLine: at.line, startColumn: at.column },
          },
          logicalLocations: [{ name: r.name, fullyQualifiedName: `${r.kind} ${formatKey(r)}`, kind: 'object' }],
        }
      : { logicalLocations: [{ name: r.name, fullyQualifiedName: `${r.kind} ${formatKey(r)}`, kind: 'object' }] };
    results.push({
      ruleId: f.rule,
      ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule)! } : {}),
      level: LEVEL[f.action],
      message: { text: `${r.kind} ${formatKey(r)}: ${formatFinding(f)}` },
      locations: [location],
      ...(f.action === 'audit' ? { properties: { audit: true } } : {}),
    });
  }
  const log: Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL.name,
            version: TOOL.version,
            semanticVersion: TOOL.version,
            ...(TOOL.homepage ? { informationUri: TOOL.homepage } : {}),
            rules,
          },
        },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
