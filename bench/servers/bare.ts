/**
 * The baseline: a bare `node:https` server that reads the whole body,
 * JSON-parses it and answers `{apiVersion, kind, response: {uid, allowed: true}}`.
 * Whatever it costs is the floor any Node admission webhook pays (TLS, HTTP
 * parsing, JSON); the webhook is measured against it.
 *
 *   node --import tsx bench/servers/bare.ts <cert.pem> <key.pem> <port>
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';

const [certFile, keyFile, portText] = process.argv.slice(2);
if (!certFile || !keyFile || !portText) {
  console.error('usage: bare.ts <cert> <key> <port>');
  process.exit(2);
}

const server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let review: { apiVersion?: unknown; kind?: unknown; request?: { uid?: unknown } };
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof review;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('body is not JSON');
      return;
    }
    const text = JSON.stringify({
      apiVersion: review.apiVersion,
      kind: review.kind,
      response: { uid: review.request?.uid, allowed: true },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
// The same timeouts as the webhook's server.
server.headersTimeout = 10_000;
server.requestTimeout = 30_000;
server.keepAliveTimeout = 95_000;
server.listen(Number(portText), '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', port: Number(portText) })));
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', () => {
  stop();
  server.closeAllConnections();
});
process.once('SIGINT', stop);
