/**
 * Helpers shared by the Calico rules: what makes an IPPool a federation pool,
 * how objects are named in messages, how many overlap findings are shown.
 */
import { fieldPath } from '../../common/field-path.js';
import type { Finding } from '../../engine/finding.js';
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION, type IPPool } from '../../kube/calico.js';
import type { CalicoState, CidrEntry } from '../../state/calico-state.js';
import { parseCidr, type Cidr } from '../../net/cidr/cidr.js';

/** At most this many overlap findings per field; the last one says how many more there were. */
export const MAX_OVERLAP_FINDINGS = 5;

/** The field path of the declared remote CIDRs annotation on a RemoteClusterConfiguration. */
export const REMOTE_CIDRS_FIELD = fieldPath(['metadata', 'annotations', REMOTE_CIDRS_ANNOTATION]);

/** The first `MAX_OVERLAP_FINDINGS` of `findings`, then `rest(n)` for the `n` left out; all of them when they fit. */
export function capFindings(findings: Finding[], rest: (more: number) => Finding): Finding[] {
  const more = findings.length - MAX_OVERLAP_FINDINGS;
  return more <= 0 ? findings : [...findings.slice(0, MAX_OVERLAP_FINDINGS), rest(more)];
}

/** The object's name for messages; "(generated name)" when the API server will generate it. */
export function displayName(name: string): string {
  return name || '(generated name)';
}

/** An IPPool's CIDR, parsed as Calico does (a bare address is a host prefix); undefined when absent or invalid. */
export function poolCidr(pool: IPPool): Cidr | undefined {
  const text = pool.spec?.cidr;
  if (!text) return undefined;
  const r = parseCidr(text, { allowBareAddress: true });
  return r.ok ? r.cidr : undefined;
}

/** Why a pool is a federation pool, if it is one. */
export interface FederationStatus {
  federation: boolean;
  /** Value of the `remote-cluster-guard.io/remote-cluster` label when present (the RCC name, maybe ""). */
  labelledFor?: string;
  /** Remote CIDRs declared on RemoteClusterConfigurations that contain the pool's CIDR. */
  withinRemote: CidrEntry[];
}

/**
 * A federation pool is labelled `remote-cluster-guard.io/remote-cluster=<RCC>`
 * or lies within (or equals) a remote CIDR declared on an RCC (Calico
 * Enterprise docs "Configuring remote clusters", section "Configuring IP Pool
 * resources for federated endpoint identity" (Tigera Secure EE
 * usage/federation/configure-rcc; current:
 * https://docs.tigera.io/calico-enterprise/latest/multicluster/federation/kubeconfig):
 * pools "covering the IP ranges of your remote clusters").
 */
export function federationStatus(pool: IPPool, cidr: Cidr | undefined, state: CalicoState): FederationStatus {
  return federationStatusFrom(pool, cidr, cidr ? state.overlappingCidrs(cidr.canonical) : []);
}

/**
 * `federationStatus` from the entries overlapping the pool's CIDR, for a rule
 * that needs those entries anyway (one state query instead of two).
 */
export function federationStatusFrom(pool: IPPool, cidr: Cidr | undefined, overlapping: readonly CidrEntry[]): FederationStatus {
  const labels = pool.metadata.labels;
  const labelledFor = labels && Object.hasOwn(labels, FEDERATION_POOL_LABEL) ? labels[FEDERATION_POOL_LABEL] : undefined;
  const withinRemote = cidr ? overlapping.filter((e) => e.role === 'remote-cidr' && e.prefixLength <= cidr.prefixLength) : [];
  return { federation: labelledFor !== undefined || withinRemote.length > 0, labelledFor, withinRemote };
}

/** Where a remote range comes from, for messages: `declared by RemoteClusterConfiguration c` or `discovered in remote cluster c (IPPool p)`. */
export function remoteOrigin(e: CidrEntry): string {
  const r = e.remote;
  if (r?.source === 'discovered') return `discovered in remote cluster ${e.ownerName} (${r.object.kind} ${r.object.name})`;
  return `declared by RemoteClusterConfiguration ${e.ownerName}`;
}

const collator = new Intl.Collator('en', { numeric: true });

/** Sorts entries for stable messages: by family, canonical CIDR (numeric-aware), then owner. */
export function sortEntries(entries: CidrEntry[]): CidrEntry[] {
  return [...entries].sort(
    (a, b) =>
      a.family - b.family ||
      collator.compare(a.canonical, b.canonical) ||
      collator.compare(a.ownerKind, b.ownerKind) ||
      collator.compare(a.ownerName, b.ownerName),
  );
}

/** `a, b and c` */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** A user-supplied (non-secret) value for a message: JSON-quoted, cut at 64 characters. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/**
 * The remote clusters among `unsynced` that a check of `cidrs` reads: those
 * with a discovered range overlapping one of them (its last known ranges),
 * and with `neverSynced`, those that have not delivered their ranges yet,
 * which could be anywhere. Sorted. One trie walk per CIDR.
 */
export function unsyncedRemotesOverlapping(
  state: CalicoState,
  cidrs: readonly (Cidr | undefined)[],
  unsynced: ReadonlyMap<string, string>,
  neverSynced: boolean,
): string[] {
  const hit = new Set<string>();
  if (neverSynced) for (const name of unsynced.keys()) if (state.discoveredRemotes().get(name) === undefined) hit.add(name);
  for (const cidr of cidrs) {
    if (!cidr) continue;
    for (const e of state.overlappingCidrs(cidr.canonical)) {
      if (e.remote?.source === 'discovered' && unsynced.has(e.ownerName)) hit.add(e.ownerName);
    }
  }
  return [...hit].sort();
}
