/**
 * `serve` flags that go together or exclude each other are refused before
 * anything starts (exit 2, one line): `--client-cn` without `--client-ca`, a
 * metrics or health port equal to the webhook port, a TLS version other than
 * 1.2 or 1.3, a `--client-ca` or `--tls-ca` that is unreadable or holds no
 * certificate.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../helpers/cli.js';

describe('serve flags', () => {
  for (const [args, message] of [
    [['--client-cn', 'kube-apiserver'], /error: --client-cn needs --client-ca/],
    [['--metrics-port', '8443'], /error: --metrics-port and --health-port need a port other than --port \(or 0\)/],
    [['--port', '9443', '--health-port', '9443'], /error: --metrics-port and --health-port need a port other than --port \(or 0\)/],
    [['--tls-min-version', '1.1'], /argument '1\.1' is invalid\. Allowed choices are 1\.2, 1\.3/],
    [['--client-ca', '/nonexistent/ca.crt'], /error: --client-ca \/nonexistent\/ca\.crt: ENOENT/],
    [['--tls-ca', 'package.json'], /error: --tls-ca package\.json: no PEM certificate/],
  ] as const) {
    it(`serve ${args.join(' ')}: exit 2`, { timeout: 30_000 }, async () => {
      const r = await runCli(['serve', '--state', '/dev/null', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    });
  }
});
