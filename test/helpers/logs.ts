/** Capturing the process log in tests: a pino destination that keeps what it receives. */
import { Writable } from 'node:stream';

/** A log destination that keeps the JSON lines it receives: as text (to search for a secret) and parsed. */
export function logSink(): { stream: Writable; text: () => string; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (raw.push(String(chunk)), cb()) });
  const text = () => raw.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
