/**
 * In-memory IPPool and RemoteClusterConfiguration store with a CIDR index.
 *
 * The index (a prefix trie per IP family, src/net/cidr/cidr-trie.ts) holds
 * every pool CIDR and every remote cluster range (src/state/remote-cluster-ranges.ts):
 * those declared in a RemoteClusterConfiguration's
 * `remote-cluster-guard.io/remote-cidrs` annotation, and any a discovery
 * component sets with `setRemoteRanges`; it is updated on each
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
import {
  FEDERATION_POOL_LABEL,
  loadBalancerOnly,
  REMOTE_CIDRS_ANNOTATION,
  type IPPool,
  type RemoteClusterConfiguration,
} from '../../kube/calico.js';
import type { CalicoState, CidrEntry, CidrRole } from '../calico-state.js';
import type {
  DiscoveredRange,
  RemoteClusterRangeSink,
  RemoteRange,
  RemoteRangeOrigin,
  RemoteRangeSource,
} from '../remote-cluster-ranges.js';
import { parseCidr, parseCidrList, type Cidr, type IpFamily } from '../../net/cidr/cidr.js';
import { CidrTrie } from '../../net/cidr/cidr-trie.js';

/** What the trie holds for each indexed CIDR. */
type Indexed =
  | { kind: 'pool'; name: string; cidr: Cidr; written: string; disabled: boolean; labelled: boolean; loadBalancerOnly: boolean }
  | { kind: 'remote'; name: string; cidr: Cidr; written: string; range: RemoteRange };

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

/** The index entries of one remote cluster: declared ones, and discovered ones per remote object (`Kind/name`). */
interface RemoteEntries {
  declared: Indexed[];
  discovered: Map<string, Indexed[]>;
}

const objectKey = (o: RemoteRangeOrigin): string => `${o.kind}/${o.name}`;

