/**
 * Realistic objects in bulk for the scale benchmarks.
 *
 * - Elasticsearch `es-<i>` in namespaces `team-<i % 100>`, versions 8.18.2 or
 *   8.19.1 (mutually compatible), a running `status.version`, two
 *   `remoteClusters` each referencing other generated clusters (i+1 and i+7,
 *   wrapping). Even ones use the API-key model (remoteClusterServer enabled,
 *   apiKey access); odd ones the certificate model with a transport CA
 *   ConfigMap `es-<i>-remote-ca` (labelled `remote-cluster-guard.io/transport-ca-for`).
 * - IPPools with distinct, non-overlapping CIDRs: IPv4 /26 blocks of
 *   100.64.0.0/10 and IPv6 /64 blocks of fd42::/48, alternating; every tenth
 *   disabled; one RemoteClusterConfiguration per 100 pools declaring a remote
 *   /24 of 172.16.0.0/12 with its disabled, labelled federation pool.
 *
 * None of them overlaps or references the bench bodies (cluster-one,
 * cluster1-main-pool), so the work of a request is the same at every size:
 * only lookups that scan the state would grow.
 */
import { generateCA } from '../../src/certs/generate.js';

type Obj = Record<string, unknown>;

let caPem: string | undefined;
/** One real CA certificate (PEM) reused in every transport CA ConfigMap. */
function transportCa(): string {
  caPem ??= generateCA({ service: 'es-transport', namespace: 'bench', validityDays: 365 }).caCert;
  return caPem;
}

const VERSIONS = ['8.18.2', '8.19.1'];

export function esName(i: number): { namespace: string; name: string } {
  return { namespace: `team-${i % 100}`, name: `es-${i}` };
}

export function generateElasticsearches(n: number): { es: Obj[]; configMaps: Obj[] } {
  const es: Obj[] = [];
  const configMaps: Obj[] = [];
  for (let i = 0; i < n; i++) {
    const { namespace, name } = esName(i);
    const version = VERSIONS[i % VERSIONS.length]!;
    const apiKeyModel = i % 2 === 0;
    const refs = n > 1 ? [...new Set([(i + 1) % n, (i + 7) % n])].filter((j) => j !== i) : [];
    const remoteClusters = refs.map((j) => {
      const target = esName(j);
      return {
        name: target.name,
        elasticsearchRef: { name: target.name, namespace: target.namespace },
        ...(apiKeyModel ? { apiKey: { access: { search: { names: ['logs-*'] }, replication: { names: ['metrics-*'] } } } } : {}),
      };
    });
    const spec: Obj = {
      version,
      nodeSets: [{ name: 'default', count: 3, config: { 'node.store.allow_mmap': false } }],
      remoteClusters,
      ...(apiKeyModel ? { remoteClusterServer: { enabled: true } } : {}),
      ...(!apiKeyModel ? { transport: { tls: { certificateAuthorities: { configMapName: `${name}-remote-ca` } } } } : {}),
    };
    es.push({
      apiVersion: 'elasticsearch.k8s.elastic.co/v1',
      kind: 'Elasticsearch',
      metadata: { name, namespace, labels: { team: namespace } },
      spec,
      status: { version, phase: 'Ready', health: 'green' },
    });
    if (!apiKeyModel) {
      configMaps.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${name}-remote-ca`, namespace, labels: { 'remote-cluster-guard.io/transport-ca-for': name } },
        data: { 'ca.crt': transportCa() },
      });
    }
  }
  return { es, configMaps };
}

function ipv4Pool(i: number): string {
  const base = 0x64400000 + i * 64; // 100.64.0.0/10 in /26 steps
  return `${(base >>> 24) & 255}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/26`;
}

function ipv6Pool(i: number): string {
  return `fd42:0:0:${i.toString(16)}::/64`;
}

function remoteCidr(j: number): string {
  return `172.${16 + (j >> 8)}.${j & 255}.0/24`;
}

export function generateIPPools(n: number, apiVersion = 'projectcalico.org/v3'): { pools: Obj[]; rccs: Obj[] } {
  const pools: Obj[] = [];
  const rccs: Obj[] = [];
  const federations = Math.max(1, Math.floor(n / 100));
  for (let j = 0; j < federations; j++) {
    rccs.push({
      apiVersion,
      kind: 'RemoteClusterConfiguration',
      metadata: { name: `remote-${j}`, annotations: { 'remote-cluster-guard.io/remote-cidrs': remoteCidr(j) } },
      spec: {
        datastoreType: 'kubernetes',
        kubeconfig: `/etc/tigera-federation-remotecluster/kubeconfig-remote-${j}`,
        syncOptions: { overlayRoutingMode: 'Disabled' },
      },
    });
    pools.push({
      apiVersion,
      kind: 'IPPool',
      metadata: { name: `remote-${j}-pool`, labels: { 'remote-cluster-guard.io/remote-cluster': `remote-${j}` } },
      spec: { cidr: remoteCidr(j), disabled: true },
    });
  }
  for (let i = 0; pools.length < n; i++) {
    const v4 = i % 2 === 0;
    const k = i >> 1;
    pools.push({
      apiVersion,
      kind: 'IPPool',
      metadata: { name: `pool-${v4 ? 'v4' : 'v6'}-${k}` },
      spec: {
        cidr: v4 ? ipv4Pool(k) : ipv6Pool(k),
        blockSize: v4 ? 28 : 122,
        vxlanMode: v4 ? 'CrossSubnet' : 'Never',
        ipipMode: 'Never',
        natOutgoing: true,
        nodeSelector: `rack == "r${k % 50}"`,
        ...(i % 10 === 9 ? { disabled: true } : {}),
      },
    });
  }
  return { pools, rccs };
}
