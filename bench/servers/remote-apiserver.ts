/**
 * Stand-ins for remote clusters' API servers, for the federation discovery
 * benchmarks (bench/federation-memory.ts, bench/federation-indexing.ts): one
 * plain-HTTP server per remote cluster on 127.0.0.1, in this process, so that
 * what they hold and send is never counted in the webhook's memory.
 *
 * Each serves what a remote cluster's kube-apiserver serves to discovery
 * (src/state/federation/remote-cluster-watcher.ts):
 * - `GET /apis/crd.projectcalico.org/v1/ippools?limit=N[&continue=T]`: pages
 *   of `crd.projectcalico.org/v1` IPPools as Calico writes them (distinct
 *   IPv4 /26 blocks of 10.0.0.0/9), with `metadata.continue` until the last;
 * - `GET /api/v1/nodes?limit=N[&continue=T]`: pages of Nodes as the kubelet
 *   and the node controller write them (labels, annotations, managedFields,
 *   conditions, images; about 4 KiB of JSON each), each with one podCIDR
 *   (an IPv4 /24 of 10.128.0.0/9) and one InternalIP (198.18.0.0/15);
 * - `?watch=true` on either: 200 and an open chunked stream on which nothing
 *   is sent (a quiet cluster), held until the client ends it;
 * - `GET /version`: the version document (the watcher's liveness probe).
 * Pages are generated on demand from the index (the continue token), so the
 * stand-in holds no list. Objects are numbered across remotes, so no two
 * remotes share a range.
 *
 *   node bench/.build/bench/servers/remote-apiserver.js <remotes> <pools per remote> <nodes per remote>
 *
 * Prints one JSON line `{"ports":[...]}` on stdout once every server listens.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const [remotesText, poolsText, nodesText] = process.argv.slice(2);
const remotes = Number(remotesText);
const pools = Number(poolsText);
const nodes = Number(nodesText);
if (!(remotes > 0) || !(pools >= 0) || !(nodes >= 0)) {
  console.error('usage: remote-apiserver.ts <remotes> <pools per remote> <nodes per remote>');
  process.exit(2);
}

const RESOURCE_VERSION = '1000000';
const CREATED = '2026-11-02T09:14:27Z';

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const uid = (kind: number, i: number): string => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/** Pool `i` of all remotes together: 10.0.0.0 + 64 i, a /26 (up to 131,072 pools before 10.128.0.0). */
function pool(i: number): object {
  return {
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'IPPool',
    metadata: {
      name: `pool-${i}`,
      uid: uid(1, i),
      resourceVersion: String(100000 + i),
      generation: 1,
      creationTimestamp: CREATED,
      annotations: { 'projectcalico.org/metadata': `{"uid":"${uid(2, i)}","creationTimestamp":"${CREATED}"}` },
    },
    spec: {
      allowedUses: ['Workload', 'Tunnel'],
      blockSize: 28,
      cidr: `${ipv4((10 << 24) + i * 64)}/26`,
      ipipMode: 'Never',
      natOutgoing: true,
      nodeSelector: 'all()',
      vxlanMode: 'CrossSubnet',
    },
  };
}

const IMAGES = [
  ['docker.io/calico/node@sha256:1f1c…', 'docker.io/calico/node:v3.30.2', 410_256_114],
  ['docker.io/calico/cni@sha256:8a2d…', 'docker.io/calico/cni:v3.30.2', 94_581_441],
  ['registry.k8s.io/kube-proxy@sha256:5c0e…', 'registry.k8s.io/kube-proxy:v1.35.4', 31_009_318],
  ['docker.io/elastic/elasticsearch@sha256:77ab…', 'docker.elastic.co/elasticsearch/elasticsearch:8.19.1', 732_451_876],
  ['registry.k8s.io/pause@sha256:9001…', 'registry.k8s.io/pause:3.10', 320_368],
].map(([digest, tag, size]) => ({ names: [digest, tag], sizeBytes: size }));

