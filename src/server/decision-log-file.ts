/**
 * The `--decision-log` file: a writer that cannot stop the webhook. pino's
 * own file destination (sonic-boom) emitted an unhandled 'error' at the first
 * ENOSPC, and its exit hook's synchronous flush then retried the write
 * forever, sleeping with the event loop blocked: requests, `/healthz` and
 * SIGTERM hung for good, and the buffered decisions were never written.
 *
 * Here lines wait in memory (at most `maxBufferBytes`), one `fs.write` is in
 * flight at a time on the thread pool, and nothing throws into the caller or
 * blocks the event loop:
 * - a write that fails keeps its bytes and is retried every `retryMs`; lines
 *   that arrive meanwhile are buffered, and once the buffer is full each
 *   further record is dropped and counted (`onDrop`);
 * - each cause (`write ENOSPC`, `reopen ENOTDIR`...) prints one line to stderr
 *   at most every `warnIntervalMs`, and the recovery prints one more;
 * - `reopen()` (SIGHUP, after logrotate moved the file) opens the path anew
 *   and switches only when that succeeds: a failed reopen keeps the old file;
 * - `flushWithin(timeoutMs)` waits for the buffer to be written, never longer
 *   (not `flush`: pino calls a destination's `flush(callback)`).
 * A partial write is resumed at the byte where it stopped, so lines stay whole.
 */
import { close, mkdir, open, write } from 'node:fs';
import { dirname } from 'node:path';

export interface DecisionLogFileOptions {
  path: string;
  /** Bytes held in memory while the file cannot be written; past it, records are dropped. Default 8 MiB. */
  maxBufferBytes?: number;
  /** Milliseconds between two attempts after a failed open or write. Default 1000. */
  retryMs?: number;
  /** Milliseconds between two stderr lines of the same cause. Default 60,000. */
  warnIntervalMs?: number;
  /** Called with the number of records dropped (buffer full, or left unwritten at close). */
  onDrop?: (records: number) => void;
  /** Where the failure lines go; stderr by default. */
  warn?: (line: string) => void;
}

/** Bytes handed to one `fs.write` at most. */
const CHUNK_BYTES = 64 * 1024;

/** Bytes being written, of which `offset` are in the file already. */
interface Chunk {
  bytes: Buffer;
  offset: number;
}

export class DecisionLogFile {
  readonly path: string;
  private readonly maxBufferBytes: number;
  private readonly retryMs: number;
  private readonly warnIntervalMs: number;
  private readonly onDrop: (records: number) => void;
  private readonly warnLine: (line: string) => void;

  private fd: number | undefined;
  /** A file opened by reopen(), switched to between two writes. */
  private nextFd: number | undefined;
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  private chunk: Chunk | undefined;
  private writing = false;
  private opening = false;
  /** reopen() calls waiting for their open. */
  private reopening = 0;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The cause of the last failure of open or write, until a write succeeds. */
  private failure: string | undefined;
  private droppedUnreported = 0;
  private readonly lastWarned = new Map<string, number>();
  private readonly drained: (() => void)[] = [];

  constructor(options: DecisionLogFileOptions) {
    this.path = options.path;
    this.maxBufferBytes = options.maxBufferBytes ?? 8 * 1024 * 1024;
    this.retryMs = options.retryMs ?? 1000;
    this.warnIntervalMs = options.warnIntervalMs ?? 60_000;
    this.onDrop = options.onDrop ?? (() => {});
    this.warnLine = options.warn ?? ((line) => void process.stderr.write(line));
    this.openFile();
  }

