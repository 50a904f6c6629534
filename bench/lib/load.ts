/**
 * Load generators: a sequential loop (one request at a time), an open-loop
 * generator (requests fired on a fixed schedule whatever the responses, so
 * latency counts from the scheduled send time and coordinated omission is
 * avoided), and autocannon for closed-loop throughput.
 */
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface Target {
  port: number;
  path: string;
  /** CA that verifies the server's certificate. */
  ca: string;
}

export interface Reply {
  status: number;
  text: string;
}

/** Keep-alive agent verifying the bench CA. */
export function keepAliveAgent(ca: string, maxSockets: number): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca, scheduling: 'lifo' });
}

export function post(agent: https.Agent, t: Target, body: Buffer, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: t.port,
        path: t.path,
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Whether a reply is a 200 AdmissionReview answering `uid` with `allowed` as expected. */
export function replyOk(r: Reply, uid: string | undefined, allowed = true): boolean {
  if (r.status !== 200) return false;
  try {
    const doc = JSON.parse(r.text) as { kind?: string; response?: { uid?: string; allowed?: boolean } };
    return doc.kind === 'AdmissionReview' && (uid === undefined || doc.response?.uid === uid) && doc.response?.allowed === allowed;
  } catch {
    return false;
  }
}

export function uidOf(body: string): string {
  return (JSON.parse(body) as { request: { uid: string } }).request.uid;
}

export interface SequentialResult {
  /** Per-request latency in ms, send to last byte. */
  latencies: number[];
  failures: number;
  firstFailure?: string;
}

/** `count` requests one at a time on one keep-alive connection, after `warmup` unmeasured ones. */
export async function sequential(t: Target, bodyText: string, count: number, warmup: number): Promise<SequentialResult> {
  const agent = keepAliveAgent(t.ca, 1);
  const body = Buffer.from(bodyText);
  const uid = uidOf(bodyText);
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  try {
    for (let i = 0; i < warmup + count; i++) {
      const start = process.hrtime.bigint();
      let ok = false;
      let reply: Reply | undefined;
      try {
        reply = await post(agent, t, body);
        ok = replyOk(reply, uid);
      } catch (e) {
        firstFailure ??= (e as Error).message;
      }
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      if (i < warmup) continue;
      if (!ok) {
        failures++;
        firstFailure ??= reply ? `status ${reply.status}: ${reply.text.slice(0, 300)}` : 'no reply';
      }
      latencies.push(elapsed);
    }
  } finally {
    agent.destroy();
  }
  return { latencies, failures, ...(firstFailure ? { firstFailure } : {}) };
}

export interface OpenLoopOptions {
  rate: number;
  durationMs: number;
  /** Unmeasured lead-in at the same rate (opens connections, warms the JIT). */
  warmupMs: number;
  /** Bodies sent in turn (mixed load); each reply is checked against its body's uid. */
  bodies: { target: Target; text: string }[];
  maxSockets?: number;
  timeoutMs?: number;
  /** Called once per second of the measured phase with the elapsed seconds (for sampling). */
  onSecond?: (second: number) => void | Promise<void>;
}

export interface OpenLoopResult {
  /** Latencies (ms) from the scheduled send time to the last byte of the reply. */
  latencies: number[];
  /** For each latency, when the request was due (ms since the start of the measured phase). */
  dueMs: number[];
  scheduled: number;
  completed: number;
  failures: number;
  failureSamples: string[];
  /** Largest lag of a send behind its schedule in the generator itself (ms): the generator's own resolution. */
  maxSendLagMs: number;
  achievedRate: number;
}

/**
 * Open loop: request i is due at `start + i / rate` and is sent then whether
 * or not earlier ones have been answered; its latency runs from that due time,
 * so a stalled server is charged for every request it delayed.
 */
export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const agent = keepAliveAgent(o.bodies[0]!.target.ca, o.maxSockets ?? 128);
  const prepared = o.bodies.map((b) => ({ target: b.target, body: Buffer.from(b.text), uid: uidOf(b.text) }));
  const interval = 1000 / o.rate;
  const warmN = Math.round((o.warmupMs / 1000) * o.rate);
  const total = warmN + Math.round((o.durationMs / 1000) * o.rate);
  const latencies: number[] = [];
  const dueMs: number[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  let completed = 0;
  let errored = 0;
  let maxSendLagMs = 0;
  let outstanding = 0;
  let measuredStart = 0;
  let lastSecond = 0;
  let secondHook: Promise<void> = Promise.resolve();
  let allSent!: () => void;
  const done = new Promise<void>((r) => (allSent = r));

  const fail = (why: string) => {
    failures++;
    if (failureSamples.length < 10) failureSamples.push(why);
  };
  const fire = (i: number, due: number) => {
    const p = prepared[i % prepared.length]!;
    const measured = i >= warmN;
    outstanding++;
    post(agent, p.target, p.body, o.timeoutMs ?? 10_000)
      .then(
        (reply) => {
          const latency = performance.now() - due;
          if (measured) {
            completed++;
            latencies.push(latency);
            dueMs.push(due - measuredStart);
            if (!replyOk(reply, p.uid)) fail(`status ${reply.status}: ${reply.text.slice(0, 200)}`);
          }
        },
        (err: Error) => {
          if (measured) {
            errored++;
            fail(err.message);
          }
        },
      )
      .finally(() => {
        outstanding--;
        if (outstanding === 0 && sent === total) allSent();
      });
  };

  let sent = 0;
  const start = performance.now() + 20;
  measuredStart = start + warmN * interval;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const due = start + sent * interval;
        if (sent >= warmN) maxSendLagMs = Math.max(maxSendLagMs, now - due);
        fire(sent, due);
        sent++;
      }
      if (o.onSecond && now >= measuredStart) {
        const second = Math.floor((now - measuredStart) / 1000);
        // Every second once, in order, even after a stall of the generator longer than a second.
        for (let k = lastSecond + 1; k <= second; k++) {
          const hook = o.onSecond;
          secondHook = secondHook.then(() => hook(k));
        }
        lastSecond = Math.max(lastSecond, second);
      }
      if (sent < total) {
        const next = start + sent * interval - performance.now();
        setTimeout(tick, Math.max(0, Math.min(next, 1)));
      } else resolve();
    };
    setTimeout(tick, 0);
  });
  if (outstanding > 0) {
    const deadline = setTimeout(() => allSent(), (o.timeoutMs ?? 10_000) + 1000);
    await done;
    clearTimeout(deadline);
  }
  await secondHook;
  agent.destroy();
  const measuredN = total - warmN;
  const elapsed = (performance.now() - measuredStart) / 1000;
  // Requests with neither a reply nor an error by the deadline count as failures too.
  const lost = measuredN - completed - errored;
  if (lost > 0) {
    failures += lost;
    failureSamples.push(`${lost} requests unanswered at the end`);
  }
  return {
    latencies,
    dueMs,
    scheduled: measuredN,
    completed,
    failures,
    failureSamples,
    maxSendLagMs,
    achievedRate: completed / Math.max(elapsed, 1e-9),
  };
}

export interface ThroughputResult {
  rps: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
}

/** Closed loop: `connections` keep-alive connections each sending the next request when the last is answered. */
export async function throughput(t: Target, bodyText: string, connections: number, durationSec: number): Promise<ThroughputResult> {
  const r = await autocannon({
    url: `https://127.0.0.1:${t.port}${t.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodyText,
    connections,
    pipelining: 1,
    duration: durationSec,
  });
  return {
    rps: r.requests.average,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

/**
 * One second of closed-loop load with every bench body on both admission
 * endpoints of a webhook, as bench/run.ts's warm-up gives one webhook process
 * for all its parts, so its JIT has seen every kind; the requests made.
 */
export async function warmEveryBody(webhook: Target, connections: number, bodies: readonly { text: string }[]): Promise<number> {
  let total = 0;
  for (const b of bodies)
    for (const path of ['/validate', '/mutate']) total += (await throughput({ ...webhook, path }, b.text, connections, 1)).total;
  return total;
}
