{{/* The objects' name: the release's, or release-chart when the release name lacks the chart's. */}}
{{- define "remediator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "remediator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "remediator.labels" -}}
{{ include "remediator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "remediator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "remediator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* One tag scheme: vX.Y.Z, as the release tags the image. */}}
{{- define "remediator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default (printf "v%s" .Chart.AppVersion) .Values.image.tag) -}}
{{- end -}}

{{/* The configuration, with the paths the chart mounts. */}}
{{- define "remediator.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $_ := set $cfg "state_dir" "/var/lib/remediator" -}}
{{- $_ := set $cfg "listen" "0.0.0.0:8080" -}}
{{- $_ := set $cfg "signing" (dict "key_file" "/etc/remediator/signing/key") -}}
{{- toYaml $cfg -}}
{{- end -}}
