/**
 * `calico-pool-spec` (deny): the IPPool checks Calico's validator and client
 * make on `projectcalico.org/v3`, which objects applied through
 * `crd.projectcalico.org/v1` did not get before Calico v3.32 (from v3.32.0
 * most of them are also CEL rules, `+kubebuilder:validation:XValidation`, on
 * `IPPoolSpec` in projectcalico/calico api/pkg/apis/projectcalico/v3/ippool.go,
 * so CRDs of that version enforce them too).
 *
 * Mirrors projectcalico/calico v3.31.0 `libcalico-go/lib/validator/v3/validator.go`
 * (`validateIPPoolSpec`) and the IPPool client's defaulting
 * (`libcalico-go/lib/clientv3/ippool.go` `(ipPools).validateAndSetDefaults`):
 * - `spec.cidr` is required and must parse (IPv4 or IPv6; a bare address is a
 *   host prefix, as `cnet.ParseCIDROrIP` accepts it);
 * - the CIDR is strictly masked (`10.0.0.5/24` is rejected; the message gives
 *   `10.0.0.0/24`);
 * - `spec.blockSize` (a prefix length in bits) is 20..32 for IPv4 and
 *   116..128 for IPv6; unset or 0 means the default, 26 / 122;
 * - an enabled pool (`disabled` not true) is at least as large as one block:
 *   prefix length ≤ block size;
 * - `ipipMode` / `vxlanMode` are `Never`, `Always` or `CrossSubnet` ("" = unset);
 *   IPIP and VXLAN are not both on (anything but Never/unset); no IPIP on IPv6
 *   (read after the legacy `ipip` spelling of a crd/v1 pool is mapped, and
 *   reported at `spec.ipip` when that spelling decided the mode);
 * - no overlap with the link-local ranges 169.254.0.0/16 and fe80::/10;
 * - `allowedUses` values are `Workload`, `Tunnel` or `LoadBalancer` (the enum of
 *   the current v3 `IPPoolAllowedUse`), `assignmentMode` is `Automatic` or `Manual`;
 * - on UPDATE `spec.cidr` and the effective block size are unchanged
 *   (compared normalised: `2001:DB8:0::/32` and `2001:db8::/32` are the same
 *   CIDR, an unset and an explicit default block size the same size). An old
 *   object whose CIDR never parsed may be corrected.
 */
import { deny, type Finding } from '../../engine/finding.js';
import { fieldPath } from '../../common/field-path.js';
import type { Rule } from '../../engine/rule.js';
import { legacySpelling, type IPPool } from '../../kube/calico.js';
import { cidrOverlaps, LINK_LOCAL, parseCidr, type Cidr, type IpFamily } from '../../net/cidr/cidr.js';
import { displayName, listWords, poolCidr, quote } from './common.js';

export const POOL_SPEC_RULE = 'calico-pool-spec';

/** Block size bounds and defaults per family (Calico IPAM). */
export const BLOCK_SIZE: Readonly<Record<IpFamily, { min: number; max: number; default: number }>> = {
  4: { min: 20, max: 32, default: 26 },
  6: { min: 116, max: 128, default: 122 },
};

export const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'] as const;
export const ALLOWED_USES = ['Workload', 'Tunnel', 'LoadBalancer'] as const;
export const ASSIGNMENT_MODES = ['Automatic', 'Manual'] as const;

const LINK_LOCAL_NAME: Readonly<Record<IpFamily, string>> = {
  4: 'IPv4 link-local range 169.254.0.0/16',
  6: 'IPv6 link-local range fe80::/10',
};

/** The block size Calico uses: the explicit one, or the family default when unset or 0. */
export function effectiveBlockSize(pool: IPPool, family: IpFamily): number {
  const bs = pool.spec?.blockSize;
  return bs === undefined || bs === 0 ? BLOCK_SIZE[family].default : bs;
}

/** True when an encapsulation mode is on: set to anything other than Never ("" counts as unset). */
function encapOn(mode: string | undefined): boolean {
  return mode !== undefined && mode !== '' && mode !== 'Never';
}

