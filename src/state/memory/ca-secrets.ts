/**
 * Reduction of a Secret to a CaSecret: each data key's PEM certificates,
 * inspected once when the Secret arrives, so no Secret data stays in memory
 * (a mounted Secret may hold private keys beside the CA).
 */
import { inspectPemBundle } from '../../certs/pem-bundle.js';
import type { Secret } from '../../kube/core.js';
import type { CaSecret } from '../eck-state.js';

/** `data` (base64, as the API serves it) then `stringData` (manifests never applied; it wins, as the API server merges it). */
export function reduceSecret(secret: Secret): CaSecret {
  const keys: CaSecret['keys'] = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) keys[k] = inspectPemBundle(Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) keys[k] = inspectPemBundle(v);
  return { metadata: structuredClone(secret.metadata), keys };
}
