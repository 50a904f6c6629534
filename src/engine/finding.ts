/**
 * Findings: what a rule says about an object. A `deny` finding rejects the
 * request; a `warn` finding is returned to the user as an admission warning
 * (kubectl prints it) and logged.
 */
import { oneLine } from '../common/text.js';

export type Action = 'deny' | 'warn';

export interface Finding {
  /** Rule id, for example `es-remote-version`. */
  rule: string;
  action: Action;
  /** Field path in the object, `spec.remoteClusters[0].name` style; "" for the whole object. */
  field: string;
  /** One sentence for a person: what is wrong and how to fix it. Never contains secret values. */
  message: string;
}

/** The finding with its field and message on one line (itself when they already are). */
export function oneLineFinding(f: Finding): Finding {
  const field = oneLine(f.field);
  const message = oneLine(f.message);
  return field === f.field && message === f.message ? f : { ...f, field, message };
}

export function deny(rule: string, field: string, message: string): Finding {
  return { rule, action: 'deny', field, message };
}

export function warn(rule: string, field: string, message: string): Finding {
  return { rule, action: 'warn', field, message };
}

/** `<field>: <message>`, or the message alone for whole-object findings. */
export function formatFinding(f: Pick<Finding, 'field' | 'message'>): string {
  return f.field ? `${f.field}: ${f.message}` : f.message;
}
