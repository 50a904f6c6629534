/**
 * The configuration file: the documented shape is accepted, every mistake is
 * refused with the key it concerns, and a running server applies a valid
 * change without a restart while an invalid file never replaces the running
 * configuration (logged, counted in `remote_cluster_guard_config_reload_failures_total`).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, type Config } from '../../../src/config/config-file.js';
import { watchConfig } from '../../../src/config/config-watcher.js';
import { DEFAULT_POLICY } from '../../../src/config/policy.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import type { RunningServer } from '../../../src/cli/serve.js';
import { admit, metricsText, serve } from './server.js';
import { cluster, LICENSE, logSink, sample, SELF_REF, SELF_REF_FIELD, tempDir, waitFor } from './support.js';

const RULE_IDS = ALL_RULES.map((r) => r.id);
const dir = tempDir('config');
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const DOCUMENTED = `
rules:                         # mode per rule id: enforce | warn | audit | off
  es-enterprise-license: warn
  es-remote-ref: audit
  calico-pool-spec: off          # YAML 1.2: a string, not false
  es-remote-version: enforce
operatorNamespace: elastic-system-2
excludedNamespaces: [sandbox]
unsynced: warn
ratcheting: false
`;

describe('configuration file', () => {
  it('accepts the documented shape', () => {
    const c = parseConfig(DOCUMENTED, 'c.yaml', RULE_IDS);
    assert.deepEqual(c, {
      operatorNamespace: 'elastic-system-2',
      policy: {
        modes: { 'es-enterprise-license': 'warn', 'es-remote-ref': 'audit', 'calico-pool-spec': 'off', 'es-remote-version': 'enforce' },
        excludedNamespaces: ['sandbox'],
        unsynced: 'warn',
        ratcheting: false,
        generation: c.policy.generation!,
      },
    } satisfies Config);
  });

  it('names its generation by its text: the first 12 hex digits of the SHA-256, alike on every replica, new when the text changes', () => {
    // SHA-256 of the empty string, a published test vector (FIPS 180-2 examples).
    assert.equal(parseConfig('', 'c.yaml', RULE_IDS).policy.generation, 'e3b0c44298fc');
    assert.equal(
      parseConfig(DOCUMENTED, 'a.yaml', RULE_IDS).policy.generation,
      parseConfig(DOCUMENTED, 'b.yaml', RULE_IDS).policy.generation,
    );
    assert.notEqual(
      parseConfig(DOCUMENTED, 'c.yaml', RULE_IDS).policy.generation,
      parseConfig(`${DOCUMENTED}\n`, 'c.yaml', RULE_IDS).policy.generation,
    );
  });

  it('an empty file or one with only some keys keeps the defaults for the others', () => {
    const policyOf = (text: string) => {
      const { generation, ...policy } = parseConfig(text, 'c.yaml', RULE_IDS).policy;
      assert.match(generation!, /^[0-9a-f]{12}$/);
      return policy;
    };
    assert.deepEqual(policyOf(''), DEFAULT_POLICY);
    assert.deepEqual(policyOf('# nothing\n'), DEFAULT_POLICY);
    assert.deepEqual(policyOf('rules: {es-remote-ref: warn}'), { ...DEFAULT_POLICY, modes: { 'es-remote-ref': 'warn' } });
  });

  it('loadConfig reads the file and names it in errors', () => {
    const p = write('loaded.yaml', DOCUMENTED);
    assert.deepEqual(loadConfig(p, RULE_IDS), parseConfig(DOCUMENTED, p, RULE_IDS));
    assert.throws(() => loadConfig(join(dir, 'missing.yaml'), RULE_IDS), {
      name: 'ConfigError',
      message: `${join(dir, 'missing.yaml')}: cannot read (ENOENT)`,
    });
    const bad = write('bad.yaml', 'rules: {es-foo: warn}');
    assert.throws(
      () => loadConfig(bad, RULE_IDS),
      (e: Error) =>
        e instanceof ConfigError && e.message.startsWith(`${bad}: rules.es-foo: unknown rule; known rules: es-default-namespace, `),
    );
  });

  describe('errors name the key', () => {
    const cases: [string, string, RegExp][] = [
      ['an unknown rule', 'rules: {es-foo: warn}', /^c\.yaml: rules\.es-foo: unknown rule; known rules: .*es-remote-ref/],
      ['an unknown top-level key', 'rulez: {es-remote-ref: warn}', /^c\.yaml: rulez: unknown key$/],
      ['two unknown keys', 'foo: 1\nbar: 2', /^c\.yaml: foo, bar: unknown key$/],
      ['a bad mode', 'rules: {es-remote-ref: block}', /^c\.yaml: rules\.es-remote-ref: .*"enforce"\|"warn"\|"audit"\|"off"/],
      ['a mode of the wrong type', 'rules: {es-remote-ref: true}', /^c\.yaml: rules\.es-remote-ref: /],
      ['a bad unsynced value', 'unsynced: maybe', /^c\.yaml: unsynced: .*"deny"\|"warn"/],
      ['ratcheting not a boolean', 'ratcheting: "yes"', /^c\.yaml: ratcheting: expected boolean, received string$/],
      ['excludedNamespaces not a list', 'excludedNamespaces: sandbox', /^c\.yaml: excludedNamespaces: expected array, received string$/],
      ['an empty namespace in excludedNamespaces', 'excludedNamespaces: [""]', /^c\.yaml: excludedNamespaces\[0\]: /],
      ['rules not a map', 'rules: [es-remote-ref]', /^c\.yaml: rules: expected record, received array$/],
      ['an empty operatorNamespace', 'operatorNamespace: ""', /^c\.yaml: operatorNamespace: /],
      ['a list instead of a map', '- rules', /^c\.yaml: \(top level\): expected object, received array$/],
      ['invalid YAML', 'rules: [a', /^c\.yaml: not valid YAML: /],
      ['a duplicated key', 'ratcheting: true\nratcheting: false', /^c\.yaml: not valid YAML: .*unique/],
    ];
    for (const [what, text, message] of cases) {
      it(what, () => {
        assert.throws(
          () => parseConfig(text, 'c.yaml', RULE_IDS),
          (e: Error) => {
            assert.ok(e instanceof ConfigError, `${e.name}: ${e.message}`);
            assert.match(e.message, message);
            assert.doesNotMatch(e.message, /\n/, 'one line');
            return true;
          },
        );
      });
    }
  });

  it('watchConfig applies a valid change, and logs and reports an invalid one without applying it', async () => {
    const file = write('watched.yaml', 'rules: {es-remote-ref: enforce}\n');
    const applied: Config[] = [];
    const failed: ConfigError[] = [];
    const sink = logSink();
    const stop = watchConfig(
      file,
      RULE_IDS,
      'rules: {es-remote-ref: enforce}\n',
      createLogger('info', sink.stream),
      { apply: (c) => applied.push(c), failed: (e) => failed.push(e) },
      50,
    );
    try {
      writeFileSync(file, 'rules: {es-remote-ref: warn}\n');
      await waitFor('the change to be applied', () => applied.length === 1);
      assert.deepEqual(applied[0]!.policy.modes, { 'es-remote-ref': 'warn' });

      writeFileSync(file, 'rules: {es-remote-ref: sometimes}\n');
      await waitFor('the invalid file to be reported', () => failed.length === 1);
      assert.match(failed[0]!.message, /watched\.yaml: rules\.es-remote-ref: /);
      assert.equal(applied.length, 1, 'an invalid file is not applied');
      const line = sink.lines().find((l) => l['msg'] === 'configuration not reloaded; keeping the running one');
      assert.ok(line, 'the failure is logged');
      assert.equal(line['level'], 'error');
      assert.match(String(line['err']), /rules\.es-remote-ref/);

      writeFileSync(file, 'rules: {es-remote-ref: audit}\n');
      await waitFor('the fixed file to be applied', () => applied.length === 2);
      assert.deepEqual(applied[1]!.policy.modes, { 'es-remote-ref': 'audit' });
      assert.equal(failed.length, 1);
    } finally {
      stop();
    }
  });

  it('watchConfig applies a change made before its first poll (the file differs from the text it was given)', async () => {
    const file = write('raced.yaml', 'rules: {es-remote-ref: warn}\n');
    const applied: Config[] = [];
    const stop = watchConfig(
      file,
      RULE_IDS,
      'rules: {es-remote-ref: enforce}\n',
      createLogger('silent'),
      { apply: (c) => applied.push(c), failed: () => {} },
      50,
    );
    try {
      await waitFor('the change to be applied', () => applied.length === 1);
      assert.deepEqual(applied[0]!.policy.modes, { 'es-remote-ref': 'warn' });
    } finally {
      stop();
    }
  });

  describe('through runServe --config', () => {
    let server: RunningServer | undefined;
    after(async () => server?.close());

    it('a valid change takes effect for the next request without a restart; an invalid one is refused and counted', async () => {
      const file = write('serve.yaml', 'rules:\n  es-remote-ref: enforce\n');
      const sink = logSink();
      server = await serve({ config: file, state: [LICENSE], configReloadIntervalMs: 50, logLevel: 'info', logDestination: sink.stream });
      const port = server.port;
      const denied = await admit(port, cluster([SELF_REF]));
      assert.equal(denied.allowed, false);
      assert.match(denied.status!.message, /^es-remote-ref: /);
      assert.equal(sample(await metricsText(port), 'remote_cluster_guard_config_reload_failures_total'), 0);

      writeFileSync(file, 'rules:\n  es-remote-ref: warn\n');
      const warned = await waitFor('es-remote-ref in warn mode', async () => {
        const r = await admit(port, cluster([SELF_REF]));
        return r.allowed && r;
      });
      assert.deepEqual(
        warned.warnings?.map((w) => w.split(': ', 2).join(': ')),
        [`es-remote-ref: ${SELF_REF_FIELD}`],
      );

      writeFileSync(file, 'rules:\n  es-remote-ref: sometimes\n');
      await waitFor(
        'the reload failure metric',
        async () => sample(await metricsText(port), 'remote_cluster_guard_config_reload_failures_total') === 1,
      );
      const line = sink.lines().find((l) => l['msg'] === 'configuration not reloaded; keeping the running one');
      assert.match(String(line?.['err']), /serve\.yaml: rules\.es-remote-ref: /);
      const still = await admit(port, cluster([SELF_REF]));
      assert.equal(still.allowed, true, 'the running configuration (warn) is kept');
      assert.equal(still.warnings?.length, 1);

      // A file that is not even YAML is refused the same way.
      writeFileSync(file, 'rules: [es-remote-ref\n');
      await waitFor(
        'the second reload failure',
        async () => sample(await metricsText(port), 'remote_cluster_guard_config_reload_failures_total') === 2,
      );
      assert.equal((await admit(port, cluster([SELF_REF]))).allowed, true);

      // And the next valid file is applied again.
      writeFileSync(file, 'rules:\n  es-remote-ref: enforce\n');
      await waitFor('enforce mode again', async () => !(await admit(port, cluster([SELF_REF]))).allowed);
    });

    it('a change made while the server starts is not lost', async () => {
      const file = write('starting.yaml', 'rules:\n  es-remote-ref: enforce\n');
      // runServe reads the configuration before its first await; the file changes before the watcher starts.
      const starting = serve({ config: file, state: [LICENSE], configReloadIntervalMs: 50 });
      writeFileSync(file, 'rules:\n  es-remote-ref: warn\n');
      const s = await starting;
      try {
        await waitFor('the change made during startup', async () => (await admit(s.port, cluster([SELF_REF]))).allowed);
      } finally {
        await s.close();
      }
    });
  });
});
