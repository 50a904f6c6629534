/**
 * memoizeText and memoizeByObject: the same answers as the function they
 * wrap, computed once per key, bounded, frozen; long keys bypass the cache.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { memoizeByObject, memoizeText } from '../../../src/common/memo.js';

describe('memoizeText', () => {
  it('gives what the parser gives, calling it once per text (undefined results included)', () => {
    let calls = 0;
    const parse = (t: string) => {
      calls++;
      return t.startsWith('v') ? { n: t.length } : undefined;
    };
    const memo = memoizeText(parse);
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (t) => {
        assert.deepEqual(memo(t), parse(t));
      }),
    );
    calls = 0;
    const fresh = memoizeText(parse);
    fresh('v1');
    fresh('v1');
    fresh('nope');
    fresh('nope');
    assert.equal(calls, 2, 'a text is parsed once, whether it parses or not');
  });

  it('holds at most `limit` results, dropping the oldest, and never caches texts over maxKeyLength', () => {
    const seen: string[] = [];
    const memo = memoizeText((t) => (seen.push(t), t.length), { limit: 2, maxKeyLength: 4 });
    memo('a');
    memo('b');
    memo('c'); // drops "a"
    memo('b');
    memo('a');
    assert.deepEqual(seen, ['a', 'b', 'c', 'a']);
    memo('long-key');
    memo('long-key');
    assert.deepEqual(seen.slice(4), ['long-key', 'long-key']);
  });

  it("freezes results, deeply, so one caller cannot change another's", () => {
    const memo = memoizeText((t) => ({ text: t, parts: { n: [1, 2] } }));
    const r = memo('x');
    assert.ok(Object.isFrozen(r) && Object.isFrozen(r.parts) && Object.isFrozen(r.parts.n));
    assert.throws(() => {
      (r as { text: string }).text = 'y';
    }, TypeError);
  });
});

describe('memoizeByObject', () => {
  it('derives once per object identity; a replaced object is derived again', () => {
    let calls = 0;
    const derive = memoizeByObject((o: { level: string }) => (calls++, { upper: o.level.toUpperCase() }));
    const a = { level: 'basic' };
    assert.equal(derive(a).upper, 'BASIC');
    assert.equal(derive(a).upper, 'BASIC');
    assert.equal(calls, 1);
    const b = { level: 'enterprise' };
    assert.equal(derive(b).upper, 'ENTERPRISE');
    assert.equal(calls, 2);
    assert.ok(Object.isFrozen(derive(b)));
  });
});
