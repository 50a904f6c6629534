/**
 * Reads what the cluster state says about the ECK licence, the way ECK
 * publishes it, without ever returning Secret content.
 *
 * - ConfigMap `elastic-licensing` in the operator namespace, written by the
 *   operator every 2 minutes: `eck_license_level` (`basic`, `enterprise`,
 *   `enterprise_trial`, legacy `enterprise-trial`) and
 *   `eck_license_expiry_date` (RFC 3339, only when a licence exists).
 * - Licence Secrets in the operator namespace labelled
 *   `license.k8s.elastic.co/scope=operator`: exactly one data key (base64 in
 *   `data`, or plain in `stringData`) holding JSON
 *   `{"license":{"type","start_date_in_millis","expiry_date_in_millis",...}}`.
 * - Trial Secrets: label `license.k8s.elastic.co/type=enterprise_trial` and
 *   annotation `elastic.co/eula: accepted`. Their licence JSON is used when
 *   present; otherwise the trial runs 30 days from `creationTimestamp`
 *   (from now when that is missing: a trial just being created).
 *
 * Only the operator can verify a licence's signature; this module checks type
 * and dates. Problems with a Secret are reported as a reason (for example
 * "its data is not valid JSON"), never with the data itself.
 *
 * Source: ECK pkg/license/license.go (`LicensingCfgMapName`,
 * `LicensingInfo.toMap`), pkg/license/reporter.go (`ResourceReporterFrequency`,
 * 2 minutes), pkg/controller/common/license (labels.go `LicenseLabelScope`,
 * `LicenseLabelType`, `EULAAnnotation`; model.go `LicenseTypeEnterpriseTrial`,
 * `LicenseTypeLegacyTrial`; parser.go `FetchLicenseData`);
 * https://www.elastic.co/docs/deploy-manage/license/manage-your-license-in-eck.
 */
import { z } from 'zod';
import { memoizeByObject } from '../../common/memo.js';
import type { ConfigMap, Secret } from '../../kube/core.js';
import { LICENSE_SCOPE_LABEL, LICENSE_TYPE_LABEL, LICENSING_CONFIGMAP } from '../../kube/elasticsearch.js';
import { formatKey, type ObjectKey } from '../../kube/meta.js';
import type { EckState } from '../../state/eck-state.js';

export const EULA_ANNOTATION = 'elastic.co/eula';
/** Licence types (ConfigMap levels and Secret `license.type`) that allow remote clusters. */
export const ENTERPRISE_TYPES: ReadonlySet<string> = new Set(['enterprise', 'enterprise_trial', 'enterprise-trial']);
/** Length of an ECK enterprise trial. */
export const TRIAL_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What the `elastic-licensing` ConfigMap says. */
export interface ConfigMapReport {
  key: ObjectKey;
  /** `eck_license_level`, undefined when the key is missing. */
  level: string | undefined;
  /** `eck_license_expiry_date` when it parses as a date. */
  expiry: Date | undefined;
  /** The raw expiry string when present but not a date. */
  badExpiry: string | undefined;
  /** An enterprise level with an expiry after now. */
  inForce: boolean;
}

/** A licence Secret whose type and dates allow remote clusters now. */
export interface AcceptedSecret {
  key: ObjectKey;
  type: string;
  start: Date;
  expiry: Date;
  /** A trial Secret (label and EULA annotation). */
  trial: boolean;
  /** For a trial without licence JSON: the 30 days were counted from `creationTimestamp` (or from now). */
  fromCreation: boolean;
}

/** A licence Secret that does not count, and why (never its content). */
export interface RejectedSecret {
  key: ObjectKey;
  reason: string;
}

export interface LicenseReport {
  configMap: ConfigMapReport | undefined;
  accepted: AcceptedSecret[];
  rejected: RejectedSecret[];
}

