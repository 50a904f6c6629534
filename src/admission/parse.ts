/**
 * Checks the envelope of an incoming AdmissionReview. The object inside is not
 * checked here (the engine decodes it per kind); only what the protocol needs:
 * apiVersion, kind, `request.uid`, `request.kind`, `request.operation`.
 */
import { z } from 'zod';
import { ADMISSION_API_VERSION, type AdmissionRequest } from './types.js';

const Kind = z.object({ group: z.string(), version: z.string(), kind: z.string() });

const Request = z.object({
  uid: z.string().min(1),
  kind: Kind,
  // For the decision log only.
  resource: z.object({ group: z.string(), version: z.string(), resource: z.string() }).optional(),
  subResource: z.string().optional(),
  requestKind: Kind.optional(),
  operation: z.string(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  userInfo: z
    .object({
      username: z.string().optional(),
      uid: z.string().optional(),
      groups: z.array(z.string()).optional(),
    })
    .optional(),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
  dryRun: z.boolean().optional(),
});

export type ParseResult = { ok: true; request: AdmissionRequest } | { ok: false; reason: string };

/**
 * Parses the JSON text of a request body into an AdmissionRequest, or gives a
 * one-line reason for a 400 answer.
 */
export function parseAdmissionReview(body: string): ParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, reason: 'body is not a JSON object' };
  }
  const { apiVersion, kind, request } = doc as Record<string, unknown>;
  if (kind !== 'AdmissionReview') return { ok: false, reason: 'kind must be AdmissionReview' };
  if (apiVersion !== ADMISSION_API_VERSION) {
    return {
      ok: false,
      reason: `apiVersion ${JSON.stringify(String(apiVersion)).slice(0, 80)} is not supported; use ${ADMISSION_API_VERSION}`,
    };
  }
  if (typeof request !== 'object' || request === null) return { ok: false, reason: 'request is missing' };
  const parsed = Request.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = ['request', ...issue.path.map(String)].join('.');
    return { ok: false, reason: `${path}: ${issue.message.replace(/^Invalid input:\s*/, '')}` };
  }
  return { ok: true, request: parsed.data as AdmissionRequest };
}
