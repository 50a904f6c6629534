/**
 * Secret-bearing RemoteClusterConfiguration fields (`etcdPassword`,
 * `k8sAPIToken`, `kubeconfigInline`, `etcdKey`, `etcdCert`, `etcdCACert`)
 * never come back: not in a denial message, a cause, a warning, a patch or an
 * audit annotation, not in a decision log line (at debug level, every
 * decision logged), and not in the CLI's text or JSON output; whatever the
 * other fields hold, right types or wrong.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { stringify } from 'yaml';
import { formatJson, formatText } from '../../../src/cli/output/index.js';
import { DuplicateIdentityError, runValidate } from '../../../src/cli/validate.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { TEST_NOW } from '../../helpers/engine.js';
import { checkAnswer, fcParams, objectOf, rccArb, reviewArb, reviewBody, useHostileServer } from './support.js';

/** Distinctive enough that no generated value contains it by chance. */
const TOKEN = 'Zq7SENTINELx9Kw';

/** Secret values carrying the token: plain, PEM-like over lines, long, with unicode; and wrong-typed values holding it. */
const secret: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      TOKEN,
      `-----BEGIN PRIVATE KEY-----\n${TOKEN}\n-----END PRIVATE KEY-----\n`,
      `${TOKEN}`.repeat(20),
      `p@ss ${TOKEN} ü😀\u0000`,
      `apiVersion: v1\nkind: Config\nusers: [{user: {token: ${TOKEN}}}]`,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom([TOKEN], { value: TOKEN }, objectOf([['__proto__', { token: TOKEN }]]), { [TOKEN]: 1 }) },
);

const hostile = useHostileServer();

function assertNoSecret(text: string, where: string): void {
  assert.ok(
    !text.includes(TOKEN),
    `${where} contains the secret: ${text.slice(Math.max(0, text.indexOf(TOKEN) - 200), text.indexOf(TOKEN) + 50)}`,
  );
}

const rccs = (wrong: number) => rccArb(wrong, secret).map((object) => ({ kind: 'RemoteClusterConfiguration' as const, object }));

describe('secrets never leave', () => {
  it('no response and no decision log line of /validate or /mutate holds a secret field value', async () => {
    let denied = 0;
    let logged = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(reviewArb(rccs(0), 0), reviewArb(rccs(1), 0)), async (p) => {
        const body = reviewBody(p);
        for (const path of ['/validate', '/mutate'] as const) {
          hostile.logs.length = 0;
          const res = await request(hostile.server)
            .post(path)
            .set('content-type', 'application/json')
            .timeout({ deadline: 5000 })
            .send(body)
            .ok(() => true);
          const doc = checkAnswer(path, body, { status: res.status, text: res.text, headers: res.headers as Record<string, string> });
          assertNoSecret(res.text, `${path} response`);
          const r = doc['response'] as { allowed?: boolean; patch?: string } | undefined;
          if (r?.patch) assertNoSecret(Buffer.from(r.patch, 'base64').toString('utf-8'), `${path} patch`);
          if (r?.allowed === false) denied++;
          for (const line of hostile.logs) assertNoSecret(line, 'decision log');
          logged += hostile.logs.length;
        }
      }),
      fcParams(120),
    );
    assert.ok(denied > 30, `denials were produced (${denied})`);
    assert.ok(logged > 60, `decisions were logged (${logged})`);
  });

  it('validate (text and JSON output) never prints a secret field value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcg-secrets-'));
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(rccArb(0, secret), rccArb(1, secret)), { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          async (objects, asYaml) => {
            const file = join(dir, asYaml ? 'rcc.yaml' : 'rcc.json');
            writeFileSync(
              file,
              asYaml ? objects.map((o) => stringify(o)).join('---\n') : JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
            );
            let result;
            try {
              result = await runValidate({
                files: [file],
                state: [],
                namespace: 'default',
                operatorNamespace: 'elastic-system',
                rules: ALL_RULES,
                now: () => TEST_NOW,
              });
            } catch (err) {
              // Two generated objects of one name are refused (exit 2 in the CLI); that message holds no secret either.
              if (!(err instanceof DuplicateIdentityError)) throw err;
              assertNoSecret(err.message, 'duplicate error');
              return;
            }
            assertNoSecret(formatText(result), 'text output');
            assertNoSecret(formatJson(result), 'JSON output');
            for (const p of result.problems) assertNoSecret(p, 'problem line');
          },
        ),
        fcParams(40),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
