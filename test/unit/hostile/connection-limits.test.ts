/**
 * The connection limits on the real HTTPS server, with a cap of 10: over
 * the cap, with none idle, a connection is refused as accepted while the
 * busy ones are answered; from 90% of it a new connection closes the
 * longest-idle one; and
 * a connection with nothing to do is closed after the idle timeout, whether
 * it never sent a request or was kept alive after one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCertificates } from '../../../src/certs/files.js';
import { generateCertificates, type CertBundle } from '../../../src/certs/generate.js';
import { ServingCertificate } from '../../../src/certs/serving-certificate.js';
import { createLogger } from '../../../src/log/logger.js';
import type { ConnectionLimits } from '../../../src/server/connection-limit.js';
import { createHttpsServer, listen } from '../../../src/server/https-server.js';
import { assertNoPollution, hostileApp, trapUnhandledRejections, validPoolReview } from './support.js';
import { connect, postHead, type RawConnection } from '../../helpers/tls-client.js';

const CAP = 10;
const IDLE_MS = 600;
/** How late past the idle timeout a connection may be closed (the machine may be busy). */
const SLACK_MS = 1_500;

const trap = trapUnhandledRejections();
let dir: string;
let bundle: CertBundle;
let paths: { cert: string; key: string };
const servers: https.Server[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rcg-conns-'));
  bundle = generateCertificates({ service: 'rcg', namespace: 'conns', validityDays: 1 });
  paths = writeCertificates(dir, bundle);
});
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  rmSync(dir, { recursive: true, force: true });
  trap.assertNone();
  assertNoPollution();
});

/** A server of its own with `limits`; its port and the requests it has received so far. */
async function start(limits: ConnectionLimits): Promise<{ port: number; requests: () => number }> {
  const server = createHttpsServer({
    port: 0,
    certificate: new ServingCertificate({ certFile: paths.cert, keyFile: paths.key }, createLogger('silent')),
    listener: hostileApp().listener,
    limits,
  });
  servers.push(server);
  let requests = 0;
  server.on('request', () => requests++);
  return { port: await listen(server, 0, '127.0.0.1'), requests: () => requests };
}

const review = validPoolReview('conn-1');

async function until(cond: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends a whole review on `c` and waits for its answer. */
async function answered(c: RawConnection): Promise<string> {
  c.socket.write(postHead('/validate', Buffer.byteLength(review)) + review);
  const raw = await c.waitFor('"uid":"conn-1"');
  assert.match(raw, /^HTTP\/1\.1 200 /);
  return raw;
}

describe('connection limits', { concurrency: true }, () => {
  it(`over the cap (${CAP}) with every connection busy a new one is refused before its handshake; the busy ones are answered`, async () => {
    const { port, requests } = await start({ maxConnections: CAP, idleTimeoutMs: 30_000 });
    const busy: RawConnection[] = [];
    // Each has a request in flight (its body half sent) before the next connects: none is idle, none can be closed to make room.
    for (let i = 0; i < CAP; i++) {
      const c = await connect(port, bundle.caCert);
      c.socket.write(postHead('/validate', Buffer.byteLength(review)) + review.slice(0, 50));
      await until(() => requests() === i + 1, 'request received');
      busy.push(c);
    }
    const over = await connect(port, bundle.caCert);
    assert.equal(over.secure, false, 'the connection over the cap is closed before its TLS handshake');
    for (const c of busy) c.socket.write(review.slice(50));
    for (const c of busy) assert.match(await c.waitFor('"uid":"conn-1"'), /^HTTP\/1\.1 200 /);
    // All ten are idle now, kept alive: a new connection closes the one idle longest and is served.
    const after = await connect(port, bundle.caCert);
    assert.ok(after.secure);
    await busy[0]!.closed(3_000);
    await answered(after);
    for (const c of [...busy, after]) c.socket.destroy();
  });

  it('from 90% of the cap a new connection closes the longest-idle one, and is served', async () => {
    const { port } = await start({ maxConnections: CAP, idleTimeoutMs: 30_000 });
    const idle: RawConnection[] = [];
    // 9 (90%) open freely, idle: one answered and kept alive, the others never sent anything.
    for (let i = 0; i < CAP - 1; i++) idle.push(await connect(port, bundle.caCert));
    await answered(idle[0]!);
    const tenth = await connect(port, bundle.caCert);
    assert.ok(tenth.secure);
    // idle[1] has been idle longest (idle[0] became idle again after its answer).
    await idle[1]!.closed(3_000);
    await answered(tenth);
    const eleventh = await connect(port, bundle.caCert);
    assert.ok(eleventh.secure);
    await idle[2]!.closed(3_000);
    await answered(eleventh);
    for (const c of [idle[0]!, ...idle.slice(3)]) assert.equal(c.socket.destroyed, false, 'the other idle connections are kept');
    for (const c of [...idle, tenth, eleventh]) c.socket.destroy();
  });

  it(`a connection that sends nothing is closed after the idle timeout (${IDLE_MS} ms)`, async () => {
    const { port } = await start({ maxConnections: 100, idleTimeoutMs: IDLE_MS });
    const c = await connect(port, bundle.caCert);
    const ms = await c.closed(IDLE_MS + SLACK_MS + 1_000);
    assert.ok(ms >= IDLE_MS - 100 && ms <= IDLE_MS + SLACK_MS, `closed after ${ms} ms`);
  });

  it(`a kept-alive connection is closed the idle timeout (${IDLE_MS} ms) after its last answer, not before`, async () => {
    const { port } = await start({ maxConnections: 100, idleTimeoutMs: IDLE_MS });
    const c = await connect(port, bundle.caCert);
    // Requests closer together than the timeout keep it open.
    for (let i = 0; i < 3; i++) {
      await answered(c);
      await new Promise((r) => setTimeout(r, IDLE_MS / 2));
      assert.equal(c.socket.destroyed, false);
    }
    const answeredAt = Date.now();
    await c.closed(IDLE_MS + SLACK_MS + 1_000);
    const ms = Date.now() - answeredAt + IDLE_MS / 2;
    assert.ok(ms >= IDLE_MS - 100 && ms <= IDLE_MS + SLACK_MS, `closed ${ms} ms after the last answer`);
  });
});
