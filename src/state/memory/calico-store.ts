/**
 * In-memory IPPool and RemoteClusterConfiguration store.
 * PLACEHOLDER: the CIDR index is built in the Calico issue.
 */
import type { IPPool, RemoteClusterConfiguration } from '../../kube/calico.js';
import type { CalicoState, CidrEntry } from '../calico-state.js';

export class CalicoStore implements CalicoState {
  private readonly pools = new Map<string, IPPool>();
  private readonly rccs = new Map<string, RemoteClusterConfiguration>();

  get counts(): { IPPool: number; RemoteClusterConfiguration: number } {
    return { IPPool: this.pools.size, RemoteClusterConfiguration: this.rccs.size };
  }

  upsertIPPool(pool: IPPool): void {
    this.pools.set(pool.metadata.name ?? '', pool);
  }
  deleteIPPool(name: string): void {
    this.pools.delete(name);
  }
  upsertRemoteClusterConfiguration(rcc: RemoteClusterConfiguration): void {
    this.rccs.set(rcc.metadata.name ?? '', rcc);
  }
  deleteRemoteClusterConfiguration(name: string): void {
    this.rccs.delete(name);
  }

  getIPPool(name: string): IPPool | undefined {
    return this.pools.get(name);
  }
  getRemoteClusterConfiguration(name: string): RemoteClusterConfiguration | undefined {
    return this.rccs.get(name);
  }
  anyIPPoolWithVXLAN(): boolean {
    for (const p of this.pools.values()) if ((p.spec?.vxlanMode ?? '') !== 'Never') return true;
    return false;
  }
  overlappingCidrs(_cidr: string): CidrEntry[] {
    return [];
  }
}
