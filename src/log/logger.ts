/**
 * The process logger (pino, JSON lines). Levels are words (`"level":"warn"`),
 * which log shippers and SIEM parsers read without pino's number table. Secret-
 * bearing field names are redacted wherever they appear up to three levels
 * deep, as a second line of defence: no code path logs an admitted object.
 */
import { hostname } from 'node:os';
import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { RCC_SECRET_FIELDS } from '../kube/calico.js';

/** Field names whose values never reach a log line. */
export const SECRET_KEYS: readonly string[] = [...RCC_SECRET_FIELDS, 'password', 'token'];

/** The webhook's pod name (`POD_NAME` from the downward API), else the host name (a pod's is its name). */
export function podName(env: NodeJS.ProcessEnv = process.env): string {
  return env['POD_NAME'] || hostname();
}

export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const paths = SECRET_KEYS.flatMap((k) => [`["${k}"]`, `*["${k}"]`, `*.*["${k}"]`, `*.*.*["${k}"]`]);
  const options = {
    level,
    base: { app: 'remote-cluster-guard', pod: podName() },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths, censor: '[REDACTED]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
