/**
 * On-demand reads by name, for objects an Elasticsearch names that no watch
 * delivers. An Elasticsearch may name any ConfigMap of its namespace as
 * `transport.tls.certificateAuthorities` or mount any Secret or ConfigMap
 * with a CA file; watching every ConfigMap (let alone every Secret) of the
 * cluster would cost memory and RBAC breadth, so a named one is read (`get`)
 * when an admission request or an audit needs it (bounded by a 2 s timeout)
 * and kept for 30 s. The rules still read only memory: the fetch happens
 * before evaluation.
 *
 * Secrets are read only with the opt-in (`serve --read-ca-secrets`, config
 * file `readCaSecrets`), only in the namespaces it lists, and are reduced to
 * certificate summaries as they arrive (state/memory/ca-secrets.ts): no
 * Secret data is kept or logged.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { withDeadline } from '../../common/deadline.js';
import { mayReadSecret, type SecretReadScope } from '../../config/secret-reads.js';
import { Secret } from '../../kube/core.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import type { Logger } from '../../log/logger.js';
import type { MemoryClusterState } from '../memory-state.js';
import { asJson } from './sources.js';
import { apiStatus } from '../../kube/api-status.js';

/** What one kind of fetch does: read by name, and record the answer in the state. */
interface FetchTarget {
  /** `ConfigMap` or `Secret`, for logs. */
  kind: string;
  read(key: ObjectKey): Promise<unknown>;
  found(object: unknown, key: ObjectKey): void;
  absent(key: ObjectKey): void;
  /** A read that failed otherwise (403, timeout): `reason` is one line without content. */
  failed(key: ObjectKey, reason: string): void;
}

export class ByNameFetcher {
  /** key → time (ms) the object (or its absence) was last read from the API server */
  private readonly fetchedAt = new Map<string, number>();
  /** key → the fetch under way */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly target: FetchTarget,
    private readonly log: Logger,
    private readonly ttlMs = 30_000,
    private readonly timeoutMs = 2_000,
  ) {}

  /**
   * Makes sure the state's copy of object `key` is at most `ttlMs` old:
   * undefined when it already is (or a watch keeps it), else a promise of the
   * fetch, shared by the requests that ask meanwhile. Never rejects; errors
   * are recorded through `failed` and retried after `ttlMs`.
   */
  ensure(key: ObjectKey, watched: (key: ObjectKey) => boolean = () => false): Promise<void> | undefined {
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
      const object = await withDeadline(this.target.read(key), this.timeoutMs, `read ${this.target.kind} ${id}`);
      this.target.found(asJson<unknown>(object), key);
    } catch (err) {
      const code = apiStatus(err);
      if (code === 404) this.target.absent(key);
      else {
        const reason = code !== undefined ? `reading it failed with HTTP ${code}` : `reading it failed (${(err as Error).message})`;
        this.log.warn({ kind: this.target.kind, object: id, reason }, 'could not fetch object');
        this.target.failed(key, reason);
      }
    }
    this.fetchedAt.set(id, Date.now());
  }
}

/** ConfigMaps by name; a failed read leaves the state as it was. */
export function configMapFetcher(core: CoreV1Api, state: MemoryClusterState, log: Logger): ByNameFetcher {
  return new ByNameFetcher(
    {
      kind: 'ConfigMap',
      read: (key) => core.readNamespacedConfigMap({ name: key.name, namespace: key.namespace }),
      found: (cm, key) => state.apply({ ...(cm as object), apiVersion: 'v1', kind: 'ConfigMap' }, key.namespace),
      absent: (key) => state.remove('ConfigMap', key),
      failed: () => undefined,
    },
    log,
  );
}

/** The reason rules give when a Secret may not be read. */
export const SECRET_READS_DISABLED = 'Secret reads not enabled (serve --read-ca-secrets)';

/**
 * Secrets by name, within `scope`, reduced on arrival; a Secret outside the
 * scope is never asked for and answers `unknown` with the reason.
 */
export class SecretFetcher {
  private readonly fetcher: ByNameFetcher;

  constructor(
    core: CoreV1Api,
    private readonly state: MemoryClusterState,
    log: Logger,
    private readonly scope: SecretReadScope,
  ) {
    state.eck.unreadSecret = { status: 'unknown', reason: scope.enabled ? 'not read yet' : SECRET_READS_DISABLED };
    this.fetcher = new ByNameFetcher(
      {
        kind: 'Secret',
        read: (key) => core.readNamespacedSecret({ name: key.name, namespace: key.namespace }),
        found: (raw, key) => {
          const r = Secret.safeParse({ ...(raw as object), apiVersion: 'v1', kind: 'Secret' });
          if (r.success) state.eck.upsertCaSecret(r.data);
          else state.eck.markSecretMissing(key, 'the API server answered something that is not a Secret');
        },
        absent: (key) => state.eck.markSecretMissing(key),
        failed: (key, reason) => state.eck.markSecretMissing(key, reason),
      },
      log,
    );
  }

  /** As ByNameFetcher.ensure, for a Secret the scope allows; undefined (and `unknown` in the state) for one it does not. */
  ensure(key: ObjectKey): Promise<void> | undefined {
    if (mayReadSecret(this.scope, key.namespace)) return this.fetcher.ensure(key);
    if (this.scope.enabled)
      this.state.eck.markSecretMissing(key, `Secret reads not enabled in namespace ${key.namespace} (serve --read-ca-secrets)`);
    return undefined;
  }
}
