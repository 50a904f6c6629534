/**
 * In-memory IPPool and RemoteClusterConfiguration store with a CIDR index.
 *
 * The index (a prefix trie per IP family, src/net/cidr/cidr-trie.ts) holds
 * every pool CIDR and every remote CIDR declared in a RemoteClusterConfiguration's
 * `remote-cluster-guard.io/remote-cidrs` annotation; it is updated on each
 * upsert and delete, so an overlap query costs one trie walk however many
 * pools there are. Objects whose CIDRs do not parse are kept but not indexed
 * (the rules reject such objects at admission; the state must still load them).
 *
 * A pool's role (enabled / federation / disabled) is computed when queried:
 * a disabled pool within a remote CIDR is a federation pool, and that depends
 * on RemoteClusterConfigurations that may come after the pool. "Within a
 * remote CIDR" is read off the same trie walk (`overlappingMarked`), not
 * looked up again per pool.
 */
import { FEDERATION_POOL_LABEL, REMOTE_CIDRS_ANNOTATION, type IPPool, type RemoteClusterConfiguration } from '../../kube/calico.js';
import type { CalicoState, CidrEntry, CidrRole } from '../calico-state.js';
import { parseCidr, parseCidrList, type Cidr } from '../../net/cidr/cidr.js';
import { CidrTrie } from '../../net/cidr/cidr-trie.js';

/** What the trie holds for each indexed CIDR. */
type Indexed =
  | { kind: 'pool'; name: string; cidr: Cidr; written: string; disabled: boolean; labelled: boolean }
  | { kind: 'remote'; name: string; cidr: Cidr; written: string };

/** True when the pool counts for Calico's overlay default: `vxlanMode` other than `Never`, unset included. */
export function poolUsesVXLAN(pool: IPPool): boolean {
  return (pool.spec?.vxlanMode ?? '') !== 'Never';
}

/**
 * The remote CIDRs a RemoteClusterConfiguration declares, each block once
 * (entries that do not parse are left out): a list repeating a block, however
 * written, must not multiply the index entries every overlap query returns.
 */
export function declaredRemoteCidrs(rcc: RemoteClusterConfiguration): { written: string; cidr: Cidr }[] {
  const text = rcc.metadata.annotations?.[REMOTE_CIDRS_ANNOTATION];
  if (text === undefined) return [];
  const seen = new Set<string>();
  return parseCidrList(text).cidrs.filter(({ cidr }) => !seen.has(cidr.canonical) && seen.add(cidr.canonical));
}

export class CalicoStore implements CalicoState {
  private readonly pools = new Map<string, IPPool>();
  private readonly rccs = new Map<string, RemoteClusterConfiguration>();
  private readonly index = new CidrTrie<Indexed>();
  private readonly poolEntries = new Map<string, Indexed>();
  private readonly rccEntries = new Map<string, Indexed[]>();
  /** Pools counted by `poolUsesVXLAN`, kept so `anyIPPoolWithVXLAN` is O(1). */
  private vxlanPools = 0;

  get counts(): { IPPool: number; RemoteClusterConfiguration: number } {
    return { IPPool: this.pools.size, RemoteClusterConfiguration: this.rccs.size };
  }

  upsertIPPool(pool: IPPool): void {
    const name = pool.metadata.name ?? '';
    this.deleteIPPool(name);
    this.pools.set(name, pool);
    if (poolUsesVXLAN(pool)) this.vxlanPools++;
    const written = pool.spec?.cidr;
    if (written === undefined) return;
    const parsed = parseCidr(written, { allowBareAddress: true });
    if (!parsed.ok) return;
    const entry: Indexed = {
      kind: 'pool',
      name,
      cidr: parsed.cidr,
      written,
      disabled: pool.spec?.disabled === true,
      labelled: Object.hasOwn(pool.metadata.labels ?? {}, FEDERATION_POOL_LABEL),
    };
    this.index.insert(parsed.cidr, entry);
    this.poolEntries.set(name, entry);
  }

  deleteIPPool(name: string): void {
    const old = this.pools.get(name);
    if (!old) return;
    this.pools.delete(name);
    if (poolUsesVXLAN(old)) this.vxlanPools--;
    const entry = this.poolEntries.get(name);
    if (entry) {
      this.index.remove(entry.cidr, entry);
      this.poolEntries.delete(name);
    }
  }

  upsertRemoteClusterConfiguration(rcc: RemoteClusterConfiguration): void {
    const name = rcc.metadata.name ?? '';
    this.deleteRemoteClusterConfiguration(name);
    this.rccs.set(name, rcc);
    const entries: Indexed[] = declaredRemoteCidrs(rcc).map(({ written, cidr }) => ({ kind: 'remote', name, cidr, written }));
    for (const e of entries) this.index.insert(e.cidr, e);
    if (entries.length > 0) this.rccEntries.set(name, entries);
  }

  deleteRemoteClusterConfiguration(name: string): void {
    if (!this.rccs.delete(name)) return;
    for (const e of this.rccEntries.get(name) ?? []) this.index.remove(e.cidr, e);
    this.rccEntries.delete(name);
  }

  /** Every IPPool held (the audit walks them). */
  listIPPools(): IterableIterator<IPPool> {
    return this.pools.values();
  }
  /** Every RemoteClusterConfiguration held. */
  listRemoteClusterConfigurations(): IterableIterator<RemoteClusterConfiguration> {
    return this.rccs.values();
  }

  getIPPool(name: string): IPPool | undefined {
    return this.pools.get(name);
  }
  getRemoteClusterConfiguration(name: string): RemoteClusterConfiguration | undefined {
    return this.rccs.get(name);
  }
  anyIPPoolWithVXLAN(): boolean {
    return this.vxlanPools > 0;
  }

  overlappingCidrs(cidr: string): CidrEntry[] {
    const parsed = parseCidr(cidr, { allowBareAddress: true });
    if (!parsed.ok) return [];
    return this.index.overlappingMarked(parsed.cidr, isRemote, toEntry);
  }
}

const isRemote = (e: Indexed): boolean => e.kind === 'remote';

/** `withinRemote`: a declared remote CIDR contains (or equals) the entry's block. */
function toEntry(e: Indexed, withinRemote: boolean): CidrEntry {
  return {
    cidr: e.written,
    canonical: e.cidr.canonical,
    family: e.cidr.family,
    prefixLength: e.cidr.prefixLength,
    role: roleOf(e, withinRemote),
    ownerKind: e.kind === 'pool' ? 'IPPool' : 'RemoteClusterConfiguration',
    ownerName: e.name,
  };
}

/** The role now: a disabled pool is a federation pool when labelled or within a declared remote CIDR. */
function roleOf(e: Indexed, withinRemote: boolean): CidrRole {
  if (e.kind === 'remote') return 'remote-cidr';
  if (!e.disabled) return 'enabled-pool';
  return e.labelled || withinRemote ? 'federation-pool' : 'disabled-pool';
}
