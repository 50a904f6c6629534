/**
 * TurnBatch: jobs queued during one event-loop turn run together after it, in
 * order, back to back; a throwing job is reported and the rest still run.
 * (That every request of a burst gets its own answer through the batch is
 * checked by the protocol and hostile-input suites.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatch } from '../../../src/server/turn-batch.js';

const unexpected = (err: unknown): void => assert.fail(`no job should throw: ${String(err)}`);

describe('TurnBatch', () => {
  it('runs the jobs of one turn after it, together and in order; a later turn makes a new batch', async () => {
    const ran: string[] = [];
    const batch = new TurnBatch(unexpected);
    batch.add(() => ran.push('a'));
    batch.add(() => ran.push('b'));
    ran.push('after add');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(ran, ['after add', 'a', 'b']);
    batch.add(() => ran.push('c'));
    assert.deepEqual(ran, ['after add', 'a', 'b'], 'not run synchronously');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(ran, ['after add', 'a', 'b', 'c']);
  });

  it('batches jobs queued from different callbacks of the same turn: they run back to back, with no microtask between them', async () => {
    const batch = new TurnBatch(unexpected);
    let microtaskRan = false;
    const seen: boolean[] = [];
    await new Promise<void>((resolve) => {
      // Three immediates run in one check phase, each queueing a job (as three sockets' bodies ending in one
      // poll phase would); the batch, scheduled from inside that phase, runs in the next one.
      for (let i = 0; i < 3; i++) {
        setImmediate(() => {
          batch.add(() => {
            seen.push(microtaskRan);
            if (seen.length === 1) queueMicrotask(() => (microtaskRan = true));
            if (seen.length === 3) setImmediate(resolve);
          });
        });
      }
    });
    // Separate batches would be separate macrotasks, and the first job's microtask would run before the second.
    assert.deepEqual(seen, [false, false, false]);
  });

  it('reports a throwing job and still runs the ones after it', async () => {
    const errors: unknown[] = [];
    const ran: number[] = [];
    const batch = new TurnBatch((err) => errors.push(err));
    batch.add(() => ran.push(1));
    batch.add(() => {
      throw new Error('boom');
    });
    batch.add(() => ran.push(3));
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(ran, [1, 3]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /boom/);
  });
});
