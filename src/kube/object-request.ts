/**
 * An object on its way into the API server, reduced to what the rules need:
 * the engine request. The webhook builds it from an AdmissionRequest, the CLI
 * from a manifest, the audit from a stored object; all three through
 * `objectRequest`, so a manifest is judged as the API server would send it.
 */
import { parseApiVersion } from './meta.js';

export interface ObjectRequest {
  /** API group and kind of the object (`request.kind` in an AdmissionReview); "" when unknown. */
  group: string;
  kind: string;
  /** CREATE, UPDATE, DELETE or CONNECT; only CREATE and UPDATE are checked. */
  operation: string;
  /** The namespace the object is stored in: its `metadata.namespace`, else the request's; "" for cluster-scoped objects. */
  namespace: string;
  /** `metadata.name`, else the request's; may be "" on CREATE with generateName. */
  name: string;
  /** The object as sent (untrusted: decoded by the engine). */
  object: unknown;
  /** The stored object, on UPDATE. */
  oldObject?: unknown;
}

export interface ObjectRequestOptions {
  /** The admission operation, as the API server names it. */
  operation: string;
  oldObject?: unknown;
  /** Namespace of an object that has none: the AdmissionRequest's `namespace`, or the CLI's `--namespace`. Default "". */
  namespace?: string;
  /** Name of an object that has none: the AdmissionRequest's `name`. Default "". */
  name?: string;
  /**
   * Group and kind as the API server names them (`AdmissionRequest.kind`, which
   * is also there on DELETE, when there is no object); default: the object's
   * own `apiVersion` and `kind`.
   */
  kind?: { group: string; kind: string };
}

/** The string at `value`, or "" when it is missing or not a string (input is untrusted). */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The engine request for `object`; never throws, whatever `object` holds. */
export function objectRequest(object: unknown, opts: ObjectRequestOptions): ObjectRequest {
  const o = typeof object === 'object' && object !== null ? (object as { apiVersion?: unknown; kind?: unknown; metadata?: unknown }) : {};
  const meta = typeof o.metadata === 'object' && o.metadata !== null ? (o.metadata as { namespace?: unknown; name?: unknown }) : {};
  const request: ObjectRequest = {
    group: opts.kind ? opts.kind.group : parseApiVersion(text(o.apiVersion)).group,
    kind: opts.kind ? opts.kind.kind : text(o.kind),
    operation: opts.operation,
    namespace: text(meta.namespace) || (opts.namespace ?? ''),
    name: text(meta.name) || (opts.name ?? ''),
    object,
  };
  if (opts.oldObject !== undefined) request.oldObject = opts.oldObject;
  return request;
}
