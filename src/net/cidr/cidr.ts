/**
 * IPv4 and IPv6 CIDR blocks: parsed once with ipaddr.js into
 * `{family, bits, prefixLength, prefix}` (the network as an integer and as a
 * string of its prefix bits), and printed back in one canonical form.
 * Containment and the trie in cidr-trie.ts work on `prefix`: string prefix
 * tests allocate nothing, where every BigInt shift or mask allocates, and an
 * IPPool request makes several overlap queries.
 *
 * Parsing is stricter than ipaddr.js and follows Go's `net.ParseCIDR`, which
 * Calico uses (`cnet.ParseCIDROrIP`): IPv4 in dotted-quad decimal only (no
 * `10.1`, no octal `010.0.0.0`, no hex), no IPv6 zone (`%eth0`), no spaces, a
 * decimal prefix length without leading zeros. Like Calico, a bare address is
 * accepted where `allowBareAddress` is set and means a host prefix (/32, /128).
 *
 * Two CIDR blocks overlap iff one contains the other (prefixes nest or are
 * disjoint), which is what the trie in cidr-trie.ts relies on.
 */
import ipaddr from 'ipaddr.js';
import { memoizeText } from '../../common/memo.js';

export type IpFamily = 4 | 6;

/** Address width in bits per family. */
export const FAMILY_WIDTH: Readonly<Record<IpFamily, number>> = { 4: 32, 6: 128 };

/** A parsed CIDR block. `bits` is the network address (host bits cleared) as an unsigned integer. */
export interface Cidr {
  family: IpFamily;
  /** Network address as a `FAMILY_WIDTH[family]`-bit unsigned integer, host bits zero. */
  bits: bigint;
  /** Prefix length in bits: 0..32 (IPv4) or 0..128 (IPv6). */
  prefixLength: number;
  /**
   * The first `prefixLength` bits of the network address as `0`/`1`
   * characters (`10.0.0.0/8` → `"00001010"`, `::/0` → `""`): block A contains
   * block B of the same family iff B's prefix starts with A's.
   */
  prefix: string;
  /** Masked, canonical text: `10.0.0.0/24`, `2001:db8::/32` (RFC 5952 for IPv6). */
  canonical: string;
  /** False when the text had host bits set (`10.0.0.5/24`): Calico rejects such pool CIDRs. */
  strictlyMasked: boolean;
}

export type CidrParseResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

export interface ParseOptions {
  /** Accept `10.0.0.1` as `10.0.0.1/32` (and an IPv6 address as /128), as Calico's ParseCIDROrIP does. */
  allowBareAddress?: boolean;
}

const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

