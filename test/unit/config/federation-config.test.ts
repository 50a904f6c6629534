/**
 * The `federation` key of the configuration file: `discovery` (required) and
 * `secretNamespace` and `maxRemoteObjects` (optional) are read as written; any other key or a wrong
 * type is refused in one line naming the key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/config/config-file.js';
import { ALL_RULES } from '../../../src/rules/index.js';

const RULE_IDS = ALL_RULES.map((r) => r.id);
const parse = (text: string) => parseConfig(text, 'c.yaml', RULE_IDS);

describe('configuration file: federation', () => {
  it('is read as written, a secretNamespace too, and left unset when absent (the flags decide then)', () => {
    assert.deepEqual(parse('federation: {discovery: true, secretNamespace: tigera-federation}\n').federation, {
      discovery: true,
      secretNamespace: 'tigera-federation',
    });
    assert.deepEqual(parse('federation:\n  discovery: false\n').federation, { discovery: false }, 'false is kept: it overrides the flag');
    assert.deepEqual(parse('federation: {discovery: true, maxRemoteObjects: 50000}\n').federation, {
      discovery: true,
      maxRemoteObjects: 50000,
    });
    assert.equal(parse('unsynced: warn\n').federation, undefined);
    assert.equal(parse('').federation, undefined);
  });

  describe('errors name the key', () => {
    const cases: [string, string, RegExp][] = [
      [
        'an unknown key under federation',
        'federation: {discovery: true, secretNamespaces: x}',
        /^c\.yaml: federation\.secretNamespaces: unknown key$/,
      ],
      [
        'two unknown keys under federation',
        'federation: {discovery: true, enabled: true, namespace: x}',
        /^c\.yaml: federation\.enabled, federation\.namespace: unknown key$/,
      ],
      ['federation not a map', 'federation: true', /^c\.yaml: federation: expected object, received boolean$/],
      [
        'maxRemoteObjects not a positive integer',
        'federation: {discovery: true, maxRemoteObjects: 0}',
        /^c\.yaml: federation\.maxRemoteObjects: /,
      ],
      ['discovery not a boolean', 'federation: {discovery: "yes"}', /^c\.yaml: federation\.discovery: expected boolean, received string$/],
      [
        'discovery missing',
        'federation: {secretNamespace: calico-system}',
        /^c\.yaml: federation\.discovery: expected boolean, received undefined$/,
      ],
      [
        'secretNamespace not a string',
        'federation: {discovery: true, secretNamespace: [a]}',
        /^c\.yaml: federation\.secretNamespace: expected string, received array$/,
      ],
      ['an empty secretNamespace', 'federation: {discovery: true, secretNamespace: ""}', /^c\.yaml: federation\.secretNamespace: /],
    ];
    for (const [what, text, message] of cases) {
      it(what, () => {
        assert.throws(
          () => parse(text),
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
});
