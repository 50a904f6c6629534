/**
 * The chart passes `helm lint --strict` with its default values and in each
 * certificate mode, and bad values fail at render time with one clear line:
 * values.schema.json names a value of the wrong type or an unknown mode, rule
 * or key (Helm's message: `- at '/replicas': got string, want integer`), and
 * the templates' `fail` names what a mode is missing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CERTIFICATE_MODES, CHART, helm, modeValues, NAMESPACE, RELEASE } from './support.js';

const template = (args: string[]) => helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);

describe('helm lint --strict', () => {
  for (const mode of CERTIFICATE_MODES) {
    it(`passes with certificates.mode ${mode}${mode === 'selfManaged' ? ' (the default values)' : ''}`, async () => {
      // lint takes --set and --set-file, not --api-versions: a Capabilities check only logs in lint mode.
      const values = modeValues(mode).filter((a, i, all) => a !== '--api-versions' && all[i - 1] !== '--api-versions');
      const r = await helm(['lint', '--strict', CHART, '--namespace', NAMESPACE, ...values]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    });
  }
});

describe('values.schema.json rejects bad values, naming them', () => {
  for (const [set, message] of [
    ['replicas=abc', /at '\/replicas': got string, want integer/],
    ['certificates.mode=bogus', /at '\/certificates\/mode': value must be one of 'selfManaged', 'certManager', 'secret'/],
    ['webhook.failurePolicy=Never', /at '\/webhook\/failurePolicy': value must be one of 'Fail', 'Ignore'/],
    ['webhook.timeoutSeconds=31', /at '\/webhook\/timeoutSeconds': .*maximum/],
    ['config.rules.es-remote-verison=warn', /at '\/config\/rules': additional properties 'es-remote-verison' not allowed/],
    [
      'config.rules.es-remote-version=deny',
      /at '\/config\/rules\/es-remote-version': value must be one of 'enforce', 'warn', 'audit', 'off'/,
    ],
    ['config.unsynced=allow', /at '\/config\/unsynced': value must be one of 'deny', 'warn'/],
    ['metrics.serviceMonitor.enabled=yes', /at '\/metrics\/serviceMonitor\/enabled': got string, want boolean/],
    ['imgae.tag=1.0.0', /at '': additional properties 'imgae' not allowed/],
    ['image.tga=1.0.0', /at '\/image': additional properties 'tga' not allowed/],
  ] as const) {
    it(`--set ${set}`, async () => {
      const r = await template(['--set', set]);
      assert.notEqual(r.code, 0, `rendered:\n${r.stdout.slice(0, 500)}`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.match(r.stderr, message);
    });
  }

  it('accepts every rule mode the webhook knows', async () => {
    for (const mode of ['enforce', 'warn', 'audit', 'off']) {
      const r = await template(['--set', `config.rules.es-enterprise-license=${mode}`]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});

/** Helm prints a template's `fail` as `Error: execution error at (<template>:<line>:<col>): <message>`: one line. */
function assertOneLineFailure(stderr: string, message: RegExp): void {
  const error = stderr.split('\n').filter((l) => l.startsWith('Error: '));
  assert.equal(error.length, 1, stderr);
  assert.match(error[0]!, /^Error: execution error at \(remote-cluster-guard\/templates\/[a-z.]+:\d+:\d+\): /);
  assert.match(error[0]!, message);
}

describe('values that cannot work together fail with one line', () => {
  it('certManager when the cluster does not serve cert-manager.io/v1', async () => {
    const r = await template(['--set', 'certificates.mode=certManager']);
    assert.notEqual(r.code, 0);
    assertOneLineFailure(
      r.stderr,
      /certificates\.mode=certManager needs cert-manager, but this cluster does not serve cert-manager\.io\/v1: install cert-manager, or choose certificates\.mode selfManaged or secret/,
    );
  });

  it('clientAuth.commonNames without clientAuth.caConfigMap (serve refuses --client-cn without --client-ca)', async () => {
    const r = await template(['--set', 'clientAuth.commonNames={kube-apiserver}']);
    assert.notEqual(r.code, 0);
    assertOneLineFailure(r.stderr, /clientAuth\.commonNames needs clientAuth\.caConfigMap/);
  });

  for (const missing of ['certificates.secret.caBundle', 'certificates.secret.name']) {
    it(`secret without ${missing}`, async () => {
      const given = missing === 'certificates.secret.name' ? 'certificates.secret.caBundle=LS0t' : 'certificates.secret.name=webhook-tls';
      const r = await template(['--set', 'certificates.mode=secret', '--set', given]);
      assert.notEqual(r.code, 0);
      assertOneLineFailure(
        r.stderr,
        /certificates\.mode=secret needs certificates\.secret\.name \(.*\) and certificates\.secret\.caBundle \(.*\)$/,
      );
    });
  }
});
