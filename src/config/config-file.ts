/**
 * The configuration file (`--config`, YAML, mounted from a ConfigMap):
 *
 * ```yaml
 * rules:                         # mode per rule id: enforce | warn | audit | off
 *   es-enterprise-license: warn
 * operatorNamespace: elastic-system
 * excludedNamespaces: [sandbox]
 * unsynced: deny                 # or warn: answer while the live state has not synced
 * ratcheting: true
 * emitEvents: [admission, audit] # Kubernetes Events (serve --emit-events); read at start
 * reports: auto                  # policy reports of the audit: auto | openreports | wgpolicyk8s | off
 * readCaSecrets: [ns-two]        # or true: read Secrets by name for the CA trust rules (default: no)
 * federation:                    # remote cluster discovery (serve --federation-discovery); read at start
 *   discovery: true
 *   secretNamespace: calico-system
 *   maxRemoteObjects: 20000      # most IPPools (and Nodes) of one remote cluster indexed
 * ```
 *
 * Every key is checked; an error names the key (`rules.es-foo: unknown rule`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { fieldPath } from '../common/field-path.js';
import { DEFAULT_POLICY, RULE_MODES, type Policy } from './policy.js';
import { secretReadScope, type SecretReadScope } from './secret-reads.js';

/** What `serve --emit-events` (and `emitEvents` here) can turn into Kubernetes Events: denials, periodic audit violations. */
export const EVENT_SOURCES = ['admission', 'audit'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];
/**
 * Where the audit writes policy reports (`serve --reports`, the `reports`
 * key): `auto` (OpenReports when served, else wgpolicyk8s), one of the two
 * APIs, or `off`.
 */
export const REPORTS_SETTINGS = ['auto', 'openreports', 'wgpolicyk8s', 'off'] as const;
export type ReportsSetting = (typeof REPORTS_SETTINGS)[number];

export interface Config {
  policy: Policy;
  operatorNamespace?: string;
  /** Sources of Kubernetes Events; read at start (a change takes effect at the next restart). */
  emitEvents?: EventSource[];
  /** The `reports` key; unset: the `--reports` flag decides. */
  reports?: ReportsSetting;
  /** Which Secrets the CA trust rules may read by name (secret-reads.ts); unset: the flag decides. Read at start only. */
  readCaSecrets?: SecretReadScope;
  /** The `federation` key; unset: the flags decide. Read at start only. */
  federation?: FederationSettings;
}

/** Federation discovery settings (src/state/federation/federation-discovery.ts). */
export interface FederationSettings {
  /** Watch each remote cluster's IPPools and Nodes through its RemoteClusterConfiguration's access. */
  discovery: boolean;
  /** The only namespace clusterAccessSecrets are read from; default calico-system. */
  secretNamespace?: string;
  /** Most IPPools, and most Nodes, a remote cluster may have to be indexed; default 20,000. */
  maxRemoteObjects?: number;
}

/** A configuration file that cannot be used; the message names the file and the key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const Schema = z.strictObject({
  rules: z.record(z.string(), z.enum(RULE_MODES as [string, ...string[]])).optional(),
  operatorNamespace: z.string().min(1).optional(),
  excludedNamespaces: z.array(z.string().min(1)).optional(),
  unsynced: z.enum(['deny', 'warn']).optional(),
  ratcheting: z.boolean().optional(),
  emitEvents: z.array(z.enum(EVENT_SOURCES)).optional(),
  reports: z.enum(REPORTS_SETTINGS).optional(),
  readCaSecrets: z.union([z.boolean(), z.array(z.string().min(1))]).optional(),
  federation: z
    .strictObject({
      discovery: z.boolean(),
      secretNamespace: z.string().min(1).optional(),
      maxRemoteObjects: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
});

/** Parses configuration text; `knownRules` are the rule ids a `rules` key may name. */
export function parseConfig(text: string, source: string, knownRules: readonly string[]): Config {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 50 }) ?? {};
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message.split('\n', 1)[0]}`);
  }
  const r = Schema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    // An unknown key is named with the map it is in (`federation.secretNamespaces`), not just the map.
    const key =
      issue.code === 'unrecognized_keys'
        ? (issue as { keys: string[] }).keys.map((k) => (path.length > 0 ? fieldPath([...path, k]) : k)).join(', ')
        : fieldPath(path) || '(top level)';
    const what = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message.replace(/^Invalid input:\s*/, '');
    throw new ConfigError(`${source}: ${key}: ${what}`);
  }
  for (const rule of Object.keys(r.data.rules ?? {})) {
    if (!knownRules.includes(rule)) throw new ConfigError(`${source}: rules.${rule}: unknown rule; known rules: ${knownRules.join(', ')}`);
  }
  const policy: Policy = {
    modes: (r.data.rules ?? {}) as Policy['modes'],
    excludedNamespaces: r.data.excludedNamespaces ?? DEFAULT_POLICY.excludedNamespaces,
    unsynced: r.data.unsynced ?? DEFAULT_POLICY.unsynced,
    ratcheting: r.data.ratcheting ?? DEFAULT_POLICY.ratcheting,
    generation: createHash('sha256').update(text).digest('hex').slice(0, 12),
  };
  return {
    policy,
    ...(r.data.operatorNamespace ? { operatorNamespace: r.data.operatorNamespace } : {}),
    ...(r.data.emitEvents ? { emitEvents: [...new Set(r.data.emitEvents)] } : {}),
    ...(r.data.reports ? { reports: r.data.reports } : {}),
    ...(r.data.readCaSecrets !== undefined ? { readCaSecrets: secretReadScope(r.data.readCaSecrets) } : {}),
    ...(r.data.federation ? { federation: r.data.federation } : {}),
  };
}

/** Reads and parses a configuration file; `text` is what was parsed, for the watcher to compare changes against. */
export function readConfigFile(file: string, knownRules: readonly string[]): { config: Config; text: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf-8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { config: parseConfig(text, file, knownRules), text };
}

export function loadConfig(file: string, knownRules: readonly string[]): Config {
  return readConfigFile(file, knownRules).config;
}

/** The policy, operator namespace and Secret read scope a command runs with. */
export interface Settings {
  policy: Policy;
  operatorNamespace: string;
  readCaSecrets: SecretReadScope;
}

/**
 * What `serve`, `validate` and `audit` all judge by, so their answers agree
 * by construction: the configuration file's policy and operator namespace
 * when there is a file (its `unsynced` and `ratcheting` win over the flags),
 * else the flags' (`unsynced` and `ratcheting` defaulting as DEFAULT_POLICY).
 */
export function settingsOf(
  config: Config | undefined,
  flags: { operatorNamespace: string; unsynced?: Policy['unsynced']; ratcheting?: boolean; readCaSecrets?: boolean | string },
): Settings {
  const policy: Policy = config?.policy ?? {
    ...DEFAULT_POLICY,
    unsynced: flags.unsynced ?? DEFAULT_POLICY.unsynced,
    ratcheting: flags.ratcheting ?? DEFAULT_POLICY.ratcheting,
  };
  return {
    policy,
    operatorNamespace: config?.operatorNamespace ?? flags.operatorNamespace,
    readCaSecrets: config?.readCaSecrets ?? secretReadScope(flags.readCaSecrets),
  };
}
