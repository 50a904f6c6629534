/**
 * Elastic's remote-cluster version compatibility table, local cluster version
 * against remote cluster version, compared on `major.minor` only.
 *
 * Source:
 * Elastic docs "Remote clusters on ECK"
 * (https://www.elastic.co/docs/deploy-manage/remote-clusters/eck-remote-clusters-landing#prerequisites),
 * "Version compatibility table" (table source: elastic/docs-content
 * deploy-manage/remote-clusters/_snippets/remote-cluster-certificate-compatibility.md),
 * local 7.17 to 9.3 against remote 7.17 to 9.3, transcribed row by row below as the
 * remote ranges each local minor reaches. The table is not symmetric despite
 * its preamble: 8.19 → 9.0 is compatible while 9.0 → 8.19 is not; 8.0 → 7.17
 * is while 8.1 → 7.17 is not; 9.0 → 8.18 is.
 *
 * Beyond the table, its pattern is continued: a local 9.N (N ≥ 4) reaches
 * 9.(N-1) and every later 9.x, and every row that reaches 9.x reaches all
 * later 9.x minors. Versions the table cannot speak for are `uncovered`:
 * anything before 7.17, a 7.x after 7.17 or an 8.x after 8.19 (8.19 is the
 * final 8.x minor, per the table's note), and a major beyond 9.
 */
import { formatMajorMinor, type MajorMinor } from './version.js';

/** An inclusive range of remote versions; `*` as minor means "and every later minor of that major". */
type RangeText = readonly [from: string, to: string];

/** Per local minor, the remote ranges it can connect to (Elastic's compatibility table, every ✅ cell). */
const TABLE_ROWS: ReadonlyArray<readonly [local: string, remotes: readonly RangeText[]]> = [
  ['7.17', [['7.17', '8.19']]],
  ['8.0', [['7.17', '8.19']]],
  ['8.1', [['8.0', '8.19']]],
  ['8.2', [['8.1', '8.19']]],
  ['8.3', [['8.2', '8.19']]],
  ['8.4', [['8.3', '8.19']]],
  ['8.5', [['8.4', '8.19']]],
  ['8.6', [['8.5', '8.19']]],
  ['8.7', [['8.6', '8.19']]],
  ['8.8', [['8.7', '8.19']]],
  ['8.9', [['8.8', '8.19']]],
  ['8.10', [['8.9', '8.19']]],
  ['8.11', [['8.10', '8.19']]],
  ['8.12', [['8.11', '8.19']]],
  ['8.13', [['8.12', '8.19']]],
  ['8.14', [['8.13', '8.19']]],
  ['8.15', [['8.14', '8.19']]],
  ['8.16', [['8.15', '8.19']]],
  ['8.17', [['8.16', '8.19']]],
  [
    '8.18',
    [
      ['8.17', '8.19'],
      ['9.0', '9.0'],
    ],
  ],
  [
    '8.19',
    [
      ['8.18', '8.19'],
      ['9.0', '9.*'],
    ],
  ],
  [
    '9.0',
    [
      ['8.18', '8.18'],
      ['9.0', '9.*'],
    ],
  ],
  ['9.1', [['9.0', '9.*']]],
  ['9.2', [['9.1', '9.*']]],
  ['9.3', [['9.2', '9.*']]],
];

interface Range {
  from: MajorMinor;
  /** Inclusive; minor `Infinity` for `N.*`. */
  to: MajorMinor;
}

function parseBound(text: string): MajorMinor {
  const [major, minor] = text.split('.');
  return { major: Number(major), minor: minor === '*' ? Infinity : Number(minor) };
}

const ROWS: ReadonlyMap<string, readonly Range[]> = new Map(
  TABLE_ROWS.map(([local, ranges]) => [local, ranges.map(([from, to]) => ({ from: parseBound(from), to: parseBound(to) }))]),
);

function compare(a: MajorMinor, b: MajorMinor): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** Whether the table (or its continued 9.x pattern) speaks for `v`. */
export function isCovered(v: MajorMinor): boolean {
  if (v.major === 7) return v.minor === 17;
  if (v.major === 8) return v.minor <= 19;
  return v.major === 9;
}

/** The remote ranges a covered local version reaches. */
function rowFor(local: MajorMinor): readonly Range[] {
  const row = ROWS.get(formatMajorMinor(local));
  if (row) return row;
  // Only 9.N with N beyond the table is covered without a row: 9.(N-1) and later.
  return [{ from: { major: 9, minor: local.minor - 1 }, to: { major: 9, minor: Infinity } }];
}

export type Compatibility = 'compatible' | 'incompatible' | 'uncovered';

/** Can a local cluster at `local` use a remote cluster at `remote`? */
export function compatibility(local: MajorMinor, remote: MajorMinor): Compatibility {
  if (!isCovered(local) || !isCovered(remote)) return 'uncovered';
  const reachable = rowFor(local).some((r) => compare(r.from, remote) <= 0 && compare(remote, r.to) <= 0);
  return reachable ? 'compatible' : 'incompatible';
}

function describeRange(r: Range): string {
  if (r.to.minor === Infinity) return `${formatMajorMinor(r.from)} or any later ${r.from.major}.x`;
  if (compare(r.from, r.to) === 0) return formatMajorMinor(r.from);
  return `${formatMajorMinor(r.from)} to ${formatMajorMinor(r.to)}`;
}

/** `8.16 to 8.19`, `8.18 and 9.0 or any later 9.x`: the remotes a covered local version reaches, for messages. */
export function describeReach(local: MajorMinor): string {
  return rowFor(local).map(describeRange).join(' and ');
}
