/**
 * The process logger (pino, JSON lines on stdout). Secret-bearing field names
 * are redacted wherever they appear up to three levels deep, as a second line of
 * defence: no code path logs an admitted object.
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { RCC_SECRET_FIELDS } from '../kube/calico.js';

const SECRET_KEYS = [...RCC_SECRET_FIELDS, 'password', 'token'];

export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const paths = SECRET_KEYS.flatMap((k) => [`["${k}"]`, `*["${k}"]`, `*.*["${k}"]`, `*.*.*["${k}"]`]);
  const options = {
    level,
    base: { app: 'remote-cluster-guard' },
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths, censor: '[REDACTED]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
