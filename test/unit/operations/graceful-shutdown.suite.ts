/**
 * Graceful shutdown of runServe: `close()` turns /readyz to 503 at once and
 * keeps serving for the shutdown delay (endpoints take that long to drop the
 * Pod), then stops listening, finishes the requests in flight and resolves.
 * And a rolling restart under continuous load loses no request.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { RunningServer } from '../../../src/cli/serve.js';
import { reviewOf } from '../../helpers/reviews.js';
import { admit, caOf, httpsRequest, serve } from './server.js';
import { cluster, LICENSE, waitFor } from './support.js';

/** The error code of a failed connection attempt, or undefined when it connects. */
async function connectError(port: number): Promise<string | undefined> {
  try {
    await httpsRequest(port, '/healthz');
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** Starts a POST /validate and sends its headers and the first `sentBytes` of its body; `finish` sends the rest. */
async function slowRequest(port: number, uid: string, sentBytes: number) {
  const body = JSON.stringify(reviewOf(cluster(), { uid }));
  const req = https.request({
    host: '127.0.0.1',
    port,
    path: '/validate',
    method: 'POST',
    ca: caOf(),
    agent: false,
    // Expect: 100-continue, so that we know when the server has read the headers.
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  let answer: { status: number; body: string } | undefined;
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve((answer = { status: res.statusCode ?? 0, body: text })));
    });
    req.on('error', reject);
  });
  answered.catch(() => {});
  const continued = new Promise<void>((resolve) => req.once('continue', resolve));
  req.flushHeaders();
  await continued;
  req.write(body.slice(0, sentBytes));
  return { req, answered, answer: () => answer, finish: () => req.end(body.slice(sentBytes)) };
}

/**
 * A keep-alive agent behind a Service, as kube-proxy routes it: connections it
 * already has stay on their Pod, new ones go to the Pod `target` names (the
 * request's port is the Service's, the agent's pool key).
 */
class ServiceAgent extends https.Agent {
  constructor(public target: number) {
    super({ keepAlive: true, maxSockets: 8, ca: caOf() });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void) {
    return super.createConnection({ ...options, port: this.target }, callback);
  }
}

