/**
 * Protocol-level errors (not decisions): a `metav1.Status` body with a 4xx or
 * 5xx code and a one-line message, never a stack trace.
 */
import type { ServerResponse } from 'node:http';
import { oneLine } from '../common/text.js';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  408: 'Timeout',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export function statusBody(code: number, message: string) {
  return { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason: REASONS[code] ?? 'Unknown', message: oneLine(message) };
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendStatus(res: ServerResponse, code: number, message: string): void {
  sendJson(res, code, statusBody(code, message));
}

/** Seconds a shed request is told to wait before retrying (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 1;

/**
 * 429 with `Retry-After`, for a request refused for want of capacity before
 * its body was read: the connection is closed after it (the unread body
 * would otherwise be the next request). The kube-apiserver's webhook client
 * retries a 429 whose Status carries `details.retryAfterSeconds`.
 */
export function shed(res: ServerResponse, message: string): void {
  res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
  res.setHeader('connection', 'close');
  sendJson(res, 429, { ...statusBody(429, message), details: { retryAfterSeconds: RETRY_AFTER_SECONDS } });
}
