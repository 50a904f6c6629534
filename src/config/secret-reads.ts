/**
 * The opt-in to reading Secrets by name for the CA trust rules: the serve,
 * audit and validate flag `--read-ca-secrets [namespaces]` and the
 * configuration file's `readCaSecrets` (true, or a list of namespaces).
 * Off by default: the rules that need a Secret then say "cannot verify".
 */

/** Which Secrets may be read by name (`get`): none, those of some namespaces, or all. */
export type SecretReadScope = { enabled: false } | { enabled: true; namespaces?: readonly string[] };

export const NO_SECRET_READS: SecretReadScope = { enabled: false };

/**
 * The scope of a flag or file value: undefined or false → none; true → all
 * namespaces; `a,b` or `[a, b]` → those. Blank entries are dropped; a value
 * with none left means none.
 */
export function secretReadScope(value: boolean | string | readonly string[] | undefined): SecretReadScope {
  if (value === undefined || value === false) return NO_SECRET_READS;
  if (value === true) return { enabled: true };
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((s) => s.trim()).filter(Boolean);
  return list.length ? { enabled: true, namespaces: list } : NO_SECRET_READS;
}

/** Whether `scope` lets a Secret of `namespace` be read. */
export function mayReadSecret(scope: SecretReadScope, namespace: string): boolean {
  return scope.enabled && (!scope.namespaces || scope.namespaces.includes(namespace));
}
