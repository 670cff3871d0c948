{{/* The release-scoped base name, e.g. "assay". */}}
{{- define "assay.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "assay.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* checkov findings accepted for Assay's pods, each with its reason. */}}
{{- define "assay.checkovSkips" -}}
checkov.io/skip1: CKV_K8S_15=images are pinned by digest or an immutable release tag, so IfNotPresent is exact and spares a registry round trip per pod start
checkov.io/skip2: CKV_K8S_35=only the database URLs come as environment variables (ASSAY_<SERVICE>__DATABASE_URL); the process starts no children to inherit them, and the signing key, page and audit secrets are files
{{- if not .Values.image.digest }}
checkov.io/skip3: CKV_K8S_43=no image.digest is set, as in a trial install; production values pin one
{{- end }}
{{- end -}}

{{- define "assay.labels" -}}
app.kubernetes.io/name: assay
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" "registry"). */}}
{{- define "assay.selector" -}}
app.kubernetes.io/name: assay
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* An egress rule to the cluster's DNS, which every pod needs to find anything else. */}}
{{- define "assay.egressDns" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  to:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicy.egress.dnsNamespaceSelector | nindent 8 }}
{{- end -}}

{{- define "assay.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "assay.fullname" .)) -}}
{{- end -}}

{{/* The gRPC service a component serves, e.g. assay.registry.v1.RegistryService. */}}
{{- define "assay.grpcService" -}}
{{- $names := dict "registry" "Registry" "screening" "Screening" "cases" "Cases" "lawenforcement" "LawEnforcement" -}}
{{- printf "assay.%s.v1.%sService" . (get $names .) -}}
{{- end -}}

{{/* The in-cluster endpoint of a component. */}}
{{- define "assay.endpoint" -}}
{{- printf "%s://%s-%s:%v" (ternary "https" "http" .root.Values.tls.enabled) (include "assay.fullname" .root) .name .root.Values.grpcPort -}}
{{- end -}}

{{/* The database URLs from the Secret: one service's (call with (dict "root" $ "only"
"cases")), or every service's for the migration Job (dict "root" $ "secret" <its copy>). */}}
{{- define "assay.databaseEnv" -}}
{{- $secret := .secret | default (include "assay.secretName" .root) -}}
{{- $only := .only | default "" -}}
{{- range $name := list "registry" "screening" "cases" "lawenforcement" }}
{{- if or (not $only) (eq $only $name) }}
- name: ASSAY_{{ upper $name }}__DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $name }}-database-url
{{- end }}
{{- end }}
{{- end -}}

{{/* The Secret the migration Job reads: the operator's, else the chart's hook copy. */}}
{{- define "assay.migrateSecretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-migrate-secrets" (include "assay.fullname" .)) -}}
{{- end -}}
