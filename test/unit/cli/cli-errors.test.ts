/**
 * Errors of the built CLI are one line on stderr and exit 2, in bounded
 * time: a kubeconfig that is missing or no kubeconfig, no cluster configured
 * at all (no retry loop against localhost:8080), an API server that refuses
 * connections (the watcher's retry logs stay quiet; the message says what did
 * not sync and the last error, within --sync-timeout).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rcg-cli-errors-'));
const manifest = join(dir, 'pool.yaml');
writeFileSync(manifest, 'apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.1.0.0/16}\n');
/** Port 1 on loopback: nothing listens, so every connection is refused at once. */
const refused = join(dir, 'refused.kubeconfig');
writeFileSync(
  refused,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
);
const emptyHome = join(dir, 'home');
mkdirSync(emptyHome);
/** No KUBECONFIG, a HOME without .kube/config, not in a Pod. */
const noCluster = { KUBECONFIG: undefined, HOME: emptyHome, KUBERNETES_SERVICE_HOST: undefined };

async function timed(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult & { seconds: number }> {
  const started = Date.now();
  const r = await runCli(args, env ? { env } : {});
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

function assertOneLineError(r: CliResult, message: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 1, `exactly one line on stderr:\n${r.stderr.slice(0, 2000)}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, message);
}

describe('CLI errors: one line on stderr, exit 2, in bounded time', () => {
  it('an unreachable API server: the sync timeout, what is pending and the last error, within --sync-timeout', async () => {
    // The CLI's own start-up (tsx compiling on a busy machine) is the baseline the timeout is added to.
    const baseline = await timed(['rules']);
    for (const command of ['validate', 'audit']) {
      const r = await timed([command, '--kubeconfig', refused, '--sync-timeout', '2', ...(command === 'validate' ? [manifest] : [])]);
      assertOneLineError(r, /the cluster's state did not sync within 2 s \(pending: .*IPPool.*; last error: .*ECONNREFUSED/);
      assert.ok(r.seconds < baseline.seconds + 2 + 6, `${command} took ${r.seconds} s (start-up ${baseline.seconds} s)`);
    }
  });

  it('a kubeconfig that does not exist, or is no kubeconfig', async () => {
    assertOneLineError(
      await runCli(['validate', '--kubeconfig', join(dir, 'nope'), manifest]),
      /kubeconfig .*nope: cannot read \(ENOENT\)/,
    );
    assertOneLineError(await runCli(['audit', '--kubeconfig', manifest]), /kubeconfig .*pool\.yaml: no current context with a cluster/);
  });

  it('audit with no cluster configured at all fails at once, without retrying localhost:8080', async () => {
    const baseline = await timed(['rules'], noCluster);
    const r = await timed(['audit'], noCluster);
    assertOneLineError(r, /no cluster configured: pass --kubeconfig FILE or --state FILE, or set KUBECONFIG/);
    assert.ok(r.seconds < baseline.seconds + 5, `audit took ${r.seconds} s (start-up ${baseline.seconds} s)`);
  });
});