  /** Queues one line (pino's DestinationStream); drops and counts it when the buffer is full or the file closed. */
  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.closed || this.pendingBytes + bytes > this.maxBufferBytes) {
      this.drop(1);
      return;
    }
    this.queue.push(line);
    this.queuedBytes += bytes;
    this.pump();
  }

  /** False from a failed open or write until the next successful write. */
  healthy(): boolean {
    return this.failure === undefined;
  }

  /** Bytes waiting to be written. */
  get pendingBytes(): number {
    return this.queuedBytes + (this.chunk ? this.chunk.bytes.length - this.chunk.offset : 0);
  }

  /**
   * Opens the path again (log rotation) and writes there from the next
   * write on; the current file is kept when the path cannot be opened.
   * Resolves whether it switched; never rejects.
   */
  reopen(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    // Lines queued from now on wait for the outcome, so that they go to the new file when there is one.
    this.reopening++;
    return new Promise((resolve) => {
      openAppend(this.path, (err, fd) => {
        this.reopening--;
        if (err || fd === undefined || this.closed) {
          if (fd !== undefined) close(fd, () => {});
          if (err) this.warn('reopen', err, 'writing on to the file opened before');
          this.pump();
          resolve(false);
          return;
        }
        if (this.nextFd !== undefined) close(this.nextFd, () => {});
        this.nextFd = fd;
        if (this.retryTimer) this.retryNow();
        else this.pump();
        resolve(true);
      });
    });
  }

  /** Resolves true once everything queued is written, false after `timeoutMs` if it is not. Never rejects. */
  flushWithin(timeoutMs: number): Promise<boolean> {
    if (this.pendingBytes === 0) return Promise.resolve(true);
    // Whatever the retry timer waits for is tried now: the process may be about to stop.
    this.retryNow();
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.drained.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Flushes for up to `timeoutMs`, then closes the file; records still unwritten are counted as dropped. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    const flushed = await this.flushWithin(timeoutMs);
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (!flushed) {
      const left = this.queue.length + (this.chunk ? countLines(this.chunk.bytes.subarray(this.chunk.offset)) : 0);
      this.queue.length = 0;
      this.queuedBytes = 0;
      this.chunk = undefined;
      this.drop(left);
    }
    // A write still in flight closes its descriptor when it returns (see pump); a write that hangs must not hold close().
    if (!this.writing) await this.closeFds();
  }

  private openFile(): void {
    if (this.opening || this.closed) return;
    this.opening = true;
    openAppend(this.path, (err, fd) => {
      this.opening = false;
      if (this.closed) {
        if (fd !== undefined) close(fd, () => {});
        return;
      }
      if (err || fd === undefined) {
        this.fail('open', err ?? new Error('no descriptor'));
        return;
      }
      this.fd = fd;
      this.pump();
    });
  }

  /** Starts the next write unless one is in flight, the file is not open, or a retry is pending. */
  private pump(): void {
    if (this.writing || this.retryTimer || this.reopening > 0) return;
    this.switchFile();
    if (this.fd === undefined) return;
    if (!this.chunk) {
      if (this.queue.length === 0) {
        // Open, and everything written.
        this.clearFailure();
        for (const resolve of this.drained.splice(0)) resolve();
        return;
      }
      this.chunk = this.takeChunk();
    }
    const chunk = this.chunk;
    const fd = this.fd;
    this.writing = true;
    write(fd, chunk.bytes, chunk.offset, chunk.bytes.length - chunk.offset, null, (err, written) => {
      this.writing = false;
      if (this.closed) {
        void this.closeFds();
        return;
      }
      // A write of nothing without an error would otherwise be retried at once, forever.
      if (err || written === 0) {
        this.fail('write', err ?? new Error('no byte written'));
        return;
      }
      chunk.offset += written;
      if (chunk.offset >= chunk.bytes.length) this.chunk = undefined;
      this.clearFailure();
      this.pump();
    });
  }

  /**
   * After reopen(): the new file from a chunk boundary on. A chunk left half
   * written in a failing old file is given up (its lines counted as dropped)
   * rather than finished in the new one, which would start with half a line.
   */
  private switchFile(): void {
    if (this.nextFd === undefined) return;
    if (this.chunk && this.chunk.offset > 0) {
      if (this.failure === undefined) return;
      this.drop(countLines(this.chunk.bytes.subarray(this.chunk.offset)));
      this.chunk = undefined;
    }
    if (this.fd !== undefined) close(this.fd, () => {});
    this.fd = this.nextFd;
    this.nextFd = undefined;
  }

  /** Moves up to CHUNK_BYTES of queued lines (at least one) into one buffer. */
  private takeChunk(): Chunk {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && (n === 0 || bytes + Buffer.byteLength(this.queue[n]!) <= CHUNK_BYTES)) {
      bytes += Buffer.byteLength(this.queue[n]!);
      n++;
    }
    const lines = this.queue.splice(0, n);
    this.queuedBytes -= bytes;
    return { bytes: Buffer.from(lines.join('')), offset: 0 };
  }

  private fail(operation: 'open' | 'write', err: NodeJS.ErrnoException | Error): void {
    this.failure = `${operation} ${(err as NodeJS.ErrnoException).code ?? err.message}`;
    this.warn(operation, err, `keeping up to ${this.maxBufferBytes} bytes of records in memory and retrying every ${this.retryMs} ms`);
    this.retryTimer = setTimeout(() => this.retryNow(), this.retryMs);
    // A retry must not keep a stopping process alive.
    this.retryTimer.unref();
  }

  private retryNow(): void {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.fd === undefined && this.nextFd === undefined) this.openFile();
    else this.pump();
  }

  private clearFailure(): void {
    if (this.failure === undefined) return;
    // Rate-limited too, so that a disk that fills and frees again every second does not flood stderr.
    if (this.due('recovery')) {
      this.warnLine(
        `remote-cluster-guard: decision log ${this.path}: writing again after "${this.failure}"; ${this.droppedUnreported} records dropped since the last report\n`,
      );
      this.droppedUnreported = 0;
    }
    this.failure = undefined;
  }

  /** Whether a line for `cause` may be printed now (one every `warnIntervalMs`); records it if so. */
  private due(cause: string): boolean {
    const now = Date.now();
    const last = this.lastWarned.get(cause);
    if (last !== undefined && now - last < this.warnIntervalMs) return false;
    this.lastWarned.set(cause, now);
    return true;
  }

  /** One stderr line per cause (operation and error code) every `warnIntervalMs` at most. */
  private warn(operation: string, err: NodeJS.ErrnoException | Error, consequence: string): void {
    if (!this.due(`${operation} ${(err as NodeJS.ErrnoException).code ?? err.message}`)) return;
    this.warnLine(
      `remote-cluster-guard: decision log ${this.path}: ${operation} failed: ${err.message.split('\n', 1)[0]}; ${consequence}\n`,
    );
  }

  private drop(records: number): void {
    if (records === 0) return;
    this.droppedUnreported += records;
    this.onDrop(records);
  }

  /** Resolves once the descriptors are closed (so that a test can unmount the file system). */
  private closeFds(): Promise<void> {
    const fds = [this.fd, this.nextFd].filter((fd) => fd !== undefined);
    this.fd = undefined;
    this.nextFd = undefined;
    for (const resolve of this.drained.splice(0)) resolve();
    return Promise.all(fds.map((fd) => new Promise<void>((resolve) => close(fd, () => resolve())))).then(() => {});
  }
}

/** Opens `path` for appending, creating its directory first (as pino's `mkdir: true` did). */
function openAppend(path: string, done: (err: NodeJS.ErrnoException | null, fd?: number) => void): void {
  mkdir(dirname(path), { recursive: true }, (mkdirErr) => {
    if (mkdirErr) return done(mkdirErr);
    open(path, 'a', (err, fd) => done(err, err ? undefined : fd));
  });
}

function countLines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}
