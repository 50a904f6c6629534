/**
 * Text that quotes user input (names, versions, map keys) kept on one line.
 */

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
