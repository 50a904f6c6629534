/**
 * A denial or an audit violation as a Kubernetes Event (`events.k8s.io/v1`),
 * built to pass the API server's validation of that version
 * (k8s.io/kubernetes pkg/apis/core/validation/events.go, `ValidateEventCreate`
 * and `legacyValidateEvent`, v1.35.4):
 *
 * - `reason`, `action`: required, at most 128 bytes; any characters, so the
 *   reason `remote-cluster-guard/<rule>` (a slash included) is accepted.
 * - `note`: at most 1024 bytes.
 * - `reportingController`: a qualified name (`prefix/name`, the prefix a DNS
 *   subdomain, the name at most 63 characters).
 * - `reportingInstance`: required, at most 128 bytes.
 * - `eventTime` set, `type` Normal or Warning, `series.count` at least 2.
 * - An Event whose `regarding` has no namespace (a cluster-scoped object: an
 *   IPPool, a RemoteClusterConfiguration) must be in `default` or
 *   `kube-system`; client-go's recorder (tools/events `makeEvent`) puts it in
 *   `default`, and so does this webhook.
 */
import { randomUUID } from 'node:crypto';
import { oneLine } from '../../common/text.js';
import { EVENT_SOURCES, type EventSource } from '../../config/config-file.js';
import { formatFinding, type Finding } from '../../engine/finding.js';

/** Where Events come from (config-file.ts): a denied admission request, or a deny finding of the periodic audit on an existing object. */
export { EVENT_SOURCES, type EventSource };

/** `reportingController` of every Event. */
export const REPORTING_CONTROLLER = 'remote-cluster-guard.io/webhook';
/** The prefix of `reason`: `remote-cluster-guard/<rule>`. */
export const REASON_PREFIX = 'remote-cluster-guard/';
/** `action` per source. */
export const EVENT_ACTIONS: Readonly<Record<EventSource, string>> = { admission: 'Admit', audit: 'Audit' };

/** Limits of events.k8s.io/v1 validation, in bytes (Go's `len`). */
export const REASON_MAX_BYTES = 128;
export const NOTE_MAX_BYTES = 1024;
export const REPORTING_INSTANCE_MAX_BYTES = 128;

/** Where Events about cluster-scoped objects go (the only namespace besides kube-system the API server accepts for them). */
export const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';

/** The object an Event is about (`regarding`, a core/v1 ObjectReference). */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  /** "" for a cluster-scoped object. */
  namespace: string;
  name: string;
  /** `metadata.uid`, when the object exists (an UPDATE, an audited object). */
  uid?: string;
}

/** An Event as written (times in ms since the epoch; the sink writes them as MicroTime). */
export interface KubeEvent {
  namespace: string;
  name: string;
  regarding: ObjectReference;
  reason: string;
  action: string;
  note: string;
  type: 'Warning';
  reportingController: string;
  reportingInstance: string;
  eventTime: number;
  series?: { count: number; lastObservedTime: number };
}

/**
 * The namespace the Event goes in: the object's own when the object exists;
 * the webhook's (`webhookNamespace`) for a namespaced object that does not
 * (a denied CREATE), as Gatekeeper's admission events do; `default` for a
 * cluster-scoped object, which is all the API server accepts.
 */
export function eventNamespace(regarding: ObjectReference, exists: boolean, webhookNamespace: string): string {
  if (!regarding.namespace) return CLUSTER_SCOPED_EVENT_NAMESPACE;
  return exists ? regarding.namespace : webhookNamespace;
}

/** `s` cut to at most `max` UTF-8 bytes, on a character boundary, ending in `…` when cut. */
export function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  const ellipsis = '…';
  let budget = max - Buffer.byteLength(ellipsis, 'utf8');
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (n > budget) break;
    budget -= n;
    out += ch;
  }
  return out + ellipsis;
}

/** `remote-cluster-guard/<rule>`, within the reason limit. */
export function eventReason(rule: string): string {
  return truncateBytes(REASON_PREFIX + oneLine(rule), REASON_MAX_BYTES);
}

/**
 * The note of one rule's findings: `<field>: <message>` joined by `; `, on
 * one line, within 1024 bytes. Only finding messages, which never hold a
 * secret value (a rule's contract, engine/finding.ts), so no credential can
 * reach an Event.
 */
export function eventNote(findings: readonly Pick<Finding, 'field' | 'message'>[]): string {
  return truncateBytes(oneLine(findings.map(formatFinding).join('; ')), NOTE_MAX_BYTES);
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * `<object name>.<time in ns, hex>` as client-go's GenerateEventName
 * (tools/record/util), or a random UUID when that is no DNS subdomain of at
 * most 253 characters.
 */
export function eventName(objectName: string, nowMs: number, random: () => string = randomUUID): string {
  const name = `${objectName}.${(BigInt(Math.round(nowMs)) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
  return name.length <= 253 && DNS_SUBDOMAIN.test(name) ? name : random();
}

/** `apiVersion` of a group and version (`v1` for the core group). */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}
