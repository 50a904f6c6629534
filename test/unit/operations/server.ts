/**
 * The real server for the operations suites: `runServe` on 127.0.0.1, port
 * 0, with manifest state and a temporary certificate, and an HTTPS client
 * that trusts its CA.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { certPaths, ensureCertificates } from '../../../src/certs/files.js';
import { issueServingCertificate } from '../../../src/certs/generate.js';
import { runServe, type RunningServer, type ServeOptions } from '../../../src/cli/serve.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../../src/server/admission-handler.js';
import { reviewOf, type ReviewOptions } from '../../helpers/reviews.js';
import { LICENSE, tempDir } from './support.js';

/** A certificate directory (CA + serving certificate) made once per test file. */
let sharedCertDir: string | undefined;
export function certDir(): string {
  if (!sharedCertDir) {
    sharedCertDir = tempDir('certs');
    ensureCertificates(sharedCertDir, { service: 'remote-cluster-guard', namespace: 'remote-cluster-guard', validityDays: 30 });
  }
  return sharedCertDir;
}

/** A new serving certificate from the shared CA, valid `validityDays`; PEM texts and serial number. */
export function issue(validityDays: number): { cert: string; key: string; serialNumber: string; notAfter: number } {
  const paths = certPaths(certDir());
  const authority = { caCert: readFileSync(paths.caCert, 'utf-8'), caKey: readFileSync(paths.caKey, 'utf-8') };
  const b = issueServingCertificate(authority, { service: 'remote-cluster-guard', namespace: 'remote-cluster-guard', validityDays });
  const x509 = new X509Certificate(b.cert);
  return { cert: b.cert, key: b.key, serialNumber: x509.serialNumber, notAfter: Date.parse(x509.validTo) };
}

/** Writes a certificate and key as tls.crt/tls.key in a new directory; returns their paths. */
export function tlsFiles(pair: { cert: string; key: string }): { tlsCert: string; tlsKey: string } {
  const dir = tempDir('tls');
  const tlsCert = join(dir, 'tls.crt');
  const tlsKey = join(dir, 'tls.key');
  writeFileSync(tlsCert, pair.cert);
  writeFileSync(tlsKey, pair.key, { mode: 0o600 });
  return { tlsCert, tlsKey };
}

/** `runServe` on 127.0.0.1, port 0, silent, no shutdown delay, the Enterprise licence as state; `opts` override. */
export function serve(opts: Partial<ServeOptions> = {}): Promise<RunningServer> {
  const defaults: ServeOptions = {
    port: 0,
    host: '127.0.0.1',
    certDir: certDir(),
    // Never an empty list: with none, KUBECONFIG or a Pod's service account would make it watch a cluster.
    state: [LICENSE],
    unsynced: 'deny',
    ratcheting: true,
    operatorNamespace: 'elastic-system',
    logLevel: 'silent',
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    auditInterval: 0,
    shutdownDelay: 0,
    rules: ALL_RULES,
    // Certificate management (off here) has required settings of its own.
    manageCerts: false,
    certNamespace: 'remote-cluster-guard',
    certSecret: 'remote-cluster-guard-certs',
    webhookConfiguration: 'remote-cluster-guard',
    certValidityDays: 365,
    certRenewBeforeDays: 30,
    certCheckIntervalSeconds: 3600,
  };
  return runServe({ ...defaults, ...opts });
}

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The server certificate presented on the connection that carried the request. */
  peer: { serialNumber: string; validTo: string };
  socket: TLSSocket;
  reusedSocket: boolean;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** An agent to reuse connections; a new connection (no keep-alive) otherwise. */
  agent?: https.Agent;
  /** The CA file to trust; the shared certDir's by default. */
  ca?: string | Buffer;
  /** A client certificate and key (PEM) to present. */
  cert?: string;
  key?: string;
}

export function caOf(dir = certDir()): Buffer {
  return readFileSync(join(dir, 'ca.crt'));
}

/** One HTTPS request to 127.0.0.1:`port`. */
export function httpsRequest(port: number, path: string, o: RequestOptions = {}): Promise<HttpsResult> {
  const text = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? (text === undefined ? 'GET' : 'POST'),
        ca: o.ca ?? caOf(),
        ...(o.cert ? { cert: o.cert, key: o.key } : {}),
        agent: o.agent ?? false,
        headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        timeout: 5000,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const cert = socket.getPeerCertificate();
        let body = '';
        res.setEncoding('utf-8');
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            peer: { serialNumber: cert.serialNumber, validTo: cert.valid_to },
            socket,
            reusedSocket: req.reusedSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`request to ${path} timed out`)));
    req.end(text);
  });
}

/** POSTs an AdmissionReview of `object` to `/validate` (or `path`); returns the parsed response. */
export async function admit(port: number, object: unknown, review: ReviewOptions & { path?: string; agent?: https.Agent } = {}) {
  const r = await httpsRequest(port, review.path ?? '/validate', {
    body: reviewOf(object, review),
    ...(review.agent ? { agent: review.agent } : {}),
  });
  if (r.status !== 200) throw new Error(`${review.path ?? '/validate'} answered ${r.status}: ${r.body}`);
  const doc = JSON.parse(r.body) as { response: AdmissionResponseJson };
  return doc.response;
}

export interface AdmissionResponseJson {
  uid: string;
  allowed: boolean;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  status?: { code: number; reason: string; message: string };
  patch?: string;
}

export async function metricsText(port: number): Promise<string> {
  const r = await httpsRequest(port, '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return r.body;
}

/** One plain HTTP GET to 127.0.0.1:`port` (the metrics and probe ports). */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf-8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}
