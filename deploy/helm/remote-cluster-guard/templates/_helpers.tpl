{{/* Chart name, 63 characters at most (a DNS label). */}}
{{- define "rcg.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of every object: the release name when it contains the chart name
(release `remote-cluster-guard` gives `remote-cluster-guard`, as deploy/ names
them), else `<release>-<chart>`.
*/}}
{{- define "rcg.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rcg.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rcg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rcg.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "rcg.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: remote-cluster-guard
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The image reference: the digest wins over the tag, which defaults to appVersion. */}}
{{- define "rcg.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret the webhook serves from in the certManager and secret modes. */}}
{{- define "rcg.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "secret" }}
{{- .Values.certificates.secret.name }}
{{- else }}
{{- printf "%s-tls" (include "rcg.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Checks what an install needs before Helm creates anything; renders nothing,
or fails with one line. Included by the Deployment (every mode renders it).
A failure here matters: once Helm starts creating, an object that fails does
not stop the others, so a failed install would still leave both webhook
configurations behind (Helm 4 pkg/kube/client.go batchPerform creates
every kind and reports the errors at the end).
*/}}
{{- define "rcg.preflight" -}}
{{- include "rcg.checkCertificates" . }}
{{- if and (has "audit" .Values.events) (not .Values.auditIntervalSeconds) }}
{{- fail "events: audit needs the periodic audit: set auditIntervalSeconds above 0" }}
{{- end }}
{{- if and .Values.clientAuth.commonNames (not .Values.clientAuth.caConfigMap) }}
{{- fail "clientAuth.commonNames needs clientAuth.caConfigMap (the CA of the client certificates whose CNs they are)" }}
{{- end }}
{{- /* lookup only answers when Helm talks to a cluster (install, upgrade): helm template and lint get an empty map, for kube-system too. */}}
{{- if and (lookup "v1" "Namespace" "" "kube-system") (not (lookup "v1" "Namespace" "" .Values.config.operatorNamespace)) }}
{{- fail (printf "config.operatorNamespace: the namespace %s does not exist, and the licence-reader Role goes there: install ECK first, create the namespace, or set config.operatorNamespace to ECK's operator namespace" .Values.config.operatorNamespace) }}
{{- end }}
{{- if and .Values.federationDiscovery.enabled (lookup "v1" "Namespace" "" "kube-system") (not (lookup "v1" "Namespace" "" .Values.federationDiscovery.secretNamespace)) }}
{{- fail (printf "federationDiscovery.secretNamespace: the namespace %s does not exist, and the federation Secret reader Role goes there: set it to the namespace of the RemoteClusterConfigurations' clusterAccessSecrets" .Values.federationDiscovery.secretNamespace) }}
{{- end }}
{{- end }}

{{/* The certificate mode's requirements: cert-manager's API, or the Secret and its caBundle. */}}
{{- define "rcg.checkCertificates" -}}
{{- $mode := .Values.certificates.mode }}
{{- if eq $mode "certManager" }}
{{- if not (.Capabilities.APIVersions.Has "cert-manager.io/v1") }}
{{- fail "certificates.mode=certManager needs cert-manager, but this cluster does not serve cert-manager.io/v1: install cert-manager, or choose certificates.mode selfManaged or secret (helm template: add --api-versions cert-manager.io/v1)" }}
{{- end }}
{{- else if eq $mode "secret" }}
{{- if or (not .Values.certificates.secret.name) (not .Values.certificates.secret.caBundle) }}
{{- fail "certificates.mode=secret needs certificates.secret.name (an existing kubernetes.io/tls Secret in the release namespace) and certificates.secret.caBundle (the CA that signed it, PEM or base64)" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Both webhooks' namespaceSelector: the release namespace, kube-system and
webhook.excludedNamespaces are never sent to the webhook, plus the extra
labels and expressions.
*/}}
{{- define "rcg.namespaceSelector" -}}
{{- $excluded := concat (list "kube-system" .Release.Namespace) .Values.webhook.excludedNamespaces | uniq }}
{{- with .Values.webhook.namespaceSelector.matchLabels }}
matchLabels:
  {{- toYaml . | nindent 2 }}
{{- end }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- toYaml $excluded | nindent 6 }}
  {{- with .Values.webhook.namespaceSelector.matchExpressions }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
The fields both webhooks share, after `name:`. The rules come from
files/webhook-rules.yaml, the one list of admitted kinds and operations.
caBundle: written by the webhook itself (selfManaged) or cert-manager's CA
injector (certManager), so the chart leaves the field out and a `helm upgrade`
keeps what they wrote; given in the values with mode `secret`.
*/}}
{{- define "rcg.webhookCommon" -}}
{{- $root := index . 0 }}
{{- $path := index . 1 }}
admissionReviewVersions: ['v1']
sideEffects: None
timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
failurePolicy: {{ $root.Values.webhook.failurePolicy }}
matchPolicy: Equivalent
clientConfig:
  service:
    name: {{ include "rcg.fullname" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: {{ $path }}
    port: 443
  {{- if eq $root.Values.certificates.mode "secret" }}
  {{- $ca := $root.Values.certificates.secret.caBundle | trim }}
  caBundle: {{ if hasPrefix "-----BEGIN" $ca }}{{ $ca | b64enc }}{{ else }}{{ $ca | nospace }}{{ end }}
  {{- end }}
namespaceSelector:
  {{- include "rcg.namespaceSelector" $root | trim | nindent 2 }}
{{- with $root.Values.webhook.objectSelector }}
objectSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
rules:
  {{- $root.Files.Get "files/webhook-rules.yaml" | fromYamlArray | toYaml | nindent 2 }}
{{- end }}
