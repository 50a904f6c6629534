/**
 * The README's "For security teams" snippet against deploy/: the Fluent Bit
 * pipeline tails the log file the kubelet writes for the webhook container
 * (`/var/log/containers/<pod>_<namespace>_<container>-<id>.log`), keeps the
 * stdout stream (where `--decision-log=-` puts the decisions alone) and parses
 * it as JSON; the Deployment does pass `--decision-log=-`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf-8');

interface Plugin {
  name: string;
  match?: string;
  [key: string]: unknown;
}
interface FluentBit {
  pipeline: { inputs: Plugin[]; filters: Plugin[]; outputs: Plugin[] };
}

function fluentBitSnippet(): FluentBit {
  const readme = read('README.md');
  const start = readme.indexOf('\n## For security teams\n');
  assert.ok(start >= 0, 'the README has a "For security teams" section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const block = /```yaml\n# fluent-bit\.yaml[^\n]*\n([\s\S]*?)\n```/.exec(section);
  assert.ok(block, 'a fluent-bit.yaml block');
  return parse(block[1]!) as FluentBit;
}

const deployment = parse(read('deploy/base/deployment.yaml')) as {
  metadata: { name: string; namespace: string };
  spec: { template: { spec: { containers: { name: string; args: string[] }[] } } };
};
const container = deployment.spec.template.spec.containers[0]!;

/** A shell glob as a regular expression (`*` only, as in the snippet). */
const globRegExp = (glob: string) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);

describe('README: the Fluent Bit pipeline for the decision log', () => {
  const { pipeline } = fluentBitSnippet();

  it("tails the kubelet's log file of the webhook container in deploy/, and no other container's", () => {
    const [input] = pipeline.inputs;
    assert.equal(input!.name, 'tail');
    assert.equal(input!['parser'], 'cri');
    const glob = globRegExp(String(input!['path']));
    const pod = `${deployment.metadata.name}-6f7c9d8b4-x2x4q`;
    const file = (ns: string, c: string) => `/var/log/containers/${pod}_${ns}_${c}-0123456789abcdef.log`;
    assert.match(file(deployment.metadata.namespace, container.name), glob);
    assert.doesNotMatch(file(deployment.metadata.namespace, 'istio-proxy'), glob);
    assert.doesNotMatch(file('default', container.name), glob);
  });

  it('keeps the stdout stream, where --decision-log=- in deploy/ puts the decisions alone, and parses each line as JSON', () => {
    assert.ok(container.args.includes('--decision-log=-'), 'deploy/ writes decisions alone on stdout');
    const tag = pipeline.inputs[0]!['tag'];
    const grep = pipeline.filters.find((f) => f.name === 'grep');
    assert.equal(grep?.match, tag);
    assert.equal(grep?.['regex'], 'stream ^stdout$');
    const parser = pipeline.filters.find((f) => f.name === 'parser');
    assert.deepEqual([parser?.match, parser?.['key_name'], parser?.['parser']], [tag, 'message', 'json']);
    assert.ok(
      pipeline.outputs.every((o) => o.match === tag),
      'the outputs take the decisions',
    );
  });
});
