/**
 * Elasticsearch version strings as ECK accepts them in `spec.version`:
 * `8.16.1`, `8.16.1-SNAPSHOT`, and (leniently) `8.16`.
 *
 * Source: ECK pkg/apis/elasticsearch/v1/remote_cluster.go
 * (`RemoteClusterAPIKeysMinVersion` = 8.10.0); parsing with `semver`.
 */
import semver from 'semver';
import { memoizeText } from '../../common/memo.js';

export interface EsVersion {
  major: number;
  minor: number;
  patch: number;
  /** The string as written. */
  raw: string;
}

/** A version that is only compared on major and minor (the compatibility table's granularity). */
export interface MajorMinor {
  major: number;
  minor: number;
}

/** Strict semver first; otherwise a string that starts with `major.minor` is coerced (`8.16` → 8.16.0). */
const LEADING_MAJOR_MINOR = /^v?\d+\.\d+/;

/** Parses `raw`; undefined for anything that is not a version (`latest`, `""`, `8`). Memoised: every request parses its own version and its remotes'. */
export function parseEsVersion(raw: string | undefined): EsVersion | undefined {
  return raw === undefined ? undefined : parseMemo(raw);
}

const parseMemo = memoizeText((raw: string): EsVersion | undefined => {
  const text = raw.trim();
  const strict = semver.parse(text);
  const parsed = strict ?? (LEADING_MAJOR_MINOR.test(text) ? semver.coerce(text) : null);
  if (!parsed) return undefined;
  return { major: parsed.major, minor: parsed.minor, patch: parsed.patch, raw };
});

/** `8.16`. */
export function formatMajorMinor(v: MajorMinor): string {
  return `${v.major}.${v.minor}`;
}

/**
 * True when `v` is at least `major.minor.patch`. Pre-release tags are ignored
 * (`8.10.0-SNAPSHOT` counts as 8.10.0): a snapshot of a release has its features.
 */
export function atLeast(v: EsVersion, major: number, minor: number, patch: number): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

/**
 * Minimum Elasticsearch version for `remoteClusters[].apiKey` and
 * `remoteClusterServer.enabled` (ECK pkg/apis/elasticsearch/v1/remote_cluster.go
 * `RemoteClusterAPIKeysMinVersion`; 8.9.x is rejected by ECK's own webhook,
 * pkg/controller/elasticsearch/validation/validations.go
 * `supportsRemoteClusterUsingAPIKey`).
 */
export const API_KEY_MIN_VERSION = { major: 8, minor: 10, patch: 0, text: '8.10.0' } as const;

/** True when `v` supports the API-key security model. */
export function supportsApiKeys(v: EsVersion): boolean {
  return atLeast(v, API_KEY_MIN_VERSION.major, API_KEY_MIN_VERSION.minor, API_KEY_MIN_VERSION.patch);
}
