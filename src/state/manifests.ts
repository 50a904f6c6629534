/**
 * Reads Kubernetes manifests: YAML or JSON files, several documents per file,
 * `kind: List` expanded, directories walked for `*.yaml`, `*.yml` and
 * `*.json`, `-` for standard input. Each document keeps its file and line so
 * the CLI can point at it, and `fieldPosition` finds the line and column of a
 * field of its object in the file's syntax tree.
 */
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { createScanner, parseTree, SyntaxKind, type Node as JsonNode } from 'jsonc-parser';
import { LineCounter, parseAllDocuments, isMap, isScalar, isSeq, type Node } from 'yaml';
import { parseFieldPath } from '../common/field-path.js';
import { MemoryClusterState } from './memory-state.js';

export interface ManifestDocument {
  file: string;
  /** 1-based line where the object starts. */
  line: number;
  object: unknown;
}

/** 1-based line and column in a manifest file. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Finds the field at `segments` (see parseFieldPath) below a document's object
 * in its file: the position of the deepest segment that exists. Kept beside
 * the documents, not in them, so they stay plain data.
 */
type Locator = (segments: readonly string[]) => Position;
const locators = new WeakMap<ManifestDocument, Locator>();

/**
 * Where `field` (`spec.remoteClusters[0].elasticsearchRef`, "" for the whole
 * object) is written in `d`'s file: the start of its key (of the item, in a
 * list). A field that is not written there (a default, a missing field) gives
 * its nearest written parent; without a syntax tree, the document's line.
 */
export function fieldPosition(d: ManifestDocument, field: string): Position {
  return locators.get(d)?.(field ? parseFieldPath(field) : []) ?? { line: d.line, column: 1 };
}

const INDEX = /^(0|[1-9][0-9]*)$/;

/** A Locator over the yaml node tree below `root` (a document's contents, or an item of its `items`). */
function yamlLocator(root: Node, lines: LineCounter): Locator {
  return (segments) => {
    let node: unknown = root;
    let at = root.range?.[0] ?? 0;
    for (const s of segments) {
      let start: number | undefined;
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === s);
        start = (pair?.key as Node | undefined)?.range?.[0];
        next = pair?.value;
      } else if (isSeq(node) && INDEX.test(s)) {
        next = node.items[Number(s)];
        start = (next as Node | undefined)?.range?.[0];
      }
      if (start === undefined) break;
      at = start;
      node = next;
    }
    const { line, col } = lines.linePos(at);
    return { line, column: col };
  };
}

/** A Locator over jsonc-parser's tree of a whole JSON text, below `base` (`['items', 3]` for a List item). */
function jsonLocator(tree: () => { root: JsonNode | undefined; lineStarts: number[] }, base: readonly string[]): Locator {
  return (segments) => {
    const { root, lineStarts } = tree();
    let node = root;
    let at = root?.offset ?? 0;
    for (const [i, s] of [...base, ...segments].entries()) {
      let start: number | undefined;
      let next: JsonNode | undefined;
      if (node?.type === 'object') {
        const property = node.children?.find((p) => p.children?.[0]?.value === s);
        start = property?.offset;
        next = property?.children?.[1];
      } else if (node?.type === 'array' && INDEX.test(s)) {
        next = node.children?.[Number(s)];
        start = next?.offset;
      }
      if (start === undefined || next === undefined) break;
      // The base leads to the object itself: its position is its value's, not the `items` key's.
      at = i < base.length ? next.offset : start;
      node = next;
    }
    // The last line starting at or before `at`.
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - lineStarts[lo]! + 1 };
  };
}

/** Unreadable input: a missing file, a YAML syntax error. The message is one line naming the file. */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** The largest file (or standard input) read: beyond it, a one-line error before anything is read. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/**
 * The largest text parsed as YAML (anything but a `.json` file holding valid
 * JSON): the YAML parser takes 1 to 3 s and about 60 MiB per MiB on a 2-core
 * machine (a 50 MB file: two minutes and 1.5 GiB), where JSON.parse reads
 * 64 MiB in about a second.
 */
export const MAX_YAML_BYTES = 8 * 1024 * 1024;
/** How much of a file is searched for a NUL byte, the sign of a binary file (as git and grep decide). */
const BINARY_PROBE_BYTES = 8192;

const MiB = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** An fs error as a few words: `no such file or directory`, `permission denied (EACCES)`. */
function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'no such file or directory (a parent is not a directory: ENOTDIR)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'ELOOP':
      return 'symlink loop (ELOOP)';
    case 'EISDIR':
      return 'is a directory (EISDIR)';
    default:
      return `cannot read (${code ?? 'error'})`;
  }
}

/**
 * The files a list of paths names: directories walked recursively (sorted, symlinks followed), `-` kept as is.
 * A named path that cannot be read throws a one-line ManifestError; in a walk, a directory
 * reached a second time through a symlink (a symlink loop, or two links to one directory) and
 * anything but a regular file (a FIFO would block the read) are skipped with a line in `notes`.
 */
