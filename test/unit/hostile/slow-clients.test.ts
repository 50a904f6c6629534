/**
 * Slow clients against the real HTTPS server (`createHttpsServer` with short
 * timeouts, certificates from `generateCertificates`): a client trickling its
 * headers, or its body, one byte per 200 ms is answered 408 and disconnected
 * once the headers or request timeout has passed, while requests on other
 * connections are answered at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { hostileApp, suiteHttpsServer, validPoolReview } from './support.js';

const HEADERS_MS = 600;
const REQUEST_MS = 1_200;
/** How late past its deadline a slow connection may be closed (the server checks every 60 ms; the machine may be busy). */
const SLACK_MS = 900;
const BYTE_EVERY_MS = 200;

const server = suiteHttpsServer('slow', hostileApp().listener, { timeouts: { headersMs: HEADERS_MS, requestMs: REQUEST_MS } });

const review = validPoolReview('prompt-1');

interface Prompt {
  status: number;
  body: string;
  /** When it was sent and answered (Date.now()). */
  sentAt: number;
  answeredAt: number;
}

/** A normal request on its own connection. */
function promptRequest(): Promise<Prompt> {
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.port,
        servername: 'localhost',
        ca: server.caCert,
        method: 'POST',
        path: '/validate',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf-8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sentAt, answeredAt: Date.now() }));
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('prompt request timed out')));
    req.on('error', reject);
    req.end(review);
  });
}

interface Trickled {
  /** From the first byte of the request to the server closing the connection. */
  closedAfterMs: number;
  closedAt: number;
  /** Bytes written before the close (the client never stopped on its own). */
  written: number;
  received: string;
}

/**
 * Opens a TLS connection (a plain TCP one with `tcp`), writes `start` at
 * once, then one byte of `drip` per 200 ms until the server closes the
 * connection (or 10 s pass).
 */
function trickle(start: string | Buffer, drip: string | Buffer, tcp = false): Promise<Trickled> {
  return new Promise((resolve, reject) => {
    const socket = tcp
      ? net.connect(server.port, '127.0.0.1')
      : tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: server.caCert });
    let received = '';
    let written = 0;
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept a slow connection open for 10 s (${written} bytes written)`));
    }, 10_000);
    socket.setEncoding('utf-8');
    socket.on('data', (c: string) => (received += c));
    socket.on(tcp ? 'connect' : 'secureConnect', () => {
      started = Date.now();
      socket.write(start);
      written += start.length;
      timer = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        socket.write(drip.slice(written % drip.length, (written % drip.length) + 1));
        written++;
      }, BYTE_EVERY_MS);
    });
    socket.on('error', () => {
      // ECONNRESET after the server's close: the close event follows.
    });
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, closedAt: Date.now(), written, received });
    });
  });
}

/** Prompt requests, one every 150 ms, while `slow` runs. */
async function whileSlow<T>(slow: Promise<T>): Promise<{ slow: T; prompt: Prompt[] }> {
  const prompt: Promise<Prompt>[] = [];
  let done = false;
  const result = slow.finally(() => (done = true));
  while (!done) {
    prompt.push(promptRequest());
    await new Promise((r) => setTimeout(r, 150));
  }
  return { slow: await result, prompt: await Promise.all(prompt) };
}

/**
 * Every prompt request is answered 200, and those sent while the slow
 * connection was still open (300 ms or more before it was cut off) were
 * answered before it was: the slow client held nothing up.
 */
function assertPrompt(answers: Prompt[], slowClosedAt: number): void {
  const during = answers.filter((a) => a.sentAt <= slowClosedAt - 300);
  assert.ok(during.length >= 2, `requests were made while the slow client was connected (${during.length})`);
  for (const a of answers) {
    assert.equal(a.status, 200, a.body);
    const doc = JSON.parse(a.body) as { kind: string; response: { uid: string; allowed: boolean } };
    assert.equal(doc.kind, 'AdmissionReview');
    assert.equal(doc.response.uid, 'prompt-1');
    assert.ok(a.answeredAt - a.sentAt < 2_000, `answered in ${a.answeredAt - a.sentAt} ms`);
  }
  for (const a of during)
    assert.ok(a.answeredAt < slowClosedAt, `answered ${a.answeredAt - a.sentAt} ms after sending, before the slow client was cut off`);
}

// The three run at once: each measures its own slow connections and prompt requests.
describe('slow clients on the real HTTPS server', { concurrency: true }, () => {
  it(`a client trickling its headers is answered 408 and cut off after headersTimeout (${HEADERS_MS} ms); others are served`, async () => {
    const { slow, prompt } = await whileSlow(trickle('POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: ', 'abcdefghij'));
    assert.ok(slow.closedAfterMs >= HEADERS_MS - 50, `not before the timeout: ${slow.closedAfterMs} ms`);
    assert.ok(slow.closedAfterMs <= HEADERS_MS + SLACK_MS, `closed ${slow.closedAfterMs} ms after the first byte`);
    assert.match(slow.received, /^HTTP\/1\.1 408 /);
    assertPrompt(prompt, slow.closedAt);
  });

  it(`a client trickling its body is answered 408 and cut off after requestTimeout (${REQUEST_MS} ms); others are served`, async () => {
    const head = `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${review.length}\r\n\r\n`;
    const { slow, prompt } = await whileSlow(trickle(head, review));
    assert.ok(slow.closedAfterMs >= REQUEST_MS - 50, `not before the timeout: ${slow.closedAfterMs} ms`);
    assert.ok(slow.closedAfterMs <= REQUEST_MS + SLACK_MS, `closed ${slow.closedAfterMs} ms after the first byte`);
    assert.ok(slow.written < head.length + review.length, 'the body was never completed');
    assert.match(slow.received, /^HTTP\/1\.1 408 /);
    assertPrompt(prompt, slow.closedAt);
  });

  it(`a client that never completes the TLS handshake is cut off after ${HEADERS_MS} ms; others are served`, async () => {
    // The first bytes of a TLS ClientHello record, then one byte per 200 ms.
    const hello = Buffer.from('16030100c8010000c40303' + '00'.repeat(200), 'hex');
    const { slow, prompt } = await whileSlow(trickle(hello.subarray(0, 5), hello.subarray(5), true));
    assert.ok(slow.closedAfterMs >= HEADERS_MS - 50, `not before the timeout: ${slow.closedAfterMs} ms`);
    assert.ok(slow.closedAfterMs <= HEADERS_MS + SLACK_MS, `closed ${slow.closedAfterMs} ms after connecting`);
    assertPrompt(prompt, slow.closedAt);
  });

  it('several slow clients at once (headers and bodies) do not hold up normal requests', async () => {
    const head = `POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
    const slows = Promise.all([
      trickle('POST /validate HTTP/1.1\r\nHost: localhost\r\nX-A: ', 'x'),
      trickle('POST /mutate HTTP/1.1\r\n', 'X-B: y\r\n'),
      trickle(head, '{"apiVersion":'),
      trickle('G', 'ET /healthz HTTP/1.1\r\n'),
      trickle(Buffer.from([0x16, 0x03]), Buffer.from([0x01, 0x00, 0xc8]), true),
    ]);
    const { slow, prompt } = await whileSlow(slows);
    for (const s of slow) assert.ok(s.closedAfterMs <= REQUEST_MS + SLACK_MS, `closed after ${s.closedAfterMs} ms`);
    assertPrompt(prompt, Math.max(...slow.map((s) => s.closedAt)));
  });
});
