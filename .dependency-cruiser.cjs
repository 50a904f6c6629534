/**
 * Import direction between the top-level folders of src/ (run by `make lint`).
 * Each folder may import itself and the folders listed before it, never one
 * after it: helpers at the bottom, the rules above the engine that runs them,
 * the server and the CLI at the top, feeding them. No cycles anywhere.
 */
const LAYERS = [
  ['common'], // text, field paths, memoisation: no knowledge of the product
  ['net'], // CIDR maths
  ['kube'], // Kubernetes object types, the admitted kinds
  ['log'], // the process logger
  ['config', 'certs'], // policy and configuration file; serving certificates
  ['state'], // cluster state: in memory, and its live feed
  ['engine'], // runs rules on an engine request
  ['rules', 'admission', 'reports'], // the rules; the AdmissionReview protocol; policy reports built from audit results (pure)
  ['server'], // HTTPS endpoints, metrics, decision log
  ['cli'], // commands: wiring only
];

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'Import cycles make load order and layering fragile.',
    from: {},
    to: { circular: true },
  },
  { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
];
LAYERS.forEach((layer, rank) => {
  const above = LAYERS.slice(rank + 1).flat();
  const peers = layer.filter((f) => layer.length > 1 && f);
  for (const folder of layer) {
    const banned = [...above, ...peers.filter((p) => p !== folder)];
    if (banned.length === 0) continue;
    forbidden.push({
      name: `layer-${folder}`,
      severity: 'error',
      comment: `src/${folder} may import only ${['itself', ...LAYERS.slice(0, rank).flat()].join(', ')}`,
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${banned.join('|')})/` },
    });
  }
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
