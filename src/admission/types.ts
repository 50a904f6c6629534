/**
 * `admission.k8s.io/v1` AdmissionReview, the subset this webhook reads and
 * writes. Source: k8s.io/api/admission/v1 types.go.
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: GroupVersionResource;
  subResource?: string;
  /** The kind the client asked for, when the API server converted the request to `kind` (`matchPolicy: Equivalent`). */
  requestKind?: GroupVersionKind;
  /** CREATE, UPDATE, DELETE or CONNECT. */
  operation: string;
  namespace?: string;
  name?: string;
  userInfo?: UserInfo;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

/** `metav1.Status` for a denial: `details.causes` carries one entry per finding. */
export interface Status {
  code: number;
  reason: string;
  message: string;
  details?: { causes: { reason: string; message: string; field: string }[] };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: Status;
  warnings?: string[];
  patchType?: 'JSONPatch';
  /** base64 of an RFC 6902 JSON Patch array. */
  patch?: string;
  /** Recorded by the kube-apiserver in its audit log as `<webhook name>/<key>`. */
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}