export function expandPaths(paths: readonly string[], notes: string[] = []): string[] {
  const out: string[] = [];
  const seen = new Map<string, string>(); // real path of each directory walked → the path it was walked as
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new ManifestError(`${p}: ${describeFsError(err)}`);
    }
    if (isDir) walk(p, out, notes, seen);
    else out.push(p);
  }
  return out;
}

function walk(dir: string, out: string[], notes: string[], seen: Map<string, string>): void {
  let entries: Dirent[];
  let real: string;
  try {
    real = realpathSync(dir);
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new ManifestError(`${dir}: cannot read directory: ${describeFsError(err)}`);
  }
  const first = seen.get(real);
  if (first !== undefined) {
    notes.push(`${dir}: skipped: the same directory as ${first} (a symlink loop or a second link to it)`);
    return;
  }
  seen.set(real, dir);
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const target = statSync(child);
        isDir = target.isDirectory();
        isFile = target.isFile();
      } catch (err) {
        // A dangling link is skipped like any non-manifest unless it is named as one; a loop always.
        const loop = (err as NodeJS.ErrnoException).code === 'ELOOP';
        if (loop || MANIFEST_FILE.test(e.name)) notes.push(`${child}: skipped: ${describeFsError(err)}`);
        continue;
      }
    }
    if (isDir) walk(child, out, notes, seen);
    else if (!MANIFEST_FILE.test(e.name)) continue;
    else if (isFile) out.push(child);
    else notes.push(`${child}: skipped: not a regular file`);
  }
}

/** Waits `ms` without returning to the event loop (the reading here is synchronous). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The bytes of a file or of standard input, at most MAX_FILE_BYTES: a regular
 * file over the limit is refused from its size, a pipe once it has sent more
 * (read in 64 KiB chunks).
 */
