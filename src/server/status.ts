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
