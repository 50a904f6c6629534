/**
 * `calico-rcc-overlay-default` (mutate): defaults
 * `spec.syncOptions.overlayRoutingMode` of a RemoteClusterConfiguration the
 * way Calico's own client does.
 *
 * Source: tigera/api pkg/apis/projectcalico/v3/remoteclusterconfig.go, the
 * doc comment of `RemoteClusterSyncOptions.OverlayRoutingMode` (when unset on
 * create or update, the field defaults from the local cluster's
 * encapsulation: Enabled with VXLAN, Disabled otherwise), and Calico
 * Enterprise libcalico-go/lib/clientv3/remoteclusterconfig.go
 * `defaultOverlayRoutingMode` (called from `Create` and `Update`): `Enabled`
 * when any IPPool in the state has a `vxlanMode` other than `Never` (unset
 * counts, disabled pools too), else `Disabled`. That is the client's rule up
 * to early 2025; since then it first answers `Enabled` when FelixConfiguration
 * `default` has `wireguardEnabled` or `wireguardEnabledV6` true. This rule
 * reads no FelixConfiguration: with WireGuard on and no VXLAN pool it sets
 * `Disabled` where Calico Enterprise sets `Enabled`. The validator's
 * `oneof=Enabled Disabled` is mirrored in `calico-rcc-datastore`, not here:
 * this rule reads IPPools (`needs`), and a plain value check must not wait
 * for the IPPool informer to sync.
 *
 * Runs on CREATE and UPDATE. Idempotent: a set value (any non-empty string) is
 * never touched, so a reinvocation yields no patch. An empty string counts as
 * unset (Go's omitempty) and is replaced. Missing `spec` / `syncOptions`
 * objects are added with the value inside them.
 *
 * Note: tigera/api declares a schema default for the field
 * (`+kubebuilder:default=Disabled` on `OverlayRoutingMode`, and
 * `{overlayRoutingMode: "Disabled"}` on `SyncOptions`). A
 * `crd.projectcalico.org/v1` CRD generated with it has the kube-apiserver
 * apply `Disabled` before any mutating webhook; with such a CRD this rule
 * never sees the field unset.
 */
import { jsonPointer } from '../../common/field-path.js';
import { noMutation, type Mutation, type PatchOperation, type Rule, type RuleInput } from '../../engine/rule.js';
import type { RemoteClusterConfiguration } from '../../kube/calico.js';

export const RCC_OVERLAY_DEFAULT_RULE = 'calico-rcc-overlay-default';

export const OVERLAY_ROUTING_MODES = ['Enabled', 'Disabled'] as const;
export type OverlayRoutingMode = (typeof OVERLAY_ROUTING_MODES)[number];

function mutate(input: RuleInput<RemoteClusterConfiguration>): Mutation {
  const spec = input.object.spec;
  if (spec?.syncOptions?.overlayRoutingMode) return noMutation();
  const value: OverlayRoutingMode = input.ctx.state.anyIPPoolWithVXLAN() ? 'Enabled' : 'Disabled';
  let op: PatchOperation;
  if (!spec) op = { op: 'add', path: jsonPointer(['spec']), value: { syncOptions: { overlayRoutingMode: value } } };
  else if (!spec.syncOptions) op = { op: 'add', path: jsonPointer(['spec', 'syncOptions']), value: { overlayRoutingMode: value } };
  else op = { op: 'add', path: jsonPointer(['spec', 'syncOptions', 'overlayRoutingMode']), value };
  return { patch: [op], findings: [] };
}

export const rccOverlayDefaultRule: Rule<'RemoteClusterConfiguration'> = {
  id: RCC_OVERLAY_DEFAULT_RULE,
  kind: 'RemoteClusterConfiguration',
  summary: 'Defaults syncOptions.overlayRoutingMode as Calico does: Enabled when a local IPPool uses VXLAN, else Disabled',
  needs: ['IPPool'],
  mutate,
};