/** A date from epoch millis, undefined when out of range (so formatting never throws). */
function dateOfMillis(ms: number): Date | undefined {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function parseDate(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** A licence type fit to print: short and plain, otherwise described generically. */
function printableType(type: string): string {
  return /^[A-Za-z0-9_-]{1,32}$/.test(type) ? `"${type}"` : 'an unknown type';
}

/** What a licensing ConfigMap says, independent of the time: derived once per stored object. */
const configMapFacts = memoizeByObject((cm: ConfigMap): Omit<ConfigMapReport, 'inForce'> => {
  const level = cm.data?.['eck_license_level'];
  const rawExpiry = cm.data?.['eck_license_expiry_date'];
  const expiry = parseDate(rawExpiry);
  return {
    key: { namespace: cm.metadata.namespace ?? '', name: cm.metadata.name ?? '' },
    level,
    expiry,
    badExpiry: rawExpiry !== undefined && expiry === undefined ? rawExpiry : undefined,
  };
});

function readConfigMap(cm: ConfigMap, now: Date): ConfigMapReport {
  const facts = configMapFacts(cm);
  const inForce = facts.level !== undefined && ENTERPRISE_TYPES.has(facts.level) && facts.expiry !== undefined && facts.expiry > now;
  return { ...facts, inForce };
}

const LicenseJson = z.object({
  license: z.object({
    type: z.string(),
    start_date_in_millis: z.number(),
    expiry_date_in_millis: z.number(),
  }),
});

/** The one licence document of a Secret (decoded), or why there is none. */
function payloadOf(secret: Secret): { text: string } | { reason: string } {
  const entries = new Map<string, string>();
  for (const [k, v] of Object.entries(secret.data ?? {})) entries.set(k, Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) entries.set(k, v);
  if (entries.size === 0) return { reason: 'it has no data' };
  if (entries.size > 1) return { reason: `it has ${entries.size} data keys where ECK expects exactly one` };
  return { text: [...entries.values()][0] ?? '' };
}

type License = z.infer<typeof LicenseJson>['license'];

/** The licence document of a Secret (base64, JSON and schema), decoded once per stored object. */
const licenseOf = memoizeByObject((secret: Secret): { license: License } | { reason: string } => {
  const payload = payloadOf(secret);
  if ('reason' in payload) return payload;
  let json: unknown;
  try {
    json = JSON.parse(payload.text);
  } catch {
    // The parser's message quotes the input: never pass it on.
    return { reason: 'its data is not valid JSON' };
  }
  const parsed = LicenseJson.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.map(String).join('.') || 'the document'))].join(', ');
    return { reason: `its licence JSON is missing or has wrong types for ${fields}` };
  }
  return { license: parsed.data.license };
});

/** Checks type and dates of a licence; `trial` marks trial Secrets. */
function judge(key: ObjectKey, license: License, trial: boolean, now: Date): AcceptedSecret | RejectedSecret {
  if (!ENTERPRISE_TYPES.has(license.type)) {
    return { key, reason: `its licence type ${printableType(license.type)} is not enterprise or enterprise_trial` };
  }
  const start = dateOfMillis(license.start_date_in_millis);
  const expiry = dateOfMillis(license.expiry_date_in_millis);
  if (!start || !expiry) return { key, reason: 'its licence dates are out of range' };
  if (expiry <= now) return { key, reason: `its ${license.type} licence expired on ${expiry.toISOString()}` };
  if (start > now) return { key, reason: `its ${license.type} licence only starts on ${start.toISOString()}` };
  return { key, type: license.type, start, expiry, trial, fromCreation: false };
}

function isTrialSecret(s: Secret): boolean {
  return s.metadata.labels?.[LICENSE_TYPE_LABEL] === 'enterprise_trial';
}

function readSecret(secret: Secret, now: Date): AcceptedSecret | RejectedSecret {
  const key = { namespace: secret.metadata.namespace ?? '', name: secret.metadata.name ?? '' };
  const trial = isTrialSecret(secret);
  if (trial && secret.metadata.annotations?.[EULA_ANNOTATION] !== 'accepted') {
    return { key, reason: `it is a trial Secret without the annotation ${EULA_ANNOTATION}: accepted` };
  }
  const found = licenseOf(secret);
  if ('license' in found) return judge(key, found.license, trial, now);
  if (!trial) return { key, reason: found.reason };
  // A trial the operator has not filled in yet: 30 days from its creation.
  const created = parseDate(secret.metadata.creationTimestamp) ?? now;
  const expiry = new Date(created.getTime() + TRIAL_DAYS * DAY_MS);
  if (expiry <= now)
    return { key, reason: `its ${TRIAL_DAYS}-day trial started ${created.toISOString()} ended on ${expiry.toISOString()}` };
  return { key, type: 'enterprise_trial', start: created, expiry, trial: true, fromCreation: true };
}

/** Everything the state says about the licence in `operatorNamespace` at `now`. */
export function readLicense(state: EckState, operatorNamespace: string, now: Date): LicenseReport {
  const cm = state.getConfigMap({ namespace: operatorNamespace, name: LICENSING_CONFIGMAP });
  const secrets = new Map<string, Secret>();
  for (const s of [
    ...state.secretsWithLabel(operatorNamespace, LICENSE_SCOPE_LABEL, 'operator'),
    ...state.secretsWithLabel(operatorNamespace, LICENSE_TYPE_LABEL, 'enterprise_trial'),
  ]) {
    secrets.set(formatKey({ namespace: s.metadata.namespace ?? '', name: s.metadata.name ?? '' }), s);
  }
  const accepted: AcceptedSecret[] = [];
  const rejected: RejectedSecret[] = [];
  for (const [, secret] of [...secrets.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const r = readSecret(secret, now);
    if ('reason' in r) rejected.push(r);
    else accepted.push(r);
  }
  // Longest-lasting first: that is the one to name.
  accepted.sort((a, b) => b.expiry.getTime() - a.expiry.getTime());
  return { configMap: cm && readConfigMap(cm, now), accepted, rejected };
}
