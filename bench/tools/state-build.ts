/**
 * Times building the in-memory state from manifests, in a fresh process:
 * `loadManifests` (read + parse) and `addToState` (decode + index), then
 * prints one JSON line with the times, the counts and the process's memory.
 *
 *   node --import tsx bench/tools/state-build.ts <file>...
 */
import { performance } from 'node:perf_hooks';
import { addToState, loadManifests } from '../../src/state/manifests.js';
import { rssMiB } from '../lib/procs.js';

const files = process.argv.slice(2);
const rssBefore = rssMiB(process.pid);
const t0 = performance.now();
const docs = loadManifests(files);
const t1 = performance.now();
const { state, problems } = addToState(docs);
const t2 = performance.now();
globalThis.gc?.();
console.log(
  JSON.stringify({
    documents: docs.length,
    loadMs: t1 - t0,
    addMs: t2 - t1,
    totalMs: t2 - t0,
    counts: state.counts(),
    problems: problems.length,
    firstProblem: problems[0],
    rssBeforeMiB: rssBefore,
    rssAfterMiB: rssMiB(process.pid),
    heapUsedMiB: process.memoryUsage().heapUsed / 1048576,
  }),
);
