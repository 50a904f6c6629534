/**
 * The client processes of the chaos run (bench/chaos/run.ts forks this file
 * once per role), each told the port and CA on its command line, stopped by
 * an IPC `stop` message, answering with its figures:
 *
 * - `idle <n>`: opens n TLS connections (at most 200 handshakes at a time,
 *   resuming one TLS session) and sends nothing on them; says `opened` once
 *   all are established or refused; counts those, and those the server
 *   closed later.
 * - `bodies <n>`: n loops, each on its own keep-alive connection, POSTing a
 *   valid AdmissionReview of about 4 MiB; a 429 waits its Retry-After.
 * - `normal <rate>`: a small AdmissionReview `rate` times a second, open
 *   loop, over two keep-alive connections opened before the others start
 *   (as the kube-apiserver's are); latency from the scheduled send.
 *
 *   node --import tsx bench/chaos/clients.ts <role> <n> <port> <ca file>
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { admissionReview, clusterOne, ES_RESOURCE, federationPool, IPPOOL_RESOURCE } from '../lib/bodies.js';
import { post } from '../lib/load.js';

export interface IdleFigures {
  role: 'idle';
  attempted: number;
  established: number;
  /** Failed before the handshake completed (refused over the cap). */
  refused: number;
  /** Established, then closed by the server. */
  closedByServer: number;
  openAtStop: number;
}

export interface BodiesFigures {
  role: 'bodies';
  /** 200 answers that allowed or denied the review. */
  answered: number;
  shed: number;
  /** 429 answers that carried Retry-After and the Status' retryAfterSeconds. */
  shedWithRetryAfter: number;
  other: number;
  errors: number;
  bodyBytes: number;
}

export interface NormalFigures {
  role: 'normal';
  sent: number;
  ok: number;
  failed: number;
  firstErrors: string[];
  /** Latencies in ms, from the scheduled send time. */
  latenciesMs: number[];
  /** When each was sent (Date.now()), in the same order. */
  sentAt: number[];
}

export type ClientFigures = IdleFigures | BodiesFigures | NormalFigures;

const [role, countText, portText, caFile] = process.argv.slice(2);
const count = Number(countText);
const port = Number(portText);
const ca = readFileSync(caFile!, 'utf-8');
let stopping = false;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A valid Elasticsearch CREATE review of at most `bytes` bytes: the ECK
 * example with annotations of 2 KB strings (which the review carries twice,
 * in the object and in its last-applied-configuration).
 */
function bigReview(bytes: number): Buffer {
  const review = (n: number) => {
    const object = clusterOne();
    const annotations: Record<string, string> = {};
    for (let i = 0; i < n; i++) annotations[`chaos.example.com/a${i}`] = 'x'.repeat(2000);
    object.metadata = { ...object.metadata, annotations };
    return Buffer.from(admissionReview(object, ES_RESOURCE));
  };
  const base = review(0).length;
  const perEntry = review(1).length - base;
  return review(Math.floor((bytes - base) / perEntry));
}

async function idle(): Promise<IdleFigures> {
  const f: IdleFigures = { role: 'idle', attempted: 0, established: 0, refused: 0, closedByServer: 0, openAtStop: 0 };
  const open = new Set<tls.TLSSocket>();
  let handshaking = 0;
  // Resumed sessions, as a client flooding a server would: no certificate signature per connection.
  let session: Buffer | undefined;
  const one = () =>
    new Promise<void>((resolve) => {
      f.attempted++;
      handshaking++;
      let secure = false;
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ...(session ? { session } : {}) });
      s.once('session', (t: Buffer) => (session ??= t));
      s.on('secureConnect', () => {
        secure = true;
        f.established++;
        open.add(s);
        handshaking--;
        resolve();
      });
      s.on('error', () => {});
      s.on('close', () => {
        open.delete(s);
        if (secure) {
          if (!stopping) f.closedByServer++;
        } else {
          f.refused++;
          handshaking--;
          resolve();
        }
      });
    });
  const stopped = new Promise<IdleFigures>((resolve) => {
    stopHook = () => {
      f.openAtStop = open.size;
      for (const s of open) s.destroy();
      resolve(f);
    };
  });
  for (let i = 0; i < count && !stopping; i++) {
    while (handshaking >= 200) await sleep(5);
    void one();
  }
  while (handshaking > 0 && !stopping) await sleep(20);
  process.send?.({ opened: true });
  return stopped;
}

