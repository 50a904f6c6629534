/** Network helpers for tests that start servers of their own. */
import { createServer, type AddressInfo } from 'node:net';

/** A TCP port on `host` (default 127.0.0.1) that was free a moment ago (bound to port 0, read, released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, host, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
