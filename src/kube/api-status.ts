/**
 * The HTTP status of a failed Kubernetes API call, as @kubernetes/client-node
 * reports it: an `ApiException` carries the answer's status in `code`. Errors
 * without one (a refused connection, a timeout, a bug) had no answer.
 */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}