async function bodies(): Promise<BodiesFigures> {
  const body = bigReview(4 * 1024 * 1024 - 4096);
  const f: BodiesFigures = { role: 'bodies', answered: 0, shed: 0, shedWithRetryAfter: 0, other: 0, errors: 0, bodyBytes: body.length };
  const loop = async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    while (!stopping) {
      try {
        const r = await rawPost(agent, body);
        if (r.status === 200) f.answered++;
        else if (r.status === 429) {
          f.shed++;
          const doc = JSON.parse(r.text) as { details?: { retryAfterSeconds?: number } };
          if (r.retryAfter === '1' && doc.details?.retryAfterSeconds === 1) f.shedWithRetryAfter++;
          await sleep(Number(r.retryAfter ?? 1) * 1000);
        } else f.other++;
      } catch {
        f.errors++;
        await sleep(200);
      }
    }
    agent.destroy();
  };
  const loops = Array.from({ length: count }, loop);
  await new Promise<void>((resolve) => (stopHook = resolve));
  await Promise.all(loops);
  return f;
}

/** post() with the Retry-After header. */
function rawPost(agent: https.Agent, body: Buffer): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        agent,
        timeout: 60_000,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), retryAfter: res.headers['retry-after'] }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function normal(): Promise<NormalFigures> {
  const bodies = [
    admissionReview(clusterOne(), ES_RESOURCE, 'chaos-es'),
    admissionReview(federationPool(), IPPOOL_RESOURCE, 'chaos-pool'),
  ].map((t) => ({ buffer: Buffer.from(t), uid: t.includes('chaos-es') ? 'chaos-es' : 'chaos-pool' }));
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2, maxFreeSockets: 2, ca });
  const f: NormalFigures = { role: 'normal', sent: 0, ok: 0, failed: 0, firstErrors: [], latenciesMs: [], sentAt: [] };
  const target = { port, path: '/validate', ca };
  // Two connections open before the others start, as the API server's would be.
  await Promise.all([post(agent, target, bodies[0]!.buffer), post(agent, target, bodies[1]!.buffer)]);
  process.send?.({ ready: true });
  const every = 1000 / count;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; !stopping; i++) {
    const at = start + i * every;
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    const b = bodies[i % 2]!;
    f.sent++;
    const sentAt = Date.now();
    inflight.push(
      post(agent, target, b.buffer, 10_000).then(
        (r) => {
          f.latenciesMs.push(performance.now() - at);
          f.sentAt.push(sentAt);
          // Allowed or denied, an AdmissionReview answering this request.
          if (r.status === 200 && r.text.includes(`"uid":"${b.uid}"`)) f.ok++;
          else {
            f.failed++;
            if (f.firstErrors.length < 5) f.firstErrors.push(`${r.status} ${r.text.slice(0, 120)}`);
          }
        },
        (err: Error) => {
          f.failed++;
          f.latenciesMs.push(performance.now() - at);
          f.sentAt.push(sentAt);
          if (f.firstErrors.length < 5) f.firstErrors.push(err.message);
        },
      ),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return f;
}

let stopHook: () => void = () => {};
process.on('message', (m: unknown) => {
  if (m === 'stop') {
    stopping = true;
    stopHook();
  }
});

const run = role === 'idle' ? idle : role === 'bodies' ? bodies : normal;
void run().then((figures) => {
  process.send?.({ figures });
  process.disconnect?.();
});
