/**
 * Findings: what a rule says about an object. A `deny` finding rejects the
 * request; a `warn` finding is returned to the user as an admission warning
 * (kubectl prints it) and logged.
 */

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

/** Line breaks and other control characters (C0, DEL, C1, U+2028, U+2029). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` on one line: control characters written as escapes (`\n`, `\u001b`),
 * so a user's string quoted in a message (a name, a version, a map key) can
 * neither break the line kubectl and logs print nor drive a terminal.
 */
export function oneLine(text: string): string {
  if (!HAS_CONTROL.test(text)) return text;
  return text.replace(CONTROL, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
export function formatFinding(f: Finding): string {
  return f.field ? `${f.field}: ${f.message}` : f.message;
}
