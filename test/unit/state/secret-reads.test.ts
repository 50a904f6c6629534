/**
 * The Secret read opt-in: its scope (flag and configuration file) and the
 * by-name Secret reads of the live state, with a stub of the API client
 * (the real API server is in test/e2e/eck-trust.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import { parseConfig, settingsOf } from '../../../src/config/config-file.js';
import { secretReadScope } from '../../../src/config/secret-reads.js';
import { createLogger } from '../../../src/log/logger.js';
import { SecretFetcher } from '../../../src/state/live/by-name-fetcher.js';
import { MemoryClusterState } from '../../../src/state/memory-state.js';
import { TEST_NOW } from '../../helpers/engine.js';
import { makeCerts } from '../rules/elasticsearch/certs.js';

const certs = makeCerts(TEST_NOW);

describe('secret read scope', () => {
  test('flag and file values', () => {
    assert.deepEqual(secretReadScope(undefined), { enabled: false });
    assert.deepEqual(secretReadScope(true), { enabled: true });
    assert.deepEqual(secretReadScope('ns-one, ns-two,'), { enabled: true, namespaces: ['ns-one', 'ns-two'] });
    assert.deepEqual(secretReadScope(' , '), { enabled: false });
  });

  test('the configuration file key wins over the flag; unknown shapes are refused with the key', () => {
    const file = parseConfig('readCaSecrets: [ns-two]\n', 'c.yaml', []);
    assert.deepEqual(settingsOf(file, { operatorNamespace: 'e', readCaSecrets: true }).readCaSecrets, {
      enabled: true,
      namespaces: ['ns-two'],
    });
    assert.deepEqual(settingsOf(undefined, { operatorNamespace: 'e', readCaSecrets: true }).readCaSecrets, { enabled: true });
    assert.deepEqual(settingsOf(parseConfig('{}', 'c.yaml', []), { operatorNamespace: 'e' }).readCaSecrets, { enabled: false });
    assert.throws(() => parseConfig('readCaSecrets: yes please\n', 'c.yaml', []), /c\.yaml: readCaSecrets: /);
  });
});

describe('SecretFetcher', () => {
  const key = { namespace: 'ns-two', name: 'remote-certs' };
  function stub(answer: (ns: string) => unknown): { core: CoreV1Api; calls: string[] } {
    const calls: string[] = [];
    const core = {
      readNamespacedSecret: async ({ name, namespace }: { name: string; namespace: string }) => {
        calls.push(`${namespace}/${name}`);
        const a = answer(namespace);
        if (a instanceof Error) throw a;
        return a;
      },
    } as unknown as CoreV1Api;
    return { core, calls };
  }
  const apiError = (code: number) => Object.assign(new Error(`HTTP-Code: ${code}`), { code });
  const log = createLogger('silent');

  test('not enabled: never reads, the rules hear why', () => {
    const state = new MemoryClusterState();
    const { core, calls } = stub(() => ({}));
    const f = new SecretFetcher(core, state, log, { enabled: false });
    assert.equal(f.ensure(key), undefined);
    assert.deepEqual(calls, []);
    assert.deepEqual(state.getCaSecret(key), { status: 'unknown', reason: 'Secret reads not enabled (serve --read-ca-secrets)' });
  });

  test('outside the namespaces listed: never reads', () => {
    const state = new MemoryClusterState();
    const { core, calls } = stub(() => ({}));
    const f = new SecretFetcher(core, state, log, { enabled: true, namespaces: ['ns-one'] });
    assert.equal(f.ensure(key), undefined);
    assert.deepEqual(calls, []);
    const lookup = state.getCaSecret(key);
    assert.match(lookup.status === 'unknown' ? lookup.reason : lookup.status, /not enabled in namespace ns-two/);
  });

  test('a Secret read is kept as certificate summaries only; a 404 is absent; a 403 is unknown with its code', async () => {
    const data = { 'remote.ca.crt': Buffer.from(certs.ca).toString('base64'), 'tls.key': Buffer.from(certs.keyPem).toString('base64') };
    const found = new MemoryClusterState();
    const one = stub(() => ({ metadata: { name: 'remote-certs', namespace: 'ns-two' }, data }));
    await new SecretFetcher(one.core, found, log, { enabled: true }).ensure(key);
    const lookup = found.getCaSecret(key);
    assert.equal(lookup.status, 'found');
    assert.equal(lookup.status === 'found' && lookup.secret.keys['remote.ca.crt']?.certificates[0]?.isCa, true);
    const kept = JSON.stringify(lookup);
    assert.ok(!kept.includes(data['tls.key']) && !kept.includes('PRIVATE KEY-----\n'), 'no Secret data kept');

    const absent = new MemoryClusterState();
    await new SecretFetcher(stub(() => apiError(404)).core, absent, log, { enabled: true }).ensure(key);
    assert.deepEqual(absent.getCaSecret(key), { status: 'absent' });

    const forbidden = new MemoryClusterState();
    await new SecretFetcher(stub(() => apiError(403)).core, forbidden, log, { enabled: true }).ensure(key);
    assert.deepEqual(forbidden.getCaSecret(key), { status: 'unknown', reason: 'reading it failed with HTTP 403' });
  });
});
