/** A KubeConfig for a plain-HTTP stand-in of the API server on 127.0.0.1 (unit tests; e2e tests use the real one). */
import { KubeConfig } from '@kubernetes/client-node';

export function kubeConfigFor(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}
