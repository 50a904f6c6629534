/**
 * `calico-rcc-overlay-default` (mutate, warn): defaults
 * `spec.syncOptions.overlayRoutingMode` of a RemoteClusterConfiguration the
 * way Calico's own client does, when the webhook can compute it exactly.
 *
 * Source: Calico Enterprise libcalico-go/lib/clientv3/remoteclusterconfig.go
 * `(remoteClusterConfiguration).defaultOverlayRoutingMode`, called from
 * `Create` and `Update` when the field is "" (tigera/api
 * pkg/apis/projectcalico/v3/remoteclusterconfig.go documents it on
 * `RemoteClusterSyncOptions.OverlayRoutingMode`). Its inputs, in order:
 *
 * 1. FelixConfiguration `default`: `wireguardEnabled` or `wireguardEnabledV6`
 *    true → `Enabled` (a missing FelixConfiguration counts as neither);
 * 2. every IPPool: one whose `vxlanMode` is not `Never` (unset counts,
 *    disabled pools too) → `Enabled`;
 * 3. otherwise `Disabled`.
 *
 * The webhook's state has no FelixConfiguration, so only step 2 can be
 * answered exactly: with a VXLAN pool the result is `Enabled` whatever
 * WireGuard says, and this rule sets it. Without one the answer depends on
 * WireGuard, so this rule sets nothing and warns; Calico's own default then
 * applies (the client's, through `projectcalico.org/v3`; the CRD schema's
 * `Disabled` through a crd/v1 CRD generated with it). Setting `Disabled`
 * there, as this rule did before, contradicted Calico whenever WireGuard was
 * on.
 *
 * The validator's `oneof=Enabled Disabled` is mirrored in
 * `calico-rcc-datastore`, not here: this rule reads IPPools (`needs`), and a
 * plain value check must not wait for the IPPool informer to sync.
 *
 * Runs on CREATE and UPDATE. Idempotent: a set value (any non-empty string)
 * is never touched, so a reinvocation yields no patch. An empty string counts
 * as unset (Go's omitempty) and is replaced. Missing `spec` / `syncOptions`
 * objects are added with the value inside them.
 *
 * Note: tigera/api declares a schema default for the field
 * (`+kubebuilder:default=Disabled` on `OverlayRoutingMode`, and
 * `{overlayRoutingMode: "Disabled"}` on `SyncOptions`). A
 * `crd.projectcalico.org/v1` CRD generated with it has the kube-apiserver
 * apply `Disabled` before any mutating webhook; with such a CRD this rule
 * never sees the field unset.
 */
import { warn } from '../../engine/finding.js';
import { fieldPath, jsonPointer } from '../../common/field-path.js';
import { noMutation, type Mutation, type PatchOperation, type Rule, type RuleInput } from '../../engine/rule.js';
import type { RemoteClusterConfiguration } from '../../kube/calico.js';

export const RCC_OVERLAY_DEFAULT_RULE = 'calico-rcc-overlay-default';

export const OVERLAY_ROUTING_MODES = ['Enabled', 'Disabled'] as const;
export type OverlayRoutingMode = (typeof OVERLAY_ROUTING_MODES)[number];

const FIELD = fieldPath(['spec', 'syncOptions', 'overlayRoutingMode']);

function mutate(input: RuleInput<RemoteClusterConfiguration>): Mutation {
  const spec = input.object.spec;
  if (spec?.syncOptions?.overlayRoutingMode) return noMutation();
  if (!input.ctx.state.anyIPPoolWithVXLAN()) {
    return {
      patch: [],
      findings: [
        warn(
          RCC_OVERLAY_DEFAULT_RULE,
          FIELD,
          "not defaulted: no local IPPool uses VXLAN, so Calico's default is Enabled if FelixConfiguration default enables WireGuard " +
            '(wireguardEnabled or wireguardEnabledV6) and Disabled otherwise, and this webhook does not read FelixConfiguration; ' +
            'set overlayRoutingMode to Enabled or Disabled',
        ),
      ],
    };
  }
  const value: OverlayRoutingMode = 'Enabled';
  let op: PatchOperation;
  if (!spec) op = { op: 'add', path: jsonPointer(['spec']), value: { syncOptions: { overlayRoutingMode: value } } };
  else if (!spec.syncOptions) op = { op: 'add', path: jsonPointer(['spec', 'syncOptions']), value: { overlayRoutingMode: value } };
  else op = { op: 'add', path: jsonPointer(['spec', 'syncOptions', 'overlayRoutingMode']), value };
  return { patch: [op], findings: [] };
}

export const rccOverlayDefaultRule: Rule<'RemoteClusterConfiguration'> = {
  id: RCC_OVERLAY_DEFAULT_RULE,
  kind: 'RemoteClusterConfiguration',
  summary:
    'Defaults syncOptions.overlayRoutingMode to Enabled when a local IPPool uses VXLAN, as Calico does; otherwise warns, since the default then depends on WireGuard',
  needs: ['IPPool'],
  mutate,
};
