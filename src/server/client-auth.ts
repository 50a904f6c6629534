/**
 * Caller authentication past the TLS handshake. With `--client-ca` the
 * handshake already refuses a client without a certificate that CA signed
 * (src/certs/serving-certificate.ts); this checks the certificate's subject
 * common name against `--client-cn`, as Gatekeeper's `--client-ca-name` and
 * `--client-cn-name` (default kube-apiserver) do
 * (https://open-policy-agent.github.io/gatekeeper/website/docs/externaldata/#authenticate-the-api-server-against-webhook-self-managed-k8s-cluster-only),
 * so another client of a shared CA cannot post reviews. The kube-apiserver
 * presents its client certificate through an AdmissionConfiguration
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#authenticate-apiservers).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The common name(s) of a certificate subject: node gives a string, or an array when the subject holds several. */
function commonNames(socket: TLSSocket): string[] {
  const cn = socket.getPeerCertificate().subject?.CN as string | string[] | undefined;
  return cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
}

/**
 * A check of the request's client certificate: undefined when its subject CN
 * is one of `allowed`, else why not (the 403 message). Decided once per
 * connection (getPeerCertificate builds an object each call).
 */
export function clientNameCheck(allowed: readonly string[]): (req: IncomingMessage) => string | undefined {
  const names = new Set(allowed);
  const decided = new WeakMap<object, string | undefined>();
  return (req) => {
    const socket = req.socket as Partial<TLSSocket>;
    if (decided.has(socket)) return decided.get(socket);
    let refusal: string | undefined;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) refusal = 'a client certificate is required';
    else {
      const cns = commonNames(socket as TLSSocket);
      if (!cns.some((cn) => names.has(cn)))
        refusal = `client certificate CN ${cns.length ? cns.join(', ') : '(none)'} is not allowed (allowed: ${[...names].join(', ')})`;
    }
    decided.set(socket, refusal);
    return refusal;
  };
}
