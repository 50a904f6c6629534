/**
 * On-demand ConfigMaps for the transport CA rule. An Elasticsearch may name
 * any ConfigMap in its namespace as `transport.tls.certificateAuthorities`;
 * watching every ConfigMap in the cluster would cost memory and RBAC breadth,
 * so a named one that no watch delivers is fetched when an admission request
 * needs it (bounded by a 2 s timeout) and kept for 30 s. The rules still read
 * only memory: the fetch happens before evaluation.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { withDeadline } from '../../common/deadline.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import type { Logger } from '../../log/logger.js';
import type { MemoryClusterState } from '../memory-state.js';
import { asJson } from './sources.js';

export class ConfigMapFetcher {
  /** key → time (ms) the ConfigMap (or its absence) was last read from the API server */
  private readonly fetchedAt = new Map<string, number>();
  /** key → the fetch under way */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly state: MemoryClusterState,
    private readonly log: Logger,
    private readonly ttlMs = 30_000,
    private readonly timeoutMs = 2_000,
  ) {}

  /**
   * Makes sure the state's copy of ConfigMap `key` is at most `ttlMs` old:
   * undefined when it already is (or a watch keeps it), else a promise of the
   * fetch, shared by the requests that ask meanwhile. Never rejects; errors
   * leave the state as it was.
   */
  ensure(key: ObjectKey, watched: (key: ObjectKey) => boolean): Promise<void> | undefined {
    if (watched(key)) return undefined;
    const id = formatKey(key);
    const at = this.fetchedAt.get(id);
    if (at !== undefined && Date.now() - at < this.ttlMs) return undefined;
    let fetching = this.inFlight.get(id);
    if (!fetching) {
      fetching = this.fetch(key, id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, fetching);
    }
    return fetching;
  }

  private async fetch(key: ObjectKey, id: string): Promise<void> {
    try {
      const cm = await withDeadline(
        this.core.readNamespacedConfigMap({ name: key.name, namespace: key.namespace }),
        this.timeoutMs,
        `read ConfigMap ${id}`,
      );
      this.state.apply(asJson<unknown>({ ...cm, apiVersion: 'v1', kind: 'ConfigMap' }), key.namespace);
      this.fetchedAt.set(id, Date.now());
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) {
        this.state.remove('ConfigMap', key);
        this.fetchedAt.set(id, Date.now());
      } else {
        this.log.warn({ configMap: id, err: (err as Error).message }, 'could not fetch ConfigMap');
      }
    }
  }
}
