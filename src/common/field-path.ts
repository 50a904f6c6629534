/**
 * Field paths in two notations: the one people read in messages
 * (`spec.remoteClusters[0].name`, as Kubernetes field errors print them) and
 * RFC 6901 JSON Pointers for JSON Patch (`/spec/remoteClusters/0/name`).
 */
import fjp from 'fast-json-patch';

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `spec.remoteClusters[0].name`; keys that are not identifiers are bracketed: `metadata.labels[a/b]`. */
export function fieldPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out ? `.${s}` : s;
    else out += `[${s}]`;
  }
  return out;
}

/** `/spec/remoteClusters/0/name`, with `~` and `/` escaped as RFC 6901 requires. */
export function jsonPointer(segments: readonly PathSegment[]): string {
  return segments.map((s) => '/' + fjp.escapePathComponent(String(s))).join('');
}

/** The field path a JSON Pointer designates: `/spec/remoteClusters/0/name` → `spec.remoteClusters[0].name`. */
export function pointerToField(pointer: string): string {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
  return fieldPath(segments);
}

/**
 * The segments of a field path as `fieldPath` writes it, each as written:
 * `spec.remoteClusters[0].name` → `spec`, `remoteClusters`, `0`, `name`;
 * `metadata.labels[a/b]` → `metadata`, `labels`, `a/b`. A bracketed segment
 * is a list index or a map key: only the object it is looked up in can tell
 * (`fieldPath` brackets the key `"0"` as it does the index 0).
 */
export function parseFieldPath(field: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < field.length) {
    if (field[i] === '.') i++;
    if (field[i] === '[') {
      // Kubernetes keys (labels, annotations, data) never hold `]`: the first one closes the segment.
      const end = field.indexOf(']', i + 1);
      if (end === -1) {
        out.push(field.slice(i + 1));
        break;
      }
      out.push(field.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < field.length && field[end] !== '.' && field[end] !== '[') end++;
      out.push(field.slice(i, end));
      i = end;
    }
  }
  return out;
}
