/**
 * The `--output` formats of `validate` and `audit`, one module each, all
 * reading findings through `reportedFindings` so every format shows the same.
 */
import type { ValidateResult } from '../validate.js';
import { formatJson } from './json.js';
import { formatText } from './text.js';

export const OUTPUT_FORMATS = ['text', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const FORMATTERS: Record<OutputFormat, (result: ValidateResult) => string> = {
  text: formatText,
  json: formatJson,
};

/** `result` written in `format`. */
export function formatResult(format: OutputFormat, result: ValidateResult): string {
  return FORMATTERS[format](result);
}

export { formatJson, formatText };
