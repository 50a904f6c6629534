/**
 * The finding cap applies where output must stay small, and only there: an
 * Elasticsearch with 25 broken remotes is listed whole by `validate --output
 * json` (the built CLI) and by the decision log, and the AdmissionResponse
 * kubectl prints shows the first MAX_FINDINGS_PER_RULE and how many were left
 * out. A decision log line holds at most MAX_LOGGED_FINDINGS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { stringify } from 'yaml';
import { MAX_FINDINGS_PER_RULE } from '../../../src/admission/response.js';
import { Engine } from '../../../src/engine/engine.js';
import { deny } from '../../../src/engine/finding.js';
import { createLogger } from '../../../src/log/logger.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { createRequestListener } from '../../../src/server/app.js';
import { decisionLogger, logDecision, MAX_LOGGED_FINDINGS } from '../../../src/server/decision-log.js';
import { addToState, loadManifests } from '../../../src/state/manifests.js';
import { runCli } from '../../helpers/cli.js';
import { reviewOf } from '../../helpers/reviews.js';
import { LICENSE, logSink } from '../operations/support.js';

const BROKEN = 25;

/** An Elasticsearch whose 25 remotes each reference the cluster itself (es-remote-ref denies each). */
const es = {
  apiVersion: 'elasticsearch.k8s.elastic.co/v1',
  kind: 'Elasticsearch',
  metadata: { name: 'cluster-one', namespace: 'ns-one' },
  spec: {
    version: '8.16.1',
    nodeSets: [{ name: 'default', count: 1 }],
    remoteClusters: Array.from({ length: BROKEN }, (_, i) => ({ name: `self-${i}`, elasticsearchRef: { name: 'cluster-one' } })),
  },
};

describe(`an Elasticsearch with ${BROKEN} broken remotes`, () => {
  it(`validate --output json lists all ${BROKEN} findings`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcg-cap-'));
    const file = join(dir, 'es.yaml');
    writeFileSync(file, stringify(es));
    const r = await runCli(['validate', '--output', 'json', '--state', LICENSE, file]);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { objects: { findings: { rule: string; field: string }[] }[] };
    const refs = out.objects[0]!.findings.filter((f) => f.rule === 'es-remote-ref');
    assert.equal(refs.length, BROKEN);
    assert.deepEqual(
      refs.map((f) => f.field),
      Array.from({ length: BROKEN }, (_, i) => `spec.remoteClusters[${i}].elasticsearchRef`),
    );
  });

  it(`the admission message is capped at ${MAX_FINDINGS_PER_RULE} and says how many were left out; the decision log has all ${BROKEN}`, async () => {
    const decisions = logSink();
    const listener = createRequestListener({
      engine: new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' }),
      state: addToState(loadManifests([LICENSE])).state,
      log: createLogger('silent'),
      decisionLogs: [decisionLogger(createLogger('info', decisions.stream))],
      maxBodyBytes: 1 << 20,
      ready: () => ({ ready: true }),
    });
    const res = await request(listener).post('/validate').send(reviewOf(es)).expect(200);
    const status = res.body.response.status as { message: string; details: { causes: { message: string; field: string }[] } };
    const causes = status.details.causes.filter((c) => c.message.startsWith('es-remote-ref: '));
    assert.equal(causes.length, MAX_FINDINGS_PER_RULE + 1);
    assert.equal(
      causes.at(-1)!.message,
      `es-remote-ref: and ${BROKEN - MAX_FINDINGS_PER_RULE} more findings like these, not listed; fix those first`,
    );
    assert.match(status.message, new RegExp(`es-remote-ref: and ${BROKEN - MAX_FINDINGS_PER_RULE} more findings like these, not listed`));
    assert.ok(!status.message.includes(`remoteClusters[${MAX_FINDINGS_PER_RULE}]`), 'the 21st finding is not in the message');

    const [line] = decisions.lines() as { findings: { rule: string }[]; findingsOmitted?: number }[];
    assert.equal(line!.findings.filter((f) => f.rule === 'es-remote-ref').length, BROKEN);
    assert.equal(line!.findingsOmitted, undefined);
  });
});

describe('a decision with more findings than a log line holds', () => {
  it(`logs the first MAX_LOGGED_FINDINGS and counts the rest in findingsOmitted`, () => {
    const sink = logSink();
    const findings = Array.from({ length: MAX_LOGGED_FINDINGS + 7 }, (_, i) => deny('r', `spec.x[${i}]`, 'bad'));
    const decision = { handled: true, namespace: '', name: 'p', allowed: false, findings, patch: [], mutations: [], audited: [] };
    const review = { uid: 'u', kind: { group: 'projectcalico.org', version: 'v3', kind: 'IPPool' }, operation: 'CREATE' };
    logDecision(createLogger('info', sink.stream), { uid: 'u', path: '/validate', request: review, decision });
    const [line] = sink.lines() as { findings: unknown[]; findingsOmitted?: number }[];
    assert.equal(line!.findings.length, MAX_LOGGED_FINDINGS);
    assert.equal(line!.findingsOmitted, 7);
  });
});
