/**
 * The `--output` formats of `validate` and `audit`, one module each, all
 * reading findings through `reportedFindings` so every format shows the same.
 */
import type { ValidateResult } from '../validate.js';
import { formatGithub } from './github.js';
import { formatJson } from './json.js';
import { formatJunit } from './junit.js';
import { formatSarif } from './sarif.js';
import { formatText } from './text.js';

export const OUTPUT_FORMATS = ['text', 'json', 'junit', 'sarif', 'github'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const FORMATTERS: Record<OutputFormat, (result: ValidateResult) => string> = {
  text: formatText,
  json: formatJson,
  junit: formatJunit,
  sarif: formatSarif,
  github: formatGithub,
};

/** `result` written in `format`. */
export function formatResult(format: OutputFormat, result: ValidateResult): string {
  return FORMATTERS[format](result);
}

export { formatGithub, formatJson, formatJunit, formatSarif, formatText };