export class CalicoStore implements CalicoState, RemoteClusterRangeSink {
  private readonly pools = new Map<string, IPPool>();
  private readonly rccs = new Map<string, RemoteClusterConfiguration>();
  private readonly index = new CidrTrie<Indexed>();
  private readonly poolEntries = new Map<string, Indexed>();
  /** Remote range entries per remote cluster. */
  private readonly remoteEntries = new Map<string, RemoteEntries>();
  /** The remote clusters under discovery, with the time they last synced (undefined: never). */
  private readonly discovering = new Map<string, number | undefined>();
  /** Those of them not current, with why. */
  private readonly unsynced = new Map<string, string>();
  /** `allRemoteRanges`, made again after a change. */
  private remoteList: RemoteRange[] | undefined;
  /** Pools counted by `poolUsesVXLAN`, kept so `anyIPPoolWithVXLAN` is O(1). */
  private vxlanPools = 0;
  /** Names of the pools with natOutgoing on, per family of their CIDR. */
  private readonly natPools: Record<IpFamily, Set<string>> = { 4: new Set(), 6: new Set() };

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
    if (pool.spec?.natOutgoing === true) this.natPools[parsed.cidr.family].add(name);
    const entry: Indexed = {
      kind: 'pool',
      name,
      cidr: parsed.cidr,
      written,
      disabled: pool.spec?.disabled === true,
      labelled: Object.hasOwn(pool.metadata.labels ?? {}, FEDERATION_POOL_LABEL),
      loadBalancerOnly: loadBalancerOnly(pool),
    };
    this.index.insert(parsed.cidr, entry);
    this.poolEntries.set(name, entry);
  }

  deleteIPPool(name: string): void {
    const old = this.pools.get(name);
    if (!old) return;
    this.pools.delete(name);
    if (poolUsesVXLAN(old)) this.vxlanPools--;
    this.natPools[4].delete(name);
    this.natPools[6].delete(name);
    const entry = this.poolEntries.get(name);
    if (entry) {
      this.index.remove(entry.cidr, entry);
      this.poolEntries.delete(name);
    }
  }

  upsertRemoteClusterConfiguration(rcc: RemoteClusterConfiguration): void {
    const name = rcc.metadata.name ?? '';
    this.rccs.set(name, rcc);
    const origin: RemoteRangeOrigin = { kind: 'RemoteClusterConfiguration', name };
    const declared = declaredRemoteCidrs(rcc);
    this.setRemoteRanges(
      name,
      'declared',
      declared.map(({ cidr }) => ({ cidr, object: origin })),
      declared.map(({ written }) => written),
    );
  }

  deleteRemoteClusterConfiguration(name: string): void {
    if (!this.rccs.delete(name)) return;
    this.setRemoteRanges(name, 'declared', []);
  }

  /** `written`: how each range was written, for messages (its canonical form when not given). */
  setRemoteRanges(
    cluster: string,
    source: RemoteRangeSource,
    ranges: readonly { cidr: Cidr; object: RemoteRangeOrigin; nodeAddress?: boolean }[],
    written: readonly string[] = [],
  ): void {
    const entries = this.remoteEntries.get(cluster) ?? { declared: [], discovered: new Map<string, Indexed[]>() };
    if (source === 'declared') {
      for (const e of entries.declared) this.index.remove(e.cidr, e);
      const seen = new Set<string>();
      entries.declared = ranges.flatMap(({ cidr, object }, i): Indexed[] => {
        if (seen.has(cidr.canonical)) return [];
        seen.add(cidr.canonical);
        return [{ kind: 'remote', name: cluster, cidr, written: written[i] ?? cidr.canonical, range: { cluster, cidr, source, object } }];
      });
      for (const e of entries.declared) this.index.insert(e.cidr, e);
      this.keep(cluster, entries);
      return;
    }
    const byObject = new Map<string, { object: RemoteRangeOrigin; ranges: DiscoveredRange[] }>();
    for (const { cidr, object, nodeAddress } of ranges) {
      const key = objectKey(object);
      const slot = byObject.get(key) ?? { object, ranges: [] };
      slot.ranges.push(nodeAddress ? { cidr, nodeAddress } : { cidr });
      byObject.set(key, slot);
    }
    for (const key of [...entries.discovered.keys()]) if (!byObject.has(key)) this.setObjectEntries(cluster, entries, key, undefined, []);
    for (const [key, { object, ranges: list }] of byObject) this.setObjectEntries(cluster, entries, key, object, list);
    this.keep(cluster, entries);
  }

  setRemoteObjectRanges(cluster: string, object: RemoteRangeOrigin, ranges: readonly DiscoveredRange[]): void {
    const entries = this.remoteEntries.get(cluster) ?? { declared: [], discovered: new Map<string, Indexed[]>() };
    this.setObjectEntries(cluster, entries, objectKey(object), object, ranges);
    this.keep(cluster, entries);
  }

  remoteObjectsOf(cluster: string): RemoteRangeOrigin[] {
    const entries = this.remoteEntries.get(cluster);
    return entries ? [...entries.discovered.values()].map((list) => rangeOf(list[0]!).object) : [];
  }

  setRemoteSync(cluster: string, status: { synced: true } | { synced: false; reason: string } | undefined): void {
    if (status === undefined) {
      this.discovering.delete(cluster);
      this.unsynced.delete(cluster);
    } else if (status.synced) {
      this.discovering.set(cluster, Date.now());
      this.unsynced.delete(cluster);
    } else {
      if (!this.discovering.has(cluster)) this.discovering.set(cluster, undefined);
      this.unsynced.set(cluster, status.reason);
    }
  }

  unsyncedRemotes(): ReadonlyMap<string, string> {
    return this.unsynced;
  }

  discoveredRemotes(): ReadonlyMap<string, number | undefined> {
    return this.discovering;
  }

  /** Replaces the index entries of one remote object; each block once per object. */
  private setObjectEntries(
    cluster: string,
    entries: RemoteEntries,
    key: string,
    object: RemoteRangeOrigin | undefined,
    ranges: readonly DiscoveredRange[],
  ): void {
    for (const e of entries.discovered.get(key) ?? []) this.index.remove(e.cidr, e);
    if (!object || ranges.length === 0) {
      entries.discovered.delete(key);
      return;
    }
    const seen = new Set<string>();
    const list = ranges.flatMap(({ cidr, nodeAddress }): Indexed[] => {
      if (seen.has(cidr.canonical)) return [];
      seen.add(cidr.canonical);
      const range: RemoteRange = { cluster, cidr, source: 'discovered', object, ...(nodeAddress ? { nodeAddress } : {}) };
      return [{ kind: 'remote', name: cluster, cidr, written: cidr.canonical, range }];
    });
    for (const e of list) this.index.insert(e.cidr, e);
    entries.discovered.set(key, list);
  }

  /** Keeps (or drops, when empty) a cluster's entries, and forgets the list `allRemoteRanges` made. */
  private keep(cluster: string, entries: RemoteEntries): void {
    if (entries.declared.length === 0 && entries.discovered.size === 0) this.remoteEntries.delete(cluster);
    else this.remoteEntries.set(cluster, entries);
    this.remoteList = undefined;
  }

  remoteRangesOf(cluster: string): readonly RemoteRange[] {
    const entries = this.remoteEntries.get(cluster);
    if (!entries) return [];
    const out = entries.declared.map(rangeOf);
    for (const list of entries.discovered.values()) for (const e of list) out.push(rangeOf(e));
    return out;
  }

  allRemoteRanges(): readonly RemoteRange[] {
    this.remoteList ??= [...this.remoteEntries.keys()].sort().flatMap((c) => this.remoteRangesOf(c));
    return this.remoteList;
  }

  natOutgoingPools(family: IpFamily): ReadonlySet<string> {
    return this.natPools[family];
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
const rangeOf = (e: Indexed): RemoteRange => (e as Extract<Indexed, { kind: 'remote' }>).range;

/** `withinRemote`: a declared remote CIDR contains (or equals) the entry's block. */
function toEntry(e: Indexed, withinRemote: boolean): CidrEntry {
  return {
    cidr: e.written,
    canonical: e.cidr.canonical,
    family: e.cidr.family,
    prefixLength: e.cidr.prefixLength,
    block: e.cidr,
    role: roleOf(e, withinRemote),
    ownerKind: e.kind === 'pool' ? 'IPPool' : 'RemoteClusterConfiguration',
    ownerName: e.name,
    ...(e.kind === 'pool' ? { loadBalancerOnly: e.loadBalancerOnly } : { remote: e.range }),
  };
}

/** The role now: a disabled pool is a federation pool when labelled or within a declared remote CIDR. */
function roleOf(e: Indexed, withinRemote: boolean): CidrRole {
  if (e.kind === 'remote') return 'remote-cidr';
  if (!e.disabled) return 'enabled-pool';
  return e.labelled || withinRemote ? 'federation-pool' : 'disabled-pool';
}