function validate(pool: IPPool, name: string, oldPool: IPPool | undefined): Finding[] {
  const spec = pool.spec ?? {};
  const findings: Finding[] = [];
  const at = (...segments: (string | number)[]) => fieldPath(['spec', ...segments]);
  const d = (segments: (string | number)[], message: string) => findings.push(deny(POOL_SPEC_RULE, at(...segments), message));

  let cidr: Cidr | undefined;
  if (!spec.cidr) {
    d(['cidr'], 'an IPPool needs a CIDR; set it to the pool range, for example 10.244.0.0/16 or fd00:10:244::/56');
  } else {
    const r = parseCidr(spec.cidr, { allowBareAddress: true });
    if (!r.ok) d(['cidr'], `${quote(spec.cidr)} ${r.reason}`);
    else {
      cidr = r.cidr;
      if (!cidr.strictlyMasked) {
        d(['cidr'], `${quote(spec.cidr)} has host bits set and Calico only accepts strictly masked CIDRs; write ${cidr.canonical}`);
      }
      const ll = LINK_LOCAL[cidr.family];
      if (cidrOverlaps(cidr, ll)) {
        d(
          ['cidr'],
          `${cidr.canonical} overlaps the ${LINK_LOCAL_NAME[cidr.family]}, which Calico does not allow in a pool; choose a range outside it`,
        );
      }
    }
  }

  if (cidr) {
    const bounds = BLOCK_SIZE[cidr.family];
    const bs = effectiveBlockSize(pool, cidr.family);
    if (bs < bounds.min || bs > bounds.max) {
      d(
        ['blockSize'],
        `block size ${bs} is out of range for an IPv${cidr.family} pool; use ${bounds.min} to ${bounds.max} (default ${bounds.default})`,
      );
    } else if (spec.disabled !== true && cidr.prefixLength > bs) {
      d(
        ['cidr'],
        `enabled IPPool ${displayName(name)} (${cidr.canonical}) is smaller than one /${bs} block, so Calico IPAM cannot use it; ` +
          `use a prefix of /${bs} or shorter, set blockSize to at least ${cidr.prefixLength}, or set disabled: true`,
      );
    }
  }

  const modes = listWords(ENCAP_MODES);
  for (const field of ['ipipMode', 'vxlanMode'] as const) {
    const v = spec[field];
    if (v && !(ENCAP_MODES as readonly string[]).includes(v)) d([field], `${quote(v)} is not a valid mode; use ${modes}`);
  }
  // A legacy `ipip` decides ipipMode (src/kube/calico.ts): name that field and how to turn it off there.
  const ipipField = legacySpelling(pool, 'ipipMode') ?? 'ipipMode';
  const ipipOff = ipipField === 'ipip' ? 'set ipip.enabled to false (ipip is the Calico v1 spelling of ipipMode)' : 'set ipipMode to Never';
  if (encapOn(spec.ipipMode) && encapOn(spec.vxlanMode)) {
    d(
      [ipipField],
      `IPIP (${spec.ipipMode}) and VXLAN (${spec.vxlanMode}) cannot both be enabled on one pool; ${ipipOff} or set vxlanMode to Never`,
    );
  }
  if (cidr?.family === 6 && encapOn(spec.ipipMode)) {
    d([ipipField], `IPIP is not supported on an IPv6 pool; ${ipipOff} (use vxlanMode for encapsulation)`);
  }

  (spec.allowedUses ?? []).forEach((use, i) => {
    if (!(ALLOWED_USES as readonly string[]).includes(use)) {
      d(['allowedUses', i], `${quote(use)} is not a known use; use ${listWords(ALLOWED_USES)}`);
    }
  });
  if (spec.assignmentMode && !(ASSIGNMENT_MODES as readonly string[]).includes(spec.assignmentMode)) {
    d(['assignmentMode'], `${quote(spec.assignmentMode)} is not a valid assignment mode; use ${listWords(ASSIGNMENT_MODES)}`);
  }

  if (oldPool) {
    const oldCidr = poolCidr(oldPool);
    if (oldCidr && cidr && oldCidr.canonical !== cidr.canonical) {
      d(
        ['cidr'],
        `the CIDR of an existing IPPool cannot change (it is ${oldCidr.canonical}); create a new pool, then disable and delete this one`,
      );
    }
    if (oldCidr && cidr && oldCidr.family === cidr.family) {
      const before = effectiveBlockSize(oldPool, oldCidr.family);
      const after = effectiveBlockSize(pool, cidr.family);
      if (before !== after) {
        d(
          ['blockSize'],
          `the block size of an existing IPPool cannot change (it is ${before}); create a new pool with the new block size and migrate to it`,
        );
      }
    }
  }
  return findings;
}

export const poolSpecRule: Rule<'IPPool'> = {
  id: POOL_SPEC_RULE,
  kind: 'IPPool',
  summary: "IPPool passes Calico's own checks: masked CIDR, block size, encapsulation modes, link-local, immutable CIDR and block size",
  validate: (input) => validate(input.object, input.name, input.operation === 'UPDATE' ? input.oldObject : undefined),
};
