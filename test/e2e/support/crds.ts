/** The test CRDs of test/e2e/crds/, installed into a test cluster the one way every suite needs them. */
import { join } from 'node:path';
import type { TestCluster } from '../harness/cluster.js';

/** test/e2e/crds/, where the CRD files are. */
export const CRDS_DIR = join(import.meta.dirname, '../crds');

/**
 * Applies the CRD files `files` (names in test/e2e/crds/) and waits until every
 * CRD of the cluster is Established, so the next request of one of their kinds
 * is served. Throws with kubectl's message when an apply fails or a CRD is not
 * Established within about a minute.
 */
export async function installCrds(cluster: Pick<TestCluster, 'kubectlRun'>, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const r = await cluster.kubectlRun(['apply', '-f', join(CRDS_DIR, file)], { allowFail: true });
    if (r.code !== 0) throw new Error(`kubectl apply -f ${file}: ${r.stderr}`);
  }
  // A CRD read before the API server has set its first condition fails `kubectl wait` at once: ask again.
  for (let attempt = 1; ; attempt++) {
    const r = await cluster.kubectlRun(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all'], { allowFail: true });
    if (r.code === 0) return;
    if (attempt === 20) throw new Error(`CRDs not Established: ${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
