/**
 * Raw TLS connections to a test server, for the resource-limit suites: a
 * request can be sent in parts (headers now, the body later or never) and
 * the bytes the server answers are collected as they come.
 */
import tls from 'node:tls';

export interface RawConnection {
  socket: tls.TLSSocket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server has sent something containing `text` (rejects after `ms`). */
  waitFor(text: string, ms?: number): Promise<string>;
  /** Resolves with the ms from connecting to the close (rejects after `ms`). */
  closed(ms?: number): Promise<number>;
  /** Whether the TLS handshake completed. */
  readonly secure: boolean;
}

/** Opens a TLS connection; resolves once it is established, or closed before it was (then `secure` is false). */
export function connect(port: number, ca: string): Promise<RawConnection> {
  return new Promise((resolve) => {
    const started = Date.now();
    let text = '';
    let secure = false;
    let closedAt: number | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
    socket.setEncoding('utf-8');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', () => {
      // ECONNRESET when the server closes: 'close' follows.
    });
    const conn: RawConnection = {
      socket,
      received: () => text,
      get secure() {
        return secure;
      },
      waitFor: (wanted, ms = 5_000) =>
        new Promise((res, rej) => {
          const deadline = Date.now() + ms;
          const check = () => {
            if (text.includes(wanted)) return res(text);
            if (Date.now() > deadline)
              return rej(new Error(`no ${JSON.stringify(wanted)} within ${ms} ms; got ${JSON.stringify(text.slice(0, 200))}`));
            setTimeout(check, 10);
          };
          check();
        }),
      closed: (ms = 10_000) =>
        new Promise((res, rej) => {
          if (closedAt !== undefined) return res(closedAt - started);
          const timer = setTimeout(() => rej(new Error(`still open after ${ms} ms`)), ms);
          socket.once('close', () => {
            clearTimeout(timer);
            res(closedAt! - started);
          });
        }),
    };
    socket.once('close', () => {
      closedAt = Date.now();
      resolve(conn);
    });
    socket.once('secureConnect', () => {
      secure = true;
      resolve(conn);
    });
  });
}

/** The head of a POST with a JSON body of `length` bytes (chunked when undefined). */
export function postHead(path: string, length: number | undefined): string {
  const framing = length === undefined ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`;
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;
}
