/**
 * The webhook's request listener without the network, for the in-process
 * bench tools (hotpath.ts, alloc.ts): built as `serve` builds it (engine with
 * every rule, metrics, process logger at info writing nowhere) over the bench
 * state, and called with in-memory requests.
 */
import { Readable, Writable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Engine } from '../../src/engine/engine.js';
import { createLogger } from '../../src/log/logger.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { DEFAULT_MAX_INFLIGHT_BODY_BYTES } from '../../src/server/admission-handler.js';
import { createRequestListener } from '../../src/server/app.js';
import { BodyBudget } from '../../src/server/body-budget.js';
import { Metrics } from '../../src/server/metrics.js';
import { MemoryClusterState } from '../../src/state/memory-state.js';
import { baseStateObjects } from './bodies.js';
import { generateElasticsearches, generateIPPools } from './generate.js';

export interface InProcessWebhook {
  state: MemoryClusterState;
  engine: Engine;
  /** One request through the real listener: the 200 body, or `status <code>: <body>`. */
  call(path: string, body: string): Promise<string>;
}

/** The listener over the bench's base state plus `size` generated objects of each kind (0: none). */
export function inProcessWebhook(size = 0): InProcessWebhook {
  const state = new MemoryClusterState();
  for (const o of baseStateObjects()) state.apply(o);
  if (size > 0) {
    const { es, configMaps } = generateElasticsearches(size);
    const { pools, rccs } = generateIPPools(size);
    for (const o of [...configMaps, ...es, ...rccs, ...pools]) state.apply(o);
  }
  const engine = new Engine(ALL_RULES, { operatorNamespace: 'elastic-system' });
  const metrics = new Metrics({ state: () => ({ counts: state.counts(), synced: (r) => state.isSynced(r) }) });
  const log = createLogger('info', new Writable({ write: (_c, _e, cb) => cb() }));
  const listener = createRequestListener({
    engine,
    state,
    log,
    metrics,
    maxBodyBytes: 4 << 20,
    bodyBudget: new BodyBudget(DEFAULT_MAX_INFLIGHT_BODY_BYTES),
    ready: () => ({ ready: true }),
  });

  const fakeRequest = (path: string, body: string): IncomingMessage => {
    const req = Readable.from([Buffer.from(body)], { objectMode: false }) as unknown as IncomingMessage;
    Object.assign(req, {
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    return req;
  };
  const call = (path: string, body: string): Promise<string> =>
    new Promise((resolve) => {
      let status = 0;
      let onClose: (() => void) | undefined;
      const req = fakeRequest(path, body);
      const res = {
        req,
        setHeader() {},
        // The body budget's release: Node emits 'close' on the response once the answer is written (the listener reads `this.req`).
        on(event: string, fn: (this: ServerResponse) => void) {
          if (event === 'close') onClose = () => fn.call(res);
          return res;
        },
        writeHead(code: number) {
          status = code;
          return res;
        },
        end(text: string) {
          resolve(status === 200 ? text : `status ${status}: ${text}`);
          onClose?.();
        },
      } as unknown as ServerResponse;
      listener(req, res);
    });
  return { state, engine, call };
}