/** Node `i` of all remotes together: podCIDR 10.128.0.0 + 256 i (/24), InternalIP 198.18.0.0 + i. */
function node(i: number): object {
  const name = `node-${i}.remote.example`;
  const podCIDR = `${ipv4((10 << 24) + (128 << 16) + i * 256)}/24`;
  const ip = ipv4((198 << 24) + (18 << 16) + i);
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: '2026-12-02T18:00:00Z',
    lastTransitionTime: CREATED,
    reason,
    message,
  });
  return {
    metadata: {
      name,
      uid: uid(3, i),
      resourceVersion: String(200000 + i),
      creationTimestamp: CREATED,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'm6i.2xlarge',
        'topology.kubernetes.io/region': 'eu-west-1',
        'topology.kubernetes.io/zone': `eu-west-1${'abc'[i % 3]}`,
        rack: `r${i % 50}`,
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'projectcalico.org/IPv4Address': `${ip}/15`,
        'projectcalico.org/IPv4VXLANTunnelAddr': ipv4((10 << 24) + (128 << 16) + i * 256 + 1),
        'csi.volume.kubernetes.io/nodeid': `{"ebs.csi.aws.com":"i-0${i.toString(16).padStart(16, '0')}"}`,
      },
      managedFields: [
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-12-02T18:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:status': {
              'f:conditions': {
                'k:{"type":"DiskPressure"}': { 'f:lastHeartbeatTime': {} },
                'k:{"type":"Ready"}': { 'f:lastHeartbeatTime': {} },
              },
              'f:images': {},
              'f:nodeInfo': { 'f:bootID': {}, 'f:kernelVersion': {} },
            },
          },
          subresource: 'status',
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: CREATED,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { 'f:node.alpha.kubernetes.io/ttl': {} } },
            'f:spec': { 'f:podCIDR': {}, 'f:podCIDRs': {} },
          },
        },
      ],
    },
    spec: { podCIDR, podCIDRs: [podCIDR], providerID: `aws:///eu-west-1a/i-0${i.toString(16).padStart(16, '0')}` },
    status: {
      capacity: { cpu: '8', 'ephemeral-storage': '104845292Ki', memory: '32386544Ki', pods: '110' },
      allocatable: { cpu: '7910m', 'ephemeral-storage': '95551679124', memory: '31371760Ki', pods: '110' },
      conditions: [
        condition('NetworkUnavailable', 'False', 'CalicoIsUp', 'Calico is running on this node'),
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: uid(4, i).replace(/-/g, ''),
        systemUUID: uid(5, i),
        bootID: uid(6, i),
        kernelVersion: '6.1.119-129.201.amzn2023.x86_64',
        osImage: 'Amazon Linux 2023.6.20241212',
        containerRuntimeVersion: 'containerd://1.7.25',
        kubeletVersion: 'v1.35.4',
        kubeProxyVersion: 'v1.35.4',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      images: IMAGES,
    },
  };
}

function page(res: http.ServerResponse, url: URL, count: number, offset: number, make: (i: number) => object, api: string): void {
  const limit = Math.max(1, Number(url.searchParams.get('limit') ?? count) || count);
  const from = Number(url.searchParams.get('continue') ?? 0);
  const to = Math.min(count, from + limit);
  const items: object[] = [];
  for (let i = from; i < to; i++) items.push(make(offset + i));
  const body = JSON.stringify({
    apiVersion: api,
    kind: api === 'v1' ? 'NodeList' : 'IPPoolList',
    metadata: { resourceVersion: RESOURCE_VERSION, ...(to < count ? { continue: String(to), remainingItemCount: count - to } : {}) },
    items,
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function serve(r: number): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"major":"1","minor":"35","gitVersion":"v1.35.4"}');
      return;
    }
    const kind = url.pathname === '/apis/crd.projectcalico.org/v1/ippools' ? 'pool' : url.pathname === '/api/v1/nodes' ? 'node' : undefined;
    if (!kind) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}');
      return;
    }
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      return; // held open, quiet, until the client ends it
    }
    if (kind === 'pool') page(res, url, pools, r * pools, pool, 'crd.projectcalico.org/v1');
    else page(res, url, nodes, r * nodes, node, 'v1');
  });
}

const servers = Array.from({ length: remotes }, (_, r) => serve(r));
await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
console.log(JSON.stringify({ ports: servers.map((s) => (s.address() as AddressInfo).port) }));
process.on('SIGTERM', () => process.exit(0));
