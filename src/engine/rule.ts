/**
 * The rule contract. A rule is a pure function of (object, old object,
 * cluster state, clock): it returns findings and, when it mutates, RFC 6902
 * JSON Patch operations. The server, the CLI and the live state only feed
 * rules; they never decide anything themselves.
 *
 * Modelled on ECK's `pkg/controller/elasticsearch/validation`, where each check
 * is a small function returning field errors and the webhook runs a list.
 */
import type { Operation as JsonPatchOperation } from 'fast-json-patch';
import type { HandledKind, HandledObjects } from '../kube/kinds.js';
import type { ClusterState, StateResource } from '../state/cluster-state.js';
import type { Finding } from './finding.js';

/** One RFC 6902 operation; paths are JSON Pointers into the raw object. */
export type PatchOperation = JsonPatchOperation;

/** Everything outside the object that a rule may read. */
export interface RuleContext {
  state: ClusterState;
  /** The clock, so certificate and licence expiry checks stay pure and testable. */
  now: Date;
  /** Namespace of the ECK operator (licence ConfigMap and Secrets); default `elastic-system`. */
  operatorNamespace: string;
}

/** The admission operations rules run on; DELETE and CONNECT are always allowed. */
export type AdmissionOperation = 'CREATE' | 'UPDATE';

export interface RuleInput<T> {
  /** The decoded object as it would be stored (after earlier mutations). */
  object: T;
  /** The stored object on UPDATE; undefined on CREATE (or when it could not be decoded). */
  oldObject: T | undefined;
  operation: AdmissionOperation;
  /** Effective namespace: `metadata.namespace`, else the request's; "" for cluster-scoped kinds. */
  namespace: string;
  /** `metadata.name` ("" when the API server will generate it). */
  name: string;
  ctx: RuleContext;
}

/** What a mutating rule returns: patch operations against the raw object, and warnings to show with them. */
export interface Mutation {
  patch: PatchOperation[];
  findings: Finding[];
}

export interface Rule<K extends HandledKind = HandledKind> {
  /** Stable id, used in findings, logs, metrics and configuration. */
  id: string;
  kind: K;
  /** One line for the README table and `remote-cluster-guard rules`. */
  summary: string;
  /**
   * The state this rule reads (a list, or a function of the object when it
   * depends on it). While a live state has not synced one of them, the rule is
   * not run: its validation answers "cannot verify yet" instead.
   */
  needs?: readonly StateResource[] | ((object: HandledObjects[K]) => readonly StateResource[]);
  /**
   * The remote clusters (federation discovery) whose discovered ranges this
   * rule's validation reads for this object, among `unsynced`: the remotes
   * under discovery that are not current (never empty when called). While
   * one is returned, the rule is not run and answers the policy's
   * `unsynced`, naming it; an object that involves no such remote is
   * checked as usual. Only called when some remote is unsynced.
   */
  remotes?(input: RuleInput<HandledObjects[K]>, unsynced: ReadonlyMap<string, string>): readonly string[];
  /** Checks the object: deny and warn findings. */
  validate?(input: RuleInput<HandledObjects[K]>): Finding[];
  /** Defaults fields; must be idempotent (an already mutated object yields an empty patch). */
  mutate?(input: RuleInput<HandledObjects[K]>): Mutation;
}

/** A rule of any kind, as kept in the registry. */
export type AnyRule = { [K in HandledKind]: Rule<K> }[HandledKind];

/** An empty mutation, for rules with nothing to change. */
export function noMutation(): Mutation {
  return { patch: [], findings: [] };
}