describe('graceful shutdown', () => {
  it(
    'readiness turns 503 during the delay, new requests are still answered, in-flight requests finish, then the server stops',
    { timeout: 15_000 },
    async () => {
      const server = await serve({ state: [LICENSE], shutdownDelay: 0.3 });
      const port = server.port;
      let slow: Awaited<ReturnType<typeof slowRequest>> | undefined;
      try {
        assert.equal((await httpsRequest(port, '/readyz')).status, 200);
        slow = await slowRequest(port, 'slow-uid', 100);

        let closed = false;
        const closing = server.close().then(() => (closed = true));
        // A second signal (SIGINT after SIGTERM) waits for the same shutdown.
        let closedAgain = false;
        const closingAgain = server.close().then(() => (closedAgain = true));

        const ready = await httpsRequest(port, '/readyz');
        assert.equal(ready.status, 503);
        assert.match(ready.body, /shutting down/);
        assert.equal((await httpsRequest(port, '/healthz')).status, 200, 'liveness stays ok');
        assert.equal(
          (await admit(port, cluster(), { uid: 'during-delay' })).uid,
          'during-delay',
          'requests routed here before endpoints update are answered',
        );

        // After the delay the listener stops: a new connection is refused while the slow request is still open.
        await waitFor('the listener to stop', async () => (await connectError(port)) === 'ECONNREFUSED', 3000);
        assert.equal(closed, false, 'close() waits for the request in flight');
        assert.equal(closedAgain, false, 'so does a second close()');
        assert.equal(slow.answer(), undefined);

        slow.finish();
        const answer = await slow.answered;
        assert.equal(answer.status, 200);
        const review = JSON.parse(answer.body);
        assert.equal(review.kind, 'AdmissionReview');
        assert.equal(review.response.uid, 'slow-uid');
        assert.equal(review.response.allowed, true);
        await Promise.all([closing, closingAgain]);
      } finally {
        slow?.req.destroy(); // after a failure, so that close() does not wait for it
        await server.close();
      }
    },
  );

  it(
    'keep-alive connections leave during the shutdown delay (Connection: close): no reset for a client sending continuously',
    { timeout: 30_000 },
    async () => {
      const a = await serve({ shutdownDelay: 0.5 });
      const b = await serve({ shutdownDelay: 0 });
      const agent = new ServiceAgent(a.port);
      const errors: string[] = [];
      const servedBy = { a: 0, b: 0 };
      let sending = true;
      let sent = 0;
      const workers = Array.from({ length: 8 }, async (_, w) => {
        while (sending) {
          const uid = `w${w}-${sent++}`;
          try {
            const r = await httpsRequest(a.port, '/validate', { body: reviewOf(cluster(), { uid }), agent });
            if (r.status !== 200 || JSON.parse(r.body).response?.uid !== uid) errors.push(`${uid}: ${r.status} ${r.body}`);
            else if (r.socket.remotePort === a.port) servedBy.a++;
            else servedBy.b++;
          } catch (err) {
            errors.push(`${uid}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
        }
      });
      try {
        await waitFor('load on A over reused connections', () => servedBy.a > 100);
        const closing = a.close();
        // The endpoints drop A well within its delay: new connections go to B, open ones stay on A.
        await new Promise((r) => setTimeout(r, 50));
        agent.target = b.port;
        await closing;
        const onB = servedBy.b;
        await waitFor('load on B after A stopped', () => servedBy.b > onB + 50);
        sending = false;
        await Promise.all(workers);
        assert.deepEqual(errors, [], 'no request failed: no ECONNRESET, no socket hang up');
        assert.ok(servedBy.a > 100 && servedBy.b > 50, JSON.stringify(servedBy));
      } finally {
        sending = false;
        await Promise.all(workers);
        agent.destroy();
        await Promise.all([a.close(), b.close()]);
      }
    },
  );

  it(
    'a request that never completes holds close() no longer than the shutdown delay plus the drain timeout',
    { timeout: 30_000 },
    async () => {
      const server = await serve({ state: [LICENSE], shutdownDelay: 0.2, drainTimeout: 0.5 });
      const slow = await slowRequest(server.port, 'never-finished', 100);
      try {
        const started = performance.now();
        await server.close();
        const seconds = (performance.now() - started) / 1000;
        assert.ok(seconds >= 0.2 + 0.5 && seconds < 0.2 + 0.5 + 3, `close() took ${seconds} s`);
        await assert.rejects(slow.answered, 'its connection is closed at the drain timeout');
      } finally {
        slow.req.destroy();
      }
    },
  );

  it('a rolling restart under load loses no request', { timeout: 15_000 }, async () => {
    // Endpoints: a controller polls each Pod's /readyz every 10 ms; the client sends only to ready
    // endpoints, round-robin, with a keep-alive agent per endpoint, like the kube-apiserver behind a Service.
    type Endpoint = { name: string; server: RunningServer; agent: https.Agent; ready: boolean; served: number };
    const endpoints: Endpoint[] = [];
    const add = (name: string, server: RunningServer) => {
      const e: Endpoint = { name, server, agent: new https.Agent({ keepAlive: true, ca: caOf() }), ready: false, served: 0 };
      endpoints.push(e);
      return e;
    };
    let stopping = false;
    const controller = (async () => {
      while (!stopping) {
        await Promise.all(
          endpoints.map(async (e) => {
            try {
              e.ready = (await httpsRequest(e.server.port, '/readyz')).status === 200;
            } catch {
              e.ready = false;
            }
          }),
        );
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    let next = 0;
    const pick = () => {
      const ready = endpoints.filter((e) => e.ready);
      return ready.length ? ready[next++ % ready.length] : undefined;
    };
    const failures: string[] = [];
    let retries = 0;
    let sent = 0;
    /** One admission request, retried on another endpoint only when the connection was refused (nothing was sent). */
    const send = async (uid: string) => {
      for (let attempt = 1; ; attempt++) {
        const e = pick();
        if (!e) return void failures.push(`${uid}: no ready endpoint`);
        try {
          const r = await httpsRequest(e.server.port, '/validate', { body: reviewOf(cluster(), { uid }), agent: e.agent });
          const review = JSON.parse(r.body);
          if (r.status !== 200 || review.kind !== 'AdmissionReview' || review.response?.uid !== uid || review.response.allowed !== true)
            failures.push(`${uid} on ${e.name}: ${r.status} ${r.body}`);
          else e.served++;
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ECONNREFUSED' && attempt < 3) {
            retries++;
            continue;
          }
          return void failures.push(`${uid} on ${e.name}: ${code ?? (err as Error).message}`);
        }
      }
    };

    let loading = true;
    let client: Promise<unknown> = Promise.resolve();
    try {
      const a = add('A', await serve({ shutdownDelay: 0.3 }));
      const b = add('B', await serve({ shutdownDelay: 0.3 }));
      await waitFor('A and B ready', () => a.ready && b.ready);
      client = Promise.all(
        Array.from({ length: 4 }, async (_, w) => {
          while (loading) await send(`w${w}-${sent++}`);
        }),
      );
      await waitFor('load on A and B', () => a.served > 20 && b.served > 20);

      // Roll A: it drains and stops while B serves; A' starts on a new port.
      const aStopped = a.server.close();
      const a2 = add("A'", await serve({ shutdownDelay: 0.3 }));
      await aStopped;
      const servedByA = a.served;
      await waitFor("A' ready and serving", () => a2.ready && a2.served > 20);
      // Roll B.
      await b.server.close();
      const servedByB = b.served;
      const servedByA2 = a2.served;
      await waitFor("A' serving alone", () => a2.served > servedByA2 + 20);
      loading = false;
      await client;

      assert.deepEqual(failures, []);
      assert.equal(retries, 0, 'readiness routed every request away before a listener closed; the retry was never needed');
      assert.equal(a.served, servedByA, 'nothing reached A after it closed');
      assert.equal(b.served, servedByB, 'nothing reached B after it closed');
      assert.equal(
        endpoints.reduce((n, e) => n + e.served, 0),
        sent,
        'every request was answered',
      );
      assert.ok(sent > 100, `requests sent: ${sent}`);
    } finally {
      loading = false;
      await client.catch(() => {});
      stopping = true;
      await controller;
      await Promise.all(endpoints.map((e) => e.server.close()));
      for (const e of endpoints) e.agent.destroy();
    }
  });
});