function readBounded(file: string): Buffer {
  const name = file === '-' ? 'stdin' : file;
  const tooLarge = (bytes: number, more: boolean) =>
    new ManifestError(`${name}: ${more ? 'more than ' : ''}${MiB(bytes)}, over the ${MiB(MAX_FILE_BYTES)} limit for one file; split it`);
  let fd: number;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
  } catch (err) {
    throw new ManifestError(`${name}: ${describeFsError(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new ManifestError(`${name}: ${describeFsError({ code: 'EISDIR' })}`);
    if (st.isFile()) {
      if (st.size > MAX_FILE_BYTES) throw tooLarge(st.size, false);
      return readFileSync(fd);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, MAX_FILE_BYTES + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        // Standard input may be a non-blocking pipe: wait for the writer.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          pause(5);
          continue;
        }
        throw new ManifestError(`${name}: ${describeFsError(err)}`);
      }
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > MAX_FILE_BYTES) throw tooLarge(MAX_FILE_BYTES, true);
    }
    return Buffer.concat(chunks, total);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** The text of a file or of standard input: refused when too large or not text (a NUL byte near the start). */
function readText(file: string): string {
  const bytes = readBounded(file);
  const nul = bytes.subarray(0, BINARY_PROBE_BYTES).indexOf(0);
  if (nul >= 0) throw new ManifestError(`${file === '-' ? 'stdin' : file}: not a text file (a NUL byte at offset ${nul})`);
  return bytes.toString('utf-8');
}

/** The objects in one YAML/JSON text. Throws ManifestError on a syntax error. */
export function parseManifests(text: string, file: string): ManifestDocument[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  // parseAllDocuments returns an EmptyStream (not an array) for empty input.
  if (!Array.isArray(docs)) return [];
  const out: ManifestDocument[] = [];
  const lineOf = (node: Node | null | undefined, fallback: number) => (node?.range ? lines.linePos(node.range[0]).line : fallback);
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = lines.linePos(err.pos[0]).line;
      throw new ManifestError(`${file}:${line}: YAML syntax error: ${err.message.split('\n', 1)[0]}`);
    }
    let object: unknown;
    try {
      object = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // An alias bomb or similar: refused, not expanded.
      throw new ManifestError(`${file}:${lineOf(doc.contents, 1)}: cannot read document: ${(e as Error).message}`);
    }
    if (object === null || object === undefined) continue;
    const line = lineOf(doc.contents, 1);
    const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
    const kind = (object as { kind?: unknown }).kind;
    if (typeof kind === 'string' && kind.endsWith('List') && isSeq(items)) {
      const values = (object as { items: unknown[] }).items;
      values.forEach((item, i) => {
        const node = items.items[i] as Node;
        const d = { file, line: lineOf(node, line), object: item };
        if (node?.range) locators.set(d, yamlLocator(node, lines));
        out.push(d);
      });
    } else {
      const d = { file, line, object };
      if (doc.contents?.range) locators.set(d, yamlLocator(doc.contents, lines));
      out.push(d);
    }
  }
  return out;
}

/** Why a parsed document is no Kubernetes object (it has no string `apiVersion` and `kind`), or undefined. */
function notAnObject(object: unknown): string | undefined {
  if (Array.isArray(object)) return 'a list';
  if (typeof object !== 'object' || object === null) return `a ${typeof object}`;
  const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' && typeof kind !== 'string') return 'no apiVersion and no kind';
  if (typeof apiVersion !== 'string') return 'no apiVersion';
  if (typeof kind !== 'string') return 'no kind';
  return undefined;
}

/**
 * All objects in the given files and directories, in order. Documents that are
 * not Kubernetes objects (a scalar, a list, no `apiVersion` or `kind`) are
 * left out with a line in `notes`, as are what expandPaths skips.
 */
export function loadManifests(paths: readonly string[], notes: string[] = []): ManifestDocument[] {
  return expandPaths(paths, notes).flatMap((f) => {
    const text = readText(f);
    const name = f === '-' ? 'stdin' : f;
    const json = /\.json$/i.test(f) ? parseJsonManifest(text, name) : undefined;
    if (!json && Buffer.byteLength(text) > MAX_YAML_BYTES) {
      throw new ManifestError(
        `${name}: ${MiB(Buffer.byteLength(text))} of YAML, over the ${MiB(MAX_YAML_BYTES)} limit for YAML (the parser takes seconds per MiB); split it, or give it as a .json file`,
      );
    }
    const docs = json ?? parseManifests(text, name);
    return docs.filter((d) => {
      const why = notAnObject(d.object);
      if (why) notes.push(`${d.file}:${d.line}: skipped: not a Kubernetes object (${why})`);
      return !why;
    });
  });
}

/**
 * A `.json` file read with `JSON.parse`, its object (or the items of a `List`)
 * located by jsonc-parser's scanner (a token loop, no recursion) for their line numbers: a 15 MiB state
 * file then takes a fraction of a second and little memory, where the YAML
 * parser's document model takes seconds and a gigabyte. Undefined when the
 * text is not valid JSON, so the YAML path reports the error with its line.
 */
export function parseJsonManifest(text: string, file: string): ManifestDocument[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return [];
  // Lines (1-based) of the top-level value and of each value in its top-level `items` array, from
  // the scanner's tokens: a flat loop, where a recursive-descent walk overflows the stack on a
  // deeply nested value that JSON.parse accepts.
  let topLine = 1;
  const itemLines: number[] = [];
  let depth = 0;
  let expectKey = false; // in the top-level object: the next string is a property name
  let itemsNext = false; // the top-level property being read is `items`
  let inItems = false; // inside the top-level `items` array
  const scanner = createScanner(text, true);
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    const line = scanner.getTokenStartLine() + 1;
    switch (token) {
      case SyntaxKind.OpenBraceToken:
      case SyntaxKind.OpenBracketToken:
        if (depth === 0) topLine = line;
        else if (inItems && depth === 2) itemLines.push(line);
        if (token === SyntaxKind.OpenBracketToken && depth === 1 && itemsNext) inItems = true;
        depth++;
        if (depth === 1) expectKey = token === SyntaxKind.OpenBraceToken;
        break;
      case SyntaxKind.CloseBraceToken:
      case SyntaxKind.CloseBracketToken:
        depth--;
        if (depth === 1) inItems = false;
        break;
      case SyntaxKind.CommaToken:
        if (depth === 1) expectKey = true;
        break;
      case SyntaxKind.ColonToken:
        if (depth === 1) expectKey = false;
        break;
      default:
        if (depth === 1 && expectKey && token === SyntaxKind.StringLiteral) itemsNext = scanner.getTokenValue() === 'items';
        else if (inItems && depth === 2) itemLines.push(line);
    }
  }
  // The syntax tree, for field positions: built on the first request only (most files have no finding).
  let built: { root: JsonNode | undefined; lineStarts: number[] } | undefined;
  const tree = () => {
    if (!built) {
      let root: JsonNode | undefined;
      try {
        root = parseTree(text);
      } catch {
        // A nesting too deep for the recursive parser: document lines only.
      }
      const lineStarts = [0];
      for (const m of text.matchAll(/\r\n?|\n/g)) lineStarts.push(m.index + m[0].length);
      built = { root, lineStarts };
    }
    return built;
  };
  const located = (d: ManifestDocument, base: readonly string[]) => {
    locators.set(d, jsonLocator(tree, base));
    return d;
  };
  const kind = (value as { kind?: unknown }).kind;
  const items = (value as { items?: unknown }).items;
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items)) {
    return items.map((object, i) => located({ file, line: itemLines[i] ?? topLine, object }, ['items', String(i)]));
  }
  return [located({ file, line: topLine, object: value }, [])];
}

/**
 * Adds manifests to a state (a new one by default). Objects of kept kinds
 * whose fields have the wrong types are reported as problems, one line each.
 */
export function addToState(docs: readonly ManifestDocument[], state = new MemoryClusterState(), defaultNamespace = 'default') {
  const problems: string[] = [];
  for (const d of docs) {
    const r = state.apply(d.object, defaultNamespace);
    if (r.status === 'invalid') problems.push(`${d.file}:${d.line}: ${r.resource} ignored: ${r.reason}`);
  }
  return { state, problems };
}