function bytesToBigInt(bytes: readonly number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function bigIntToBytes(v: bigint, width: number): number[] {
  const out = new Array<number>(width / 8);
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** `bits` with everything after the first `prefixLength` bits cleared. */
export function maskBits(bits: bigint, width: number, prefixLength: number): bigint {
  if (prefixLength <= 0) return 0n;
  const shift = BigInt(width - prefixLength);
  return (bits >> shift) << shift;
}

/**
 * The Cidr of a network given as an integer: `raw` is masked to `prefixLength`
 * bits; `strictlyMasked` says whether it already was.
 */
export function cidrOf(family: IpFamily, raw: bigint, prefixLength: number): Cidr {
  const width = FAMILY_WIDTH[family];
  const bits = maskBits(raw, width, prefixLength);
  return {
    family,
    bits,
    prefixLength,
    prefix: bits.toString(2).padStart(width, '0').slice(0, prefixLength),
    canonical: formatCidr(family, bits, prefixLength),
    strictlyMasked: bits === raw,
  };
}

/** Canonical text of a network: `10.0.0.0/24`, `fe80::/10`. */
export function formatCidr(family: IpFamily, bits: bigint, prefixLength: number): string {
  const addr = ipaddr.fromByteArray(bigIntToBytes(bits, FAMILY_WIDTH[family]));
  const text = addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
  return `${text}/${prefixLength}`;
}

/**
 * The characters an IPv6 address (with an embedded IPv4 tail) and a dotted
 * quad can have: anything else is refused before ipaddr.js, whose validity
 * checks throw and catch an Error per invalid text (a list of 100k invalid
 * entries then takes seconds).
 */
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;
const DOTTED_QUAD = /^\d+\.\d+\.\d+\.\d+$/;

/** Parses one address (no prefix) strictly; undefined when it is not a plain IPv4 or IPv6 address. */
function parseAddress(text: string): { family: IpFamily; bits: bigint } | undefined {
  if (text.includes('%')) return undefined; // zoned IPv6 (fe80::1%eth0): not a network
  if (text.includes(':')) {
    if (!IPV6_CHARS.test(text) || !ipaddr.IPv6.isValid(text)) return undefined;
    return { family: 6, bits: bytesToBigInt(ipaddr.IPv6.parse(text).toByteArray()) };
  }
  if (!DOTTED_QUAD.test(text) || !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return { family: 4, bits: bytesToBigInt(ipaddr.IPv4.parse(text).toByteArray()) };
}

/**
 * Parses `10.0.0.0/16` or `fd00:10::/64`. The reason of a failure is a phrase
 * that does not repeat the input ("is not an IPv4 or IPv6 CIDR such as 10.0.0.0/16").
 */
function parseCidrUncached(text: string, options: ParseOptions): CidrParseResult {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  if (prefixText === undefined && !options.allowBareAddress) {
    return { ok: false, reason: 'has no prefix length; write it as address/prefix, for example 10.0.0.0/16 or fd00::/48' };
  }
  const addr = parseAddress(addrText);
  if (!addr) {
    return { ok: false, reason: 'is not an IPv4 or IPv6 CIDR such as 10.0.0.0/16 or fd00::/48' };
  }
  const width = FAMILY_WIDTH[addr.family];
  let prefixLength = width;
  if (prefixText !== undefined) {
    if (!PREFIX.test(prefixText)) {
      return { ok: false, reason: `has an invalid prefix length; use a decimal number from 0 to ${width}` };
    }
    prefixLength = Number(prefixText);
    if (prefixLength > width) {
      return { ok: false, reason: `has prefix length ${prefixLength}, more than the ${width} bits of an IPv${addr.family} address` };
    }
  }
  return { ok: true, cidr: cidrOf(addr.family, addr.bits, prefixLength) };
}

const parseStrict = memoizeText((text) => parseCidrUncached(text, {}));
const parseLenient = memoizeText((text) => parseCidrUncached(text, { allowBareAddress: true }));

/**
 * Parses a CIDR (see the rules above). Results are frozen and memoised
 * (`memoizeText`; a CIDR is at most 43 characters): every IPPool request
 * parses its own CIDR and those of the entries it overlaps several times
 * (about 2 µs for IPv4, 6 µs for IPv6 each, ipaddr.js).
 */
export function parseCidr(text: string, options: ParseOptions = {}): CidrParseResult {
  return options.allowBareAddress ? parseLenient(text) : parseStrict(text);
}

/** True when `outer` contains `inner` (equal blocks contain each other). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.prefix.startsWith(outer.prefix);
}

/** True when the blocks share at least one address: one contains the other. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** One entry of a comma-separated CIDR list that did not parse. */
export interface CidrListError {
  /** The entry as written (trimmed). */
  entry: string;
  /** 1-based position in the list. */
  position: number;
  reason: string;
}

export interface ParsedCidrList {
  cidrs: { written: string; cidr: Cidr }[];
  errors: CidrListError[];
}

/**
 * Parses a comma-separated list such as `10.8.0.0/16, fd00:8::/56`. Entries
 * are trimmed; empty entries (a trailing comma) are skipped. Bare addresses
 * are accepted as host prefixes.
 */
export function parseCidrList(text: string): ParsedCidrList {
  const out: ParsedCidrList = { cidrs: [], errors: [] };
  text.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === '') return;
    const r = parseCidr(entry, { allowBareAddress: true });
    if (r.ok) out.cidrs.push({ written: entry, cidr: r.cidr });
    else out.errors.push({ entry, position: i + 1, reason: r.reason });
  });
  return out;
}

/** Link-local ranges Calico forbids pools to overlap (validator `overlapsV4LinkLocal`/`overlapsV6LinkLocal`). */
export const LINK_LOCAL: Readonly<Record<IpFamily, Cidr>> = {
  4: mustParse('169.254.0.0/16'),
  6: mustParse('fe80::/10'),
};

/** Parses a CIDR known to be valid (constants); throws otherwise. */
export function mustParse(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`invalid CIDR constant ${text}: ${r.reason}`);
  return r.cidr;
}
