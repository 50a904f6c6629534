/**
 * `serve` with federation discovery reads the RemoteClusterConfigurations of
 * a live state, so asking for it with `--state` manifests is refused before
 * anything listens, in one line, whether asked by `--federation-discovery`
 * or by the configuration file's `federation` key (which wins over the flag).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import type { ServeOptions } from '../../../src/cli/serve.js';
import { serve } from '../operations/server.js';
import { tempDir } from '../operations/support.js';

const NEEDS_LIVE = /^federation discovery needs a live state \(--kubeconfig, KUBECONFIG or a Pod\), not --state manifests$/;
const dir = tempDir('serve-federation');
const configFile = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** Asserts `serve(opts)` fails with the one-line error; a server that starts anyway is closed, so the test fails rather than hangs. */
async function assertRefused(opts: Partial<ServeOptions>): Promise<void> {
  const outcome = await serve(opts).then(
    async (server) => {
      await server.close();
      return 'started';
    },
    (err: Error) => err.message,
  );
  assert.match(outcome, NEEDS_LIVE);
}

describe('serve with federation discovery and no live state', () => {
  it('--federation-discovery with --state manifests: runServe fails with one line', async () => {
    await assertRefused({ federationDiscovery: true });
  });

  it("the configuration file's federation.discovery asks for it too, and wins over the flag either way", async () => {
    const on = configFile('on.yaml', 'federation: {discovery: true, secretNamespace: calico-system}\n');
    await assertRefused({ config: on });
    await assertRefused({ config: on, federationDiscovery: false });
    // Turned off in the file, the flag is overridden: the server starts on manifests.
    const off = configFile('off.yaml', 'federation: {discovery: false}\n');
    const server = await serve({ config: off, federationDiscovery: true });
    await server.close();
  });

  it('the CLI exits 2 with that one line on stderr', { timeout: 60_000 }, async () => {
    const manifest = configFile(
      'pool.yaml',
      'apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.1.0.0/16}\n',
    );
    const r = await runCli(['serve', '--state', manifest, '--federation-discovery', '--log-level', 'silent'], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, 'error: federation discovery needs a live state (--kubeconfig, KUBECONFIG or a Pod), not --state manifests\n');
  });
});
